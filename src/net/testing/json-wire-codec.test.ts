import { describe, expect, it } from 'vitest';
import type { RoundStartMessage } from '../../fl/protocol';
import { createJsonWireCodec } from './json-wire-codec';

const roundStart = (floats: number): RoundStartMessage => ({
  type: 'round-start',
  v: 1,
  version: 0,
  assignment: 1,
  model: { kind: 'mlp' } as unknown as RoundStartMessage['model'],
  strategy: { kind: 'fedavg' } as unknown as RoundStartMessage['strategy'],
  train: { localEpochs: 1, batchSize: 32, learningRate: 0.01, seed: 7 },
  weights: [{ name: 'w', shape: [floats], values: Float32Array.from({ length: floats }, (_, i) => i / 7) }],
});

describe('JSON WireCodec test double', () => {
  it('splits a large message into frames within the limit and reassembles it exactly', () => {
    const codec = createJsonWireCodec(1000);
    const message = roundStart(500);
    const frames = codec.encode(message);
    expect(frames.length).toBeGreaterThan(3);
    for (const f of frames) expect(f.byteLength).toBeLessThanOrEqual(1000);
    const decoder = codec.createDecoder();
    const results = frames.map((f) => decoder.push(f));
    expect(results.slice(0, -1).every((r) => r.messages.length === 0)).toBe(true);
    const [decoded] = results[results.length - 1].messages as RoundStartMessage[];
    expect(decoded.weights[0].values).toBeInstanceOf(Float32Array);
    expect(decoded).toEqual(message);
  });

  it('reports bad frames as errors and recovers for the next message', () => {
    const codec = createJsonWireCodec();
    const decoder = codec.createDecoder();
    expect(decoder.push(new Uint8Array(0)).errors).toEqual(['json codec: empty frame']);
    expect(decoder.push(new Uint8Array([7, 1])).errors).toEqual(['json codec: unknown frame flag 7']);
    expect(decoder.push(new Uint8Array([0, 0x5b, 0x5d])).errors).toEqual(['json codec: decoded value has no string "type"']);
    const [frame] = codec.encode({ type: 'bye', v: 1, reason: 'done' });
    expect(decoder.push(frame)).toEqual({ messages: [{ type: 'bye', v: 1, reason: 'done' }], errors: [] });
  });

  it('refuses a message larger than its limit, also after the limit is lowered, and recovers', () => {
    const codec = createJsonWireCodec(1000);
    const frames = codec.encode(roundStart(500));
    const decoder = codec.createDecoder({ maxMessageBytes: 1500 });
    expect(decoder.push(frames[0]).errors).toEqual([]);
    expect(decoder.push(frames[1]).errors).toEqual(['json codec: message exceeds 1500 bytes']);
    decoder.setMaxMessageBytes!(100_000);
    expect(decoder.push(frames[0]).errors).toEqual([]);
    decoder.setMaxMessageBytes!(500);
    const [bye] = codec.encode({ type: 'bye', v: 1, reason: 'x' });
    expect(decoder.push(bye).messages).toEqual([{ type: 'bye', v: 1, reason: 'x' }]);
  });
});
