import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundEngine, type EngineEvent } from './engine';
import { testEngineConfig, testMetrics } from './testing/engine-fixtures';
import { InMemoryNetwork } from './in-memory-transport';
import { mlpSpec } from './models';
import { PROTOCOL_VERSION } from './protocol';
import type { WeightSet } from './weights';
import { settleFake } from './testing/fake-time';

const weights = (fill: number): WeightSet => [{ name: 'w', shape: [4, 2], values: new Float32Array(8).fill(fill) }];
const metrics = testMetrics;

const config = testEngineConfig({ model: mlpSpec([4], 2, []), timing: { roundDeadlineMs: 30_000, evalDeadlineMs: 30_000 } });

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a client's 'cannot train' report", () => {
  it('leaves that client out of the round at once instead of waiting for the deadline', async () => {
    const network = new InMemoryNetwork();
    const events: EngineEvent[] = [];
    const engine = new RoundEngine(network.endpoint('agg'), config, { weights: weights(0) }, { onEvent: (e) => events.push(e) });
    for (const id of ['good', 'bad']) {
      const ep = network.endpoint(id);
      ep.onMessage((from, m) => {
        if (m.type !== 'round-start') return;
        if (id === 'good') setTimeout(() => ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: weights(1), numSamples: 10, metrics }), 50);
        else ep.send(from, { type: 'error', v: PROTOCOL_VERSION, reason: 'my data has 3 features, the model expects 4' });
      });
      ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [5, 5] });
    }
    await settleFake(engine.waitForClients(2, 2000));
    const started = Date.now();
    const report = await settleFake(engine.runRound());
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report?.participants).toEqual(['good']);
    expect(report?.missing).toEqual(['bad']);
    expect(events.some((e) => e.kind === 'rejected' && e.from === 'bad' && /3 features/.test(e.reason))).toBe(true);
    // Still connected: asked again next round.
    expect(engine.connectedClients.map((c) => c.id).sort()).toEqual(['bad', 'good']);
    engine.dispose();
  });

  it('when every selected client declines, the round ends at once as failed', async () => {
    const network = new InMemoryNetwork();
    const engine = new RoundEngine(network.endpoint('agg'), config, { weights: weights(0) });
    const ep = network.endpoint('bad');
    ep.onMessage((from, m) => {
      if (m.type === 'round-start') ep.send(from, { type: 'error', v: PROTOCOL_VERSION, reason: 'no' });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: 'bad', backend: 'test', numSamples: 10, labelHistogram: [10] });
    await settleFake(engine.waitForClients(1, 2000));
    const started = Date.now();
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(Date.now() - started).toBeLessThan(1_000);
    engine.dispose();
  });
});
