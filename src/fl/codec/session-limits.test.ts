import { describe, expect, it } from 'vitest';
import { modelLayout } from '../model-layout';
import { cnnSpec, mlpSpec, tabularSpec, type ModelSpec } from '../model-spec';
import { PROTOCOL_VERSION, type Message, type SessionConfig, type WeightCodecChoice } from '../protocol';
import { strategyWireSets } from '../strategies/wire-sets';
import type { StrategyConfig } from '../strategies/types';
import { sizeOfShape, type WeightSet } from '../weights';
import { WIRE_LIMITS } from './limits';
import { encodeMessage } from './message-codec';
import { msgpackBounds, scanMsgpack } from './msgpack-scan';
import { CONTROL_MESSAGE_LIMIT, sessionMessageLimit } from './session-limits';

const v = PROTOCOL_VERSION;

function config(model: ModelSpec, strategy: StrategyConfig, codec: WeightCodecChoice): SessionConfig {
  return {
    model,
    strategy,
    train: { localEpochs: 1, batchSize: 32, learningRate: 0.05 },
    rounds: 10,
    minClients: 2,
    fraction: 1,
    roundDeadlineMs: 60_000,
    decomposition: 'proxy',
    decompositionEvery: 1,
    codec,
    seed: 1,
    demo: { partition: { kind: 'iid' }, clients: 4 },
  };
}

/** Weights of the model's layout. Values above half precision's range: float16 sessions send them as float32. */
function weightsOf(spec: ModelSpec, scale: number): WeightSet {
  return modelLayout(spec).map((t) => {
    const values = new Float32Array(sizeOfShape(t.shape));
    for (let i = 0; i < values.length; i++) values[i] = scale * Math.sin(i + 1);
    return { name: t.name, shape: [...t.shape], values };
  });
}

const named = (prefix: string, count: number, make: () => WeightSet) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, make()]));

/** The largest messages of each tensor-carrying type the session sends. */
function largestMessages(c: SessionConfig, evalModels: number): Message[] {
  const sets = strategyWireSets(c.strategy);
  const w = () => weightsOf(c.model, 1e5);
  const extras = sets.extras > 0 ? { extras: named('x', sets.extras, w) } : {};
  const metrics = { trainLoss: 0.123456789, evalLoss: 0.987654321, evalAccuracy: 0.5, trainMs: 123456.789, samplesPerSecond: 9876.54321 };
  return [
    { type: 'round-start', v, term: 2 ** 31, version: 2 ** 31 - 1, assignment: 2 ** 31, model: c.model, strategy: c.strategy, train: { ...c.train, seed: -(2 ** 40) }, weights: w(), ...extras },
    { type: 'update', v, assignment: 2 ** 31, delta: w(), numSamples: 2 ** 40, metrics, ...extras },
    { type: 'checkpoint', v, term: 2 ** 31, round: 2 ** 31, weights: w(), serverState: { strategy: c.strategy.name, steps: 2 ** 31, tensors: named('s', sets.serverState, w), values: {} } },
    { type: 'eval-request', v, round: 2 ** 31, requestId: 'r'.repeat(WIRE_LIMITS.maxStringLength), model: c.model, models: Array.from({ length: evalModels }, w) },
  ];
}

describe('sessionMessageLimit', () => {
  const models = { 'MNIST MLP': mlpSpec([28, 28, 1], 10, [64]), CNN: cnnSpec([28, 28, 1], 10), tabular: tabularSpec(30, 5) };
  const strategies: StrategyConfig[] = [
    { name: 'fedavg' },
    { name: 'fedprox', serverOpt: 'avgm' },
    { name: 'fedld', serverOpt: 'adam' },
    { name: 'scaffold' },
    { name: 'scaffold', serverOpt: 'adam' },
  ];
  for (const [modelName, model] of Object.entries(models)) {
    for (const strategy of strategies) {
      for (const codec of ['float32', 'float16', 'int8'] as const) {
        it(`admits the largest messages of a ${modelName} session with ${JSON.stringify(strategy)} in ${codec}, with little to spare`, () => {
          const c = config(model, strategy, codec);
          const limit = sessionMessageLimit(c, { evalModels: 11 });
          const encoded = largestMessages(c, 11).map((m) => encodeMessage(m, codec));
          const bounds = { ...msgpackBounds(WIRE_LIMITS), maxObjects: limit.objects };
          for (const bytes of encoded) {
            expect(bytes.length).toBeLessThanOrEqual(limit.bytes);
            expect(scanMsgpack(bytes, bounds)).toBeNull();
          }
          const largest = Math.max(...encoded.map((b) => b.length));
          if (limit.bytes > CONTROL_MESSAGE_LIMIT.bytes) expect(limit.bytes - largest).toBeLessThan(64 * 1024 + largest / 50);
          // A few objects per tensor: thousands, not the protocol's 600,000.
          expect(limit.objects).toBeLessThan(20_000);
        });
      }
    }
  }

  it('grows with the models an eval-request may carry and the sets a strategy keeps', () => {
    const wide = mlpSpec([28, 28, 1], 10, [256]);
    const c = config(wide, { name: 'fedavg' }, 'float32');
    expect(sessionMessageLimit(c, { evalModels: 21 }).bytes).toBeGreaterThan(sessionMessageLimit(c, { evalModels: 11 }).bytes);
    const scaffoldAdam = config(wide, { name: 'scaffold', serverOpt: 'adam' }, 'float32');
    expect(sessionMessageLimit(scaffoldAdam, { evalModels: 1 }).bytes).toBeGreaterThan(sessionMessageLimit(c, { evalModels: 1 }).bytes);
  });

  it('is far below the 8 MB default for the MNIST MLP, and never above the protocol bound for huge models', () => {
    expect(sessionMessageLimit(config(models['MNIST MLP'], { name: 'fedld' }, 'float32'), { evalModels: 11 }).bytes).toBeLessThan(WIRE_LIMITS.defaultPeerMessageBytes / 2);
    const huge = mlpSpec([512, 512, 3], 10, [4096]);
    expect(sessionMessageLimit(config(huge, { name: 'fedavg' }, 'float32'), { evalModels: 11 }).bytes).toBe(WIRE_LIMITS.maxMessageBytes);
    // Many tensors, many models: never more objects than the protocol allows.
    const deep = mlpSpec([4], 2, new Array(64).fill(4));
    const many = sessionMessageLimit(config(deep, { name: 'fedavg' }, 'float32'), { evalModels: 1000 });
    expect(many.objects).toBeLessThanOrEqual(WIRE_LIMITS.maxObjects);
    expect(many.objects).toBeGreaterThan(CONTROL_MESSAGE_LIMIT.objects);
  });

  it('leaves room for the control messages: a welcome with its full history, a roster of 300 tabs, a hello with 10,000 classes', () => {
    const c = config(models.tabular, { name: 'fedld' }, 'int8');
    expect(sessionMessageLimit(c, { evalModels: 1 })).toEqual(CONTROL_MESSAGE_LIMIT);
    const terms = { local: 0.1234567891, shift: 0.2345678912, aggregation: -0.3456789123, global: 0.4567891234 };
    const welcome: Message = {
      type: 'welcome', v, term: 2 ** 31, slot: 2 ** 31, round: 2 ** 31, config: c,
      history: Array.from({ length: 1000 }, (_, i) => ({ round: 2 ** 31 + i, accuracy: 0.123456789, loss: 1.23456789, decomposition: terms, participantCount: 2 ** 31 })),
    };
    const roster: Message = {
      type: 'roster', v, term: 2 ** 31, aggregatorId: 'fedtab-'.padEnd(40, 'x'), round: 2 ** 31,
      peers: Array.from({ length: 300 }, (_, i) => ({ id: `fedtab-${i}`.padEnd(40, 'x'), name: `student tab ${i} ✓`.padEnd(40, 'é'), slot: i, backend: 'webgpu', numSamples: 2 ** 31, labelHistogram: new Array(10).fill(2 ** 31) })),
    };
    const hello: Message = { type: 'hello', v, clientName: 'x'.repeat(100), backend: 'webgpu', numSamples: 2 ** 31, labelHistogram: new Array(10_000).fill(2 ** 31) };
    const fullRoster: Message = { ...roster, peers: Array.from({ length: WIRE_LIMITS.maxPeers }, (_, i) => ({ id: `p${i}`, name: `${i}`, slot: i, backend: 'cpu', numSamples: 1, labelHistogram: [1] })) };
    const bounds = { ...msgpackBounds(WIRE_LIMITS), maxObjects: CONTROL_MESSAGE_LIMIT.objects };
    for (const m of [welcome, roster, hello, fullRoster]) {
      const bytes = encodeMessage(m, 'int8');
      expect(bytes.length, m.type).toBeLessThanOrEqual(CONTROL_MESSAGE_LIMIT.bytes);
      expect(scanMsgpack(bytes, bounds), m.type).toBeNull();
    }
  });
});
