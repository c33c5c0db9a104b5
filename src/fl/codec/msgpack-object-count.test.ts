import * as msgpack from '@msgpack/msgpack';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, type Message } from '../protocol';
import type { WeightSet } from '../weights';
import { WIRE_LIMITS, maxObjectsPerMessage, wireLimits } from './limits';
import { encodeMessage, tryDecodeMessage } from './message-codec';
import { msgpackBounds, scanMsgpack } from './msgpack-scan';
import { emptyMapBomb, sampleMessages } from './test-messages';

// The decoder behind tryDecodeMessage, watched: a refused message must never reach it.
vi.mock('@msgpack/msgpack', async (importOriginal) => {
  const real = await importOriginal<typeof import('@msgpack/msgpack')>();
  return { ...real, decode: vi.fn(real.decode) };
});

const bounds = msgpackBounds(WIRE_LIMITS);

afterEach(() => {
  vi.mocked(msgpack.decode).mockClear();
});

/** `sets` weight sets of `tensors` one-value tensors each: the most objects a weight-carrying message can hold. */
function tinySets(sets: number, tensors: number): WeightSet[] {
  return Array.from({ length: sets }, () =>
    Array.from({ length: tensors }, (_, i) => ({ name: `t${i}`, shape: [1], values: new Float32Array([0.5]) })),
  );
}

describe('the object count of a message, checked before anything is decoded', () => {
  it('refuses an 8 MB message of 8.4 million empty maps without calling the msgpack decoder', () => {
    const bomb = emptyMapBomb(8 * 1024 * 1024);
    const result = tryDecodeMessage(bomb, wireLimits({ maxMessageBytes: 16 * 1024 * 1024 }));
    expect(result).toEqual({
      ok: false,
      reason: `message is not valid msgpack: msgpack holds more than ${maxObjectsPerMessage(WIRE_LIMITS)} objects (maps, arrays, strings, binaries)`,
    });
    expect(msgpack.decode).not.toHaveBeenCalled();
  });

  it('decodes every protocol message (the decoder is called for those)', () => {
    for (const m of sampleMessages()) {
      const decoded = tryDecodeMessage(encodeMessage(m, 'float32'));
      expect(decoded.ok, m.type).toBe(true);
    }
    expect(msgpack.decode).toHaveBeenCalledTimes(sampleMessages().length);
  });

  it('counts maps, arrays, strings and binaries, empty ones included, and refuses one past the bound', () => {
    const small = { ...bounds, maxObjects: 10 };
    // An array of nine empty maps: ten objects.
    expect(scanMsgpack(msgpack.encode(Array.from({ length: 9 }, () => ({}))), small)).toBeNull();
    expect(scanMsgpack(msgpack.encode(Array.from({ length: 10 }, () => ({}))), small)).toMatch(/more than 10 objects/);
    expect(scanMsgpack(msgpack.encode([[], [], [], [], [], [], [], [], [], []]), small)).toMatch(/more than 10 objects/);
    expect(scanMsgpack(msgpack.encode(['', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']), small)).toMatch(/more than 10 objects/);
    expect(scanMsgpack(msgpack.encode(Array.from({ length: 10 }, () => new Uint8Array(0))), small)).toMatch(/more than 10 objects/);
    // Numbers, nil and booleans build no object of their own.
    expect(scanMsgpack(msgpack.encode([1, 2.5, null, true, -7, 1e300, 3, 4, 5, 6, 7, 8]), small)).toBeNull();
  });

  it('still refuses deep nesting first, however few objects', () => {
    const deep = new Uint8Array(WIRE_LIMITS.maxNestingDepth + 2).fill(0x91);
    deep[deep.length - 1] = 0xc0;
    expect(scanMsgpack(deep, bounds)).toBe(`msgpack nesting deeper than ${WIRE_LIMITS.maxNestingDepth}`);
  });

  it('admits the protocol messages with the most objects: full server state, full eval-request, largest roster', () => {
    const v = PROTOCOL_VERSION;
    const perSet = WIRE_LIMITS.maxTensorsPerWeightSet;
    const [weights, ...state] = tinySets(1 + WIRE_LIMITS.maxMapEntries, perSet);
    const checkpoint: Message = {
      type: 'checkpoint',
      v,
      term: 1,
      round: 1,
      weights,
      serverState: { strategy: 'fedavg', steps: 1, tensors: Object.fromEntries(state.map((s, i) => [`s${i}`, s])), values: {} },
    };
    const evalRequest: Message = {
      type: 'eval-request',
      v,
      round: 1,
      requestId: 'r',
      model: { kind: 'mlp', inputShape: [1], hidden: [1], numClasses: 2 },
      models: tinySets(WIRE_LIMITS.maxModelsPerEvalRequest, perSet),
    };
    const roster: Message = {
      type: 'roster',
      v,
      term: 1,
      aggregatorId: 'p0',
      round: 1,
      peers: Array.from({ length: WIRE_LIMITS.maxPeers }, (_, i) => ({ id: `p${i}`, name: `tab ${i}`, slot: i, backend: 'cpu', numSamples: 1, labelHistogram: [1] })),
    };
    for (const m of [checkpoint, evalRequest, roster]) {
      expect(scanMsgpack(encodeMessage(m, 'float32'), bounds), m.type).toBeNull();
    }
  });
});
