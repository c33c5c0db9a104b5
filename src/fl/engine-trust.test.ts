import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec } from './codec';
import { RoundEngine, type EngineConfig } from './engine';
import { InMemoryNetwork } from './in-memory-transport';
import { mlpSpec } from './models';
import { PROTOCOL_VERSION } from './protocol';
import type { StrategyConfig } from './strategies/types';
import * as weights from './weights';
import type { WeightSet } from './weights';
import { settleFake } from './testing/fake-time';

// Every importer of ./weights (engine, strategies, aggregators, the codec's validation) gets these spied scans.
vi.mock('./weights', async (importOriginal) => {
  const original = await importOriginal<typeof import('./weights')>();
  return { ...original, assertFinite: vi.fn(original.assertFinite), firstNonFinite: vi.fn(original.firstNonFinite) };
});

/** Every Float32Array scanned for finiteness since the spies were cleared, once per scan. */
function scannedArrays(): Float32Array[] {
  return [
    ...vi.mocked(weights.assertFinite).mock.calls.flatMap(([set]) => set.map((t) => t.values)),
    ...vi.mocked(weights.firstNonFinite).mock.calls.map(([values]) => values),
  ];
}

const metrics = { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 100 };
const layout = (rng: () => number): WeightSet => [
  { name: 'fc1/kernel', shape: [4, 3], values: Float32Array.from({ length: 12 }, rng) },
  { name: 'fc1/bias', shape: [3], values: Float32Array.from({ length: 3 }, rng) },
];

/**
 * Runs `rounds` rounds with K clients; returns, per update tensor the engine received, how often its values were
 * scanned for finiteness. In memory (shareMessages) the engine sees the clients' own objects; over the wire codec
 * it sees decoded ones, which validateMessage scanned.
 */
async function scansPerDelta(strategy: StrategyConfig, clients: number, rounds: number, wire = false): Promise<number[]> {
  vi.mocked(weights.assertFinite).mockClear();
  vi.mocked(weights.firstNonFinite).mockClear();
  let seed = 1;
  const rng = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1;
  const network = new InMemoryNetwork(wire ? { codec: createWireCodec('float32') } : { shareMessages: true });
  const config: EngineConfig = {
    model: mlpSpec([4], 3, []),
    strategy,
    train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
    minClients: 1,
    fraction: 1,
    decomposition: 'off',
    decompositionEvery: 1,
    seed: 1,
    timing: { roundDeadlineMs: 2000, evalDeadlineMs: 2000 },
  };
  const aggregator = network.endpoint('agg');
  const received: Float32Array[] = [];
  aggregator.onMessage((_from, m) => {
    if (m.type === 'update') received.push(...m.delta.map((t) => t.values));
  });
  const engine = new RoundEngine(aggregator, config, { weights: layout(rng) });
  for (let k = 0; k < clients; k++) {
    const ep = network.endpoint(`c${k}`);
    ep.onMessage((from, m) => {
      if (m.type !== 'round-start') return;
      // Updates that roughly agree in direction, as honest ones do: the robust aggregation (on by default) keeps them.
      const delta = layout(() => 0.05 + Math.abs(rng()));
      ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta, numSamples: 10 + k, metrics });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: `c${k}`, backend: 'test', numSamples: 10 + k, labelHistogram: [5, 5, 5] });
  }
  await settleFake(engine.waitForClients(clients, 2000));
  for (let r = 0; r < rounds; r++) expect((await settleFake(engine.runRound()))?.participants).toHaveLength(clients);
  const scanned = scannedArrays();
  return received.map((values) => scanned.filter((s) => s === values).length);
}

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('one trust boundary for updates', () => {
  const strategies: StrategyConfig[] = [{ name: 'fedavg' }, { name: 'fedld' }, { name: 'fedavg', serverOpt: 'adam' }];
  for (const strategy of strategies) {
    it(`${JSON.stringify(strategy)}: every update tensor is scanned for finiteness exactly once per round`, async () => {
      const counts = await scansPerDelta(strategy, 4, 3);
      expect(counts).toHaveLength(4 * 3 * 2);
      expect(counts).toEqual(counts.map(() => 1));
    });
  }

  for (const strategy of strategies) {
    it(`${JSON.stringify(strategy)} over the wire codec: validateMessage's scan is the only one`, async () => {
      const counts = await scansPerDelta(strategy, 3, 2, true);
      expect(counts).toHaveLength(3 * 2 * 2);
      expect(counts).toEqual(counts.map(() => 1));
    });
  }

  it('a non-finite update sent in memory (no codec) is still refused by the engine', async () => {
    const network = new InMemoryNetwork();
    const rejected: string[] = [];
    const config: EngineConfig = {
      model: mlpSpec([2], 2, []),
      strategy: { name: 'fedavg' },
      train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
      minClients: 1,
      fraction: 1,
      decomposition: 'off',
      decompositionEvery: 1,
      seed: 1,
      timing: { roundDeadlineMs: 500, evalDeadlineMs: 500 },
    };
    const w = (x: number): WeightSet => [{ name: 'fc1/kernel', shape: [2, 2], values: Float32Array.of(0, x, 0, 0) }];
    const engine = new RoundEngine(network.endpoint('agg'), config, { weights: w(0) }, { onEvent: (e) => e.kind === 'rejected' && rejected.push(e.reason) });
    const ep = network.endpoint('c');
    ep.onMessage((from, m) => {
      if (m.type === 'round-start') ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: w(NaN), numSamples: 1, metrics });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: 'c', backend: 'test', numSamples: 1, labelHistogram: [1, 1] });
    await settleFake(engine.waitForClients(1, 2000));
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(rejected).toEqual([expect.stringMatching(/update from c: tensor "fc1\/kernel" has a non-finite value \(NaN\) at index 1/)]);
  });
});

describe('the aggregated model is still checked', () => {
  it('finite updates that overflow float32 fail the round instead of becoming the global model', async () => {
    const network = new InMemoryNetwork({ shareMessages: true });
    const big = (): WeightSet => [{ name: 'fc1/kernel', shape: [2, 2], values: new Float32Array(4).fill(3e38) }];
    const events: string[] = [];
    const config: EngineConfig = {
      model: mlpSpec([2], 2, []),
      strategy: { name: 'fedavg' },
      train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
      minClients: 1,
      fraction: 1,
      decomposition: 'off',
      decompositionEvery: 1,
      seed: 1,
      timing: { roundDeadlineMs: 2000, evalDeadlineMs: 2000 },
    };
    const engine = new RoundEngine(network.endpoint('agg'), config, { weights: big() }, { onEvent: (e) => e.kind === 'round-failed' && events.push(e.reason) });
    const ep = network.endpoint('c');
    ep.onMessage((from, m) => {
      if (m.type === 'round-start') ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: big(), numSamples: 1, metrics });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: 'c', backend: 'test', numSamples: 1, labelHistogram: [1, 1] });
    await settleFake(engine.waitForClients(1, 2000));
    expect(await settleFake(engine.runRound())).toBeNull();
    // The robust aggregation (on by default) drops the update that made the aggregate non-finite; nothing is left.
    expect(events).toEqual([expect.stringMatching(/aggregation failed: (.*non-finite|no usable update left)/)]);
    expect(Array.from(engine.globalWeights[0].values)).toEqual([3e38, 3e38, 3e38, 3e38].map(Math.fround));
  });
});
