import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec, wireLimits } from './codec';
import { RoundEngine, type EngineConfig, type EngineEvent } from './engine';
import { InMemoryNetwork, type DeliveryPlan } from './in-memory-transport';
import { mlpSpec } from './models';
import { PROTOCOL_VERSION, type Message } from './protocol';
import type { WeightSet } from './weights';
import { settleFake } from './testing/fake-time';

// A model big enough that an update spans several 256 KB frames (600 x 256 floats = 600 KB in float32).
const layout = (fill: number): WeightSet => [{ name: 'big/kernel', shape: [600, 256], values: new Float32Array(600 * 256).fill(fill) }];

const config: EngineConfig = {
  model: mlpSpec([600], 256, []),
  strategy: { name: 'fedavg' },
  train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
  minClients: 1,
  fraction: 1,
  decomposition: 'off',
  decompositionEvery: 1,
  seed: 1,
  timing: { roundDeadlineMs: 400, evalDeadlineMs: 400 },
};

const metrics = { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 100 };

/** Three clients that answer every round-start with an update of all-ones; faults come from the plan. */
type Plan = (from: string, to: string, m: Message) => DeliveryPlan | undefined;

async function runWith(plan: Plan | ((network: InMemoryNetwork) => Plan), opts: { maxMessageBytes?: number; deadlineMs?: number; planNeedsNetwork?: boolean } = {}) {
  const wireErrors: string[] = [];
  const holder: { network?: InMemoryNetwork } = {};
  const effectivePlan: Plan = opts.planNeedsNetwork ? (f, t, m) => (plan as (n: InMemoryNetwork) => Plan)(holder.network!)(f, t, m) : (plan as Plan);
  const limits = opts.maxMessageBytes ? { limits: wireLimits({ maxMessageBytes: opts.maxMessageBytes }) } : {};
  const network = new InMemoryNetwork({ codec: createWireCodec('float32', limits), plan: effectivePlan, onWireError: (from, _to, reason) => wireErrors.push(`${from}: ${reason}`) });
  holder.network = network;
  const events: EngineEvent[] = [];
  const timing = { roundDeadlineMs: opts.deadlineMs ?? 400, evalDeadlineMs: 400 };
  const engine = new RoundEngine(network.endpoint('agg'), { ...config, timing }, { weights: layout(0) }, { onEvent: (e) => events.push(e) });
  for (const id of ['a', 'b', 'c']) {
    const ep = network.endpoint(id);
    ep.onMessage((from, m) => {
      if (m.type === 'round-start') ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: layout(1), numSamples: 10, metrics });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [10] });
  }
  await settleFake(engine.waitForClients(3, 2000));
  const started = Date.now();
  const report = await settleFake(engine.runRound());
  return { report, engine, events, wireErrors, network, ms: Date.now() - started };
}

const fromClient = (id: string) => (from: string, _to: string, m: Message) => from === id && m.type === 'update';

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('round engine over real wire frames with injected faults', () => {
  it('no faults: every update arrives through several frames and is aggregated', async () => {
    const { report, engine, wireErrors } = await runWith(() => undefined);
    expect(report?.participants).toEqual(['a', 'b', 'c']);
    expect(engine.globalWeights[0].values[0]).toBe(1);
    expect(wireErrors).toEqual([]);
  });

  it('a dropped update: the round ends at the deadline with the others', async () => {
    const { report, ms } = await runWith((f, t, m) => (fromClient('b')(f, t, m) ? { drop: true } : undefined));
    expect(report?.participants).toEqual(['a', 'c']);
    expect(report?.missing).toEqual(['b']);
    expect(ms).toBeLessThan(3000);
  });

  it('a delayed update within the deadline still counts; one past it is rejected as stale later', async () => {
    const late = await runWith((f, t, m) => (fromClient('c')(f, t, m) ? { delayMs: 1000 } : undefined));
    expect(late.report?.participants).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(800);
    expect(late.events.some((e) => e.kind === 'rejected' && e.from === 'c' && e.reason.includes('stale update for assignment 1'))).toBe(true);
    const onTime = await runWith((f, t, m) => (fromClient('c')(f, t, m) ? { delayMs: 100 } : undefined));
    expect(onTime.report?.participants).toEqual(['a', 'b', 'c']);
  });

  it('a duplicated update is counted once (the wire layer drops the replayed frames)', async () => {
    const { report, engine, wireErrors } = await runWith((f, t, m) => (fromClient('a')(f, t, m) ? { copies: 2 } : undefined));
    await vi.advanceTimersByTimeAsync(50);
    expect(report?.participants).toEqual(['a', 'b', 'c']);
    expect(engine.globalWeights[0].values[0]).toBe(1);
    expect(wireErrors.some((e) => e.startsWith('a:') && /duplicate|already/i.test(e))).toBe(true);
  });

  it('a corrupted frame is rejected by its checksum; the round goes on without that update', async () => {
    const { report, wireErrors } = await runWith((f, t, m) =>
      fromClient('b')(f, t, m)
        ? {
            frames: (frames) =>
              frames.map((fr, i) => {
                if (i !== 1) return fr;
                const bad = fr.slice();
                bad[bad.length - 10] ^= 0xff;
                return bad;
              }),
          }
        : undefined,
    );
    expect(report?.participants).toEqual(['a', 'c']);
    expect(wireErrors.some((e) => e.startsWith('b:') && /checksum|crc/i.test(e))).toBe(true);
  });

  it('reordered frames are reassembled', async () => {
    const { report, engine } = await runWith((f, t, m) => (fromClient('a')(f, t, m) ? { frames: (frames) => [...frames].reverse() } : undefined));
    expect(report?.participants).toEqual(['a', 'b', 'c']);
    expect(engine.globalWeights[0].values[12345]).toBe(1);
  });

  it('an oversized message is refused by the receiver with a reason', async () => {
    const { report, wireErrors } = await runWith(() => undefined, { maxMessageBytes: 200_000 });
    expect(report).toBeNull(); // every update is over the limit, so the round cannot run
    expect(wireErrors.some((e) => /exceeds|limit|too large/i.test(e))).toBe(true);
  });

  it('a peer that vanishes mid-transfer (one frame of three sent) is dropped without waiting for the deadline', async () => {
    const result = await runWith(
      (network: InMemoryNetwork): Plan => (f, t, m) => {
        if (!fromClient('c')(f, t, m)) return undefined;
        setTimeout(() => network.disconnect('c'), 20);
        return { frames: (frames) => frames.slice(0, 1) };
      },
      { deadlineMs: 30_000, planNeedsNetwork: true },
    );
    expect(result.report?.participants).toEqual(['a', 'b']);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.engine.connectedClients.map((c) => c.id)).toEqual(['a', 'b']);
  });
});
