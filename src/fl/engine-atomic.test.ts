import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundEngine, type EngineConfig, type EngineEvent, type EngineHooks } from './engine';
import { testEngineConfig, testMetrics, tinyWeights } from './testing/engine-fixtures';
import { InMemoryNetwork } from './in-memory-transport';
import { PROTOCOL_VERSION, type RoundStartMessage } from './protocol';
import { registerStrategy } from './strategies/registry';
import { settleFake } from './testing/fake-time';

const layout = tinyWeights;
const metrics = testMetrics;

const config = testEngineConfig();

/** Two clients that answer every round-start with delta = round (all entries). */
async function setup(hooks: EngineHooks, patch: Partial<EngineConfig> = {}) {
  const network = new InMemoryNetwork();
  const events: EngineEvent[] = [];
  const starts: RoundStartMessage[] = [];
  const engine = new RoundEngine(network.endpoint('agg'), { ...config, ...patch }, { weights: layout([0, 0, 0, 0]) }, { ...hooks, onEvent: (e) => events.push(e) });
  for (const id of ['a', 'b']) {
    const ep = network.endpoint(id);
    ep.onMessage((from, m) => {
      if (m.type === 'round-start' && id === 'a') starts.push(m);
      if (m.type === 'round-start') ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: layout([m.version + 1, m.version + 1, m.version + 1, m.version + 1]), numSamples: 10, metrics });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [5, 5] });
  }
  await settleFake(engine.waitForClients(2, 1000));
  return { engine, events, starts };
}

const warnings = (events: EngineEvent[]) => events.flatMap((e) => (e.kind === 'round-warning' ? [e.reason] : []));

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('atomic rounds', () => {
  let unregister: (() => void) | null = null;
  afterEach(() => {
    unregister?.();
    unregister = null;
  });

  it('a throwing decomposition is a warning: the round completes and the next one runs', async () => {
    const { engine, events } = await setup(
      {
        evaluateOnValidation: async () => {
          throw new Error('validation worker died');
        },
      },
      { decomposition: 'proxy' },
    );
    const first = await settleFake(engine.runRound());
    expect(first).not.toBeNull();
    expect(first?.decomposition).toBeNull();
    expect(first?.warnings).toEqual(['measuring the loss decomposition failed: validation worker died']);
    expect(warnings(events)).toEqual(first?.warnings);
    expect(engine.currentRound).toBe(1);
    expect(Array.from(engine.globalWeights[0].values)).toEqual([1, 1, 1, 1]);
    const second = await settleFake(engine.runRound());
    expect(second?.round).toBe(2);
    expect(Array.from(engine.globalWeights[0].values)).toEqual([3, 3, 3, 3]);
  });

  it('a throwing test-set evaluation is a warning, in the foreground and in the background', async () => {
    const failing: EngineHooks = {
      evaluateGlobal: async () => {
        throw new Error('out of memory');
      },
    };
    const fg = await setup(failing);
    const report = await settleFake(fg.engine.runRound());
    expect(report?.accuracy).toBeNull();
    expect(report?.warnings).toEqual(['evaluating the global model failed: out of memory']);
    expect(fg.engine.currentRound).toBe(1);

    const bg = await setup(failing, { evaluateInBackground: true });
    const later = await settleFake(bg.engine.runRound());
    expect(later).not.toBeNull();
    await expect(later!.evaluation).resolves.toBeNull();
    expect(warnings(bg.events)).toEqual(['evaluating the global model failed: out of memory']);
    expect((await settleFake(bg.engine.runRound()))?.round).toBe(2);
  });

  it('while a round is measured, the model, round and state are still the previous ones', async () => {
    const seen: { round: number; value: number }[] = [];
    const { engine } = await setup(
      {
        evaluateOnValidation: async (sets) => {
          seen.push({ round: engine.currentRound, value: engine.globalWeights[0].values[0] });
          return sets.map(() => 1);
        },
      },
      { decomposition: 'proxy' },
    );
    await settleFake(engine.runRound());
    expect(seen).toEqual([{ round: 0, value: 0 }]);
    expect(engine.currentRound).toBe(1);
  });

  it('a failing aggregation changes nothing and is retried by the next call', async () => {
    let fail = true;
    unregister = registerStrategy({
      name: 'test-flaky',
      label: 'Flaky',
      summary: 'fails its first aggregation', traits: { weightedMean: false, labelDirected: false },
      params: [],
      client: () => ({ extraLoss: () => null }),
      server: () => ({
        aggregate: (global, updates, state) => {
          if (fail) {
            fail = false;
            throw new Error('numerical trouble');
          }
          return { weights: global.map((t, i) => ({ ...t, values: t.values.map((v, k) => v + updates[0].delta[i].values[k]) })), state: { strategy: 'test-flaky', steps: (state?.steps ?? 0) + 1, tensors: {}, values: {} } };
        },
      }),
    });
    const { engine, events } = await setup({}, { strategy: { name: 'test-flaky' } });
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(events.some((e) => e.kind === 'round-failed' && e.reason === 'aggregation failed: numerical trouble')).toBe(true);
    expect(engine.currentRound).toBe(0);
    expect(engine.serverState).toBeNull();
    expect(Array.from(engine.globalWeights[0].values)).toEqual([0, 0, 0, 0]);
    const retry = await settleFake(engine.runRound());
    expect(retry?.round).toBe(1);
    expect(engine.serverState?.steps).toBe(1);
  });
});

describe('robustness', () => {
  it('an observer that throws and a send that throws do not stop the round', async () => {
    const network = new InMemoryNetwork();
    const agg = network.endpoint('agg');
    const send = agg.send.bind(agg);
    agg.send = (to, m) => {
      if (to === 'b' && m.type === 'round-start') throw new Error('channel closed');
      send(to, m);
    };
    // A deadline far past the test timeout: waiting for b would fail the test.
    const engine = new RoundEngine(agg, { ...config, timing: { roundDeadlineMs: 600_000 } }, { weights: layout([0, 0, 0, 0]) }, {
      onEvent: () => {
        throw new Error('observer bug');
      },
    });
    for (const id of ['a', 'b']) {
      const ep = network.endpoint(id);
      ep.onMessage((from, m) => {
        if (m.type === 'round-start') ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: layout([1, 1, 1, 1]), numSamples: 10, metrics });
      });
      ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [5, 5] });
    }
    await settleFake(engine.waitForClients(2, 1000));
    const report = await settleFake(engine.runRound());
    expect(report?.participants).toEqual(['a']);
    expect(report?.missing).toEqual(['b']);
    engine.dispose();
  });
});

describe('round plans', () => {
  it("a strategy's plan sets the clients, the round's training config and whether the decomposition is measured", async () => {
    const unregister = registerStrategy({
      name: 'test-planner',
      label: 'Planner',
      summary: 'asks client a only, with a round-dependent learning rate, and measures every other round', traits: { weightedMean: false, labelDirected: false },
      params: [],
      client: () => ({ extraLoss: () => null }),
      server: () => ({
        planRound: (ctx) => ({ selected: ['a'], train: { learningRate: 0.1 / ctx.round }, measureDecomposition: ctx.round % 2 === 0 }),
        aggregate: (global, updates) => ({ weights: global.map((t, i) => ({ ...t, values: t.values.map((v, k) => v + updates[0].delta[i].values[k]) })), state: null }),
      }),
    });
    try {
      let measured = 0;
      const { engine, starts } = await setup(
        {
          evaluateOnValidation: async (sets) => {
            measured++;
            return sets.map(() => 1);
          },
        },
        { strategy: { name: 'test-planner' }, decomposition: 'proxy' },
      );
      const one = await settleFake(engine.runRound());
      const two = await settleFake(engine.runRound());
      expect(one?.participants).toEqual(['a']);
      expect(starts.map((m) => m.train.learningRate)).toEqual([0.1, 0.05]);
      expect([one?.decomposition, measured]).toEqual([null, 1]);
      expect(two?.decomposition).not.toBeNull();
    } finally {
      unregister();
    }
  });

  it('a plan that asks a client that is not connected fails the round, not the session', async () => {
    const unregister = registerStrategy({
      name: 'test-bad-plan',
      label: 'Bad plan',
      summary: 'asks a ghost', traits: { weightedMean: false, labelDirected: false },
      params: [],
      client: () => ({ extraLoss: () => null }),
      server: () => ({ planRound: () => ({ selected: ['ghost'] }), aggregate: (global) => ({ weights: global, state: null }) }),
    });
    try {
      const { engine, events } = await setup({}, { strategy: { name: 'test-bad-plan' } });
      expect(await settleFake(engine.runRound())).toBeNull();
      expect(events.some((e) => e.kind === 'round-failed' && e.reason === 'planning the round failed: selected client ghost is not a candidate')).toBe(true);
      expect(engine.currentRound).toBe(0);
    } finally {
      unregister();
    }
  });
});

describe('collapse warning', () => {
  it('fires when one class takes >= 90% of the predictions or a class is never predicted', async () => {
    const { engine, events } = await setup({
      evaluateGlobal: async () => ({ loss: 2, accuracy: 0.5, perClassAccuracy: [1, 0], predictionCounts: [100, 0] }),
    });
    const report = await settleFake(engine.runRound());
    expect(report?.classes).toMatchObject({ perClassAccuracy: [1, 0], predictedShare: 1, predictedClass: 0 });
    expect(report?.classes?.collapse).toBe('collapse: the global model predicts class 0 for 100.0% of the evaluated samples; class 1 never predicted');
    expect(warnings(events)).toEqual([report?.classes?.collapse]);
  });

  it('stays quiet for a balanced predictor', async () => {
    const { engine, events } = await setup({
      evaluateGlobal: async () => ({ loss: 0.3, accuracy: 0.85, perClassAccuracy: [0.9, 0.8], predictionCounts: [55, 45] }),
    });
    const report = await settleFake(engine.runRound());
    expect(report?.classes).toMatchObject({ predictedShare: 0.55, collapse: null });
    expect(warnings(events)).toEqual([]);
  });
});
