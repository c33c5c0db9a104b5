import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundEngine, type EngineConfig } from '../engine';
import { InMemoryNetwork } from '../in-memory-transport';
import { mlpSpec } from '../models';
import { PROTOCOL_VERSION, type RoundStartMessage } from '../protocol';
import { Rng } from '../rng';
import { consistentDeltaC } from '../testing/engine-fixtures';
import type { WeightSet } from '../weights';
import type { ServerState, StrategyConfig } from './types';
import { settleFake } from '../testing/fake-time';

const metrics = { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 100 };
const shapes = [
  { name: 'fc1/kernel', shape: [2, 3] },
  { name: 'fc1/bias', shape: [3] },
];

/** A deterministic pseudo-random weight set for (round, client, salt). */
function pseudo(round: number, client: string, salt: number): WeightSet {
  const rng = new Rng(round * 1009 + client.charCodeAt(0) * 31 + salt);
  return shapes.map(({ name, shape }) => ({ name, shape, values: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.next() - 0.3) }));
}

const initial = (): WeightSet => shapes.map(({ name, shape }) => ({ name, shape, values: new Float32Array(shape[0] * (shape[1] ?? 1)) }));

/** An engine with three scripted clients (different sample counts); returns what each round-start carried. */
async function engineWith(strategy: StrategyConfig, start: { weights: WeightSet; round?: number; serverState?: ServerState | null }) {
  const config: EngineConfig = {
    model: mlpSpec([2], 3, []),
    strategy,
    train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
    minClients: 1,
    fraction: 1,
    decomposition: 'off',
    decompositionEvery: 1,
    seed: 1,
    timing: { roundDeadlineMs: 300, evalDeadlineMs: 300 },
  };
  const network = new InMemoryNetwork();
  const engine = new RoundEngine(network.endpoint('agg'), config, start);
  const starts: RoundStartMessage[] = [];
  for (const [id, n] of [['a', 10], ['b', 30], ['c', 60]] as const) {
    const ep = network.endpoint(id);
    ep.onMessage((from, m) => {
      if (m.type !== 'round-start') return;
      if (id === 'a') starts.push(m);
      const delta = pseudo(m.version + 1, id, 1);
      ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta, numSamples: n, metrics, extras: { deltaC: consistentDeltaC(m.extras?.c, delta) } });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: n, labelHistogram: [n] });
  }
  await settleFake(engine.waitForClients(3, 1000));
  return { engine, starts };
}

async function rounds(engine: RoundEngine, count: number): Promise<void> {
  for (let i = 0; i < count; i++) expect(await settleFake(engine.runRound())).not.toBeNull();
}

describe.each<[string, StrategyConfig]>([
  ['FedLD history', { name: 'fedld', lambda: 0.1, rho: 0.67 }],
  ['SCAFFOLD control variate', { name: 'scaffold' }],
  ['FedAdam moments', { name: 'fedavg', serverOpt: 'adam', serverLr: 0.1 }],
])('%s survives a handover', (_label, strategy) => {
  it('the aggregate after restoring equals the aggregate without interruption', async () => {
    const straight = await engineWith(strategy, { weights: initial() });
    await rounds(straight.engine, 3);

    const first = await engineWith(strategy, { weights: initial() });
    await rounds(first.engine, 2);
    // The state crosses as plain data (a checkpoint message would carry it like this).
    const carried = structuredClone(first.engine.serverState);
    expect(carried?.strategy).toBe(strategy.name);
    const second = await engineWith(strategy, { weights: first.engine.globalWeights, round: 2, serverState: carried });
    await rounds(second.engine, 1);

    expect(second.engine.currentRound).toBe(3);
    expect(second.engine.globalWeights).toEqual(straight.engine.globalWeights);
    expect(second.engine.serverState).toEqual(straight.engine.serverState);
    expect(second.starts[0].extras).toEqual(straight.starts[2].extras);

    // Without the state, round 3 differs (the model, or for SCAFFOLD the c sent to clients): the test can tell.
    const amnesiac = await engineWith(strategy, { weights: first.engine.globalWeights, round: 2 });
    await rounds(amnesiac.engine, 1);
    expect([amnesiac.engine.globalWeights, amnesiac.starts[0].extras]).not.toEqual([straight.engine.globalWeights, straight.starts[2].extras]);
    [straight, first, second, amnesiac].forEach((s) => s.engine.dispose());
  });
});

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('restoring', () => {
  it('refuses a state shaped for another model, with a warning', async () => {
    const fedld = await engineWith({ name: 'fedld' }, { weights: initial() });
    await rounds(fedld.engine, 1);
    const state = structuredClone(fedld.engine.serverState)!;
    state.tensors.history = state.tensors.history.slice(1);
    const events: string[] = [];
    const network = new InMemoryNetwork();
    const engine = new RoundEngine(
      network.endpoint('agg'),
      { model: mlpSpec([2], 3, []), strategy: { name: 'fedld' }, train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 }, minClients: 1, fraction: 1, decomposition: 'off', decompositionEvery: 1, seed: 1 },
      { weights: initial(), round: 1, serverState: state },
      { onEvent: (e) => e.kind === 'round-warning' && events.push(e.reason) },
    );
    expect(engine.serverState).toBeNull();
    expect(events).toEqual(['ignored the handed-over strategy state: history: expected 2 tensors, got 1']);
    engine.dispose();
    fedld.engine.dispose();
  });

  it('ignores a state written by another strategy', async () => {
    const fedld = await engineWith({ name: 'fedld' }, { weights: initial() });
    await rounds(fedld.engine, 1);
    const other = await engineWith({ name: 'scaffold' }, { weights: initial(), serverState: fedld.engine.serverState });
    expect(other.engine.serverState).toBeNull();
    fedld.engine.dispose();
    other.engine.dispose();
  });
});
