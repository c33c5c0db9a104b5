import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundEngine, type EngineConfig, type EngineEvent } from './engine';
import { testEngineConfig, testMetrics, tinyWeights } from './testing/engine-fixtures';
import { InMemoryNetwork } from './in-memory-transport';
import { PROTOCOL_VERSION, type RoundStartMessage } from './protocol';
import { ROBUST_DEFAULTS } from './robust';
import { settleFake } from './testing/fake-time';

const MAX_FLOAT = 3.4028234663852886e38;
const layout = tinyWeights;
const metrics = testMetrics;

const config = testEngineConfig();

type Reply = (round: RoundStartMessage) => { delta: number[]; numSamples: number };

/** Clients that join declaring 10 samples each and answer every round-start with reply(round). */
async function session(replies: Record<string, Reply>, overrides: Partial<EngineConfig>) {
  const network = new InMemoryNetwork();
  const events: EngineEvent[] = [];
  const engine = new RoundEngine(network.endpoint('agg'), { ...config, ...overrides }, { weights: layout([0, 0, 0, 0]) }, { onEvent: (e) => events.push(e) });
  for (const [id, reply] of Object.entries(replies)) {
    const ep = network.endpoint(id);
    ep.onMessage((from, m) => {
      if (m.type !== 'round-start') return;
      const r = reply(m);
      ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: layout(r.delta), numSamples: r.numSamples, metrics });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [5, 5] });
  }
  await settleFake(engine.waitForClients(Object.keys(replies).length, 1000));
  return { engine, events };
}

const honest: Reply = () => ({ delta: [1, 1, 1, 1], numSamples: 10 });
const maxFloat: Reply = () => ({ delta: [MAX_FLOAT, MAX_FLOAT, MAX_FLOAT, MAX_FLOAT], numSamples: 1_000_000_000 });
const dropped = (events: EngineEvent[]) => events.filter((e) => e.kind === 'rejected' && e.reason.startsWith('update dropped by the robust aggregation'));

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('round engine with robust aggregation', () => {
  it("by default ('clip') a sample count above the client's hello is capped at it", async () => {
    const { engine } = await session({ a: honest, b: () => ({ delta: [1.5, 1.5, 1.5, 1.5], numSamples: 30 }) }, {});
    await settleFake(engine.runRound());
    expect(Array.from(engine.globalWeights[0].values)).toEqual([1.25, 1.25, 1.25, 1.25]); // (10*1 + 10*1.5) / 20, not 1.375
  });

  it('a max-float client (claiming 1e9 samples) never stops the loop: 4 rounds run in every mode, the model stays finite', async () => {
    // Per round the honest clients move the model by 1. Every defence drops the attacker (its norm is far over
    // dropFactor x the median); with dropping off, 'clip' bounds it to clipFactor x the median norm at the declared
    // weight: (1 + 1 + 1 + f) / 4 a round.
    const f = ROBUST_DEFAULTS.clipFactor;
    const expected: Record<string, number | null> = { off: null, clip: 4, 'trimmed-mean': 4, median: 4, 'clip without dropping': 3 + f };
    const settings: Record<string, EngineConfig['robust']> = { off: 'off', clip: 'clip', 'trimmed-mean': 'trimmed-mean', median: 'median', 'clip without dropping': { mode: 'clip', dropFactor: Infinity } };
    for (const mode of Object.keys(settings)) {
      const { engine, events } = await session({ a: honest, b: honest, c: honest, evil: maxFloat }, { robust: settings[mode] });
      const reports = [];
      for (let i = 0; i < 4; i++) reports.push(await settleFake(engine.runRound()));
      expect(reports.every((r) => r !== null)).toBe(true);
      expect(engine.currentRound).toBe(4);
      expect(events.some((e) => e.kind === 'round-failed')).toBe(false);
      const values = Array.from(engine.globalWeights[0].values);
      expect(values.every(Number.isFinite)).toBe(true);
      const e = expected[mode];
      if (e !== null) {
        values.forEach((v) => expect(v).toBeCloseTo(e, 5));
      } else {
        // 'off' takes the first max-float update (the model is ruined, as without defence), then the next would
        // overflow float32: the engine drops it with the reason instead of throwing.
        expect(values.every((v) => v > 1e38)).toBe(true);
        expect(dropped(events).some((d) => d.kind === 'rejected' && d.from === 'evil' && /not finite/.test(d.reason))).toBe(true);
      }
    }
  });
});
