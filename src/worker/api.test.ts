import { describe, expect, it } from 'vitest';
import { isDataSource } from './api';

const image = { kind: 'image', images: new Uint8Array(2 * 4), shape: [2, 2, 1], labels: Int32Array.from([0, 1]), numClasses: 2 };

describe('isDataSource', () => {
  it('accepts the three kinds of source', () => {
    expect(isDataSource({ kind: 'stored' })).toBe(true);
    expect(isDataSource({ kind: 'datasets', name: 'x', train: image, eval: image })).toBe(true);
    expect(isDataSource({ kind: 'demo', dataUrl: 'http://127.0.0.1/data/', shard: { partition: { kind: 'iid' }, seed: 1, numClients: 3, slot: 2 } })).toBe(true);
  });

  it('rejects malformed sources crossing the worker boundary', () => {
    expect(isDataSource({ kind: 'demo', dataUrl: '/data/', shard: { partition: { kind: 'iid' }, seed: 1, numClients: 3, slot: 3 } })).toBe(false);
    expect(isDataSource({ kind: 'demo', dataUrl: '/data/', shard: { partition: { kind: 'zipf' }, seed: 1, numClients: 3, slot: 0 } })).toBe(false);
    expect(isDataSource({ kind: 'datasets', name: 'x', train: { ...image, images: new Uint8Array(7) }, eval: image })).toBe(false);
    expect(isDataSource({ kind: 'datasets', name: 'x', train: { ...image, labels: [0, 1] }, eval: image })).toBe(false);
    expect(isDataSource({ kind: 'upload' })).toBe(false);
    expect(isDataSource(null)).toBe(false);
  });
});
