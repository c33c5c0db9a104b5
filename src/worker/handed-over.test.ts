import { describe, expect, it } from 'vitest';
import type { WeightSet } from '../fl/weights';
import { handedOverBuffers } from './handed-over';

const set = (...arrays: Float32Array[]): WeightSet => arrays.map((values, i) => ({ name: `t${i}`, shape: [values.length], values }));

describe('handedOverBuffers', () => {
  it('lists the handed-over sets\' buffers once each, never one a kept set shares, none without marks', () => {
    const [a, b, c] = [new Float32Array(2), new Float32Array(3), new Float32Array(4)];
    const shared = new Float32Array(b.buffer); // the kept set below holds b's buffer too
    const sets = [set(a, b), set(a), set(c, shared)];
    expect(handedOverBuffers(sets, [true, true, false])).toEqual([a.buffer]);
    expect(handedOverBuffers(sets, [true, false, true])).toEqual([b.buffer, c.buffer]);
    expect(handedOverBuffers(sets, undefined)).toEqual([]);
  });
});
