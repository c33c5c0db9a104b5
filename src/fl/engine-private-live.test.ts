/**
 * Private sessions over the wire: the round engine and FlClients with their private parties exchange the
 * secure-aggregation steps as messages (what a live session's tabs do), on fake time.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlClient } from './client';
import { RoundEngine, type EngineEvent } from './engine';
import { InMemoryNetwork } from './in-memory-transport';
import type { LocalTrainer, TrainResponse } from './local-trainer';
import { LocalPrivateParty } from './private-party';
import type { PrivacySettings } from './private-aggregation';
import type { Message } from './protocol';
import { Rng } from './rng';
import { testEngineConfig, testMetrics, tinyWeights } from './testing/engine-fixtures';
import { RealWork, settleFake, untilFake } from './testing/fake-time';
import { byteChiSquare, CHI2_255_Q_1E6 } from './testing/byte-stats';
import { contributionPlan } from './private-aggregation';
import { quantise } from './secagg/fixed-point';
import type { WeightSet } from './weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const secure: PrivacySettings = { secureAggregation: true, clipNorm: 10, noiseMultiplier: 0, delta: 1e-5, budget: null };
const deltaOf = (round: number, k: number) => [round + k, -k, 0.5 * k, 1].map((x) => x / 10);
const samplesOf = (k: number) => 5 + k;

/** A model of n values (one tensor), or the tiny 2x2 one. */
const modelOf = (n: number, values: (i: number) => number): WeightSet => (n === 4 ? tinyWeights([0, 1, 2, 3].map(values)) : [{ name: 'fc1/kernel', shape: [n], values: Float32Array.from({ length: n }, (_, i) => values(i)) }]);

/** A trainer whose update is deltaOf(round, k) with samplesOf(k) samples (small noise-like values beyond 4); `hang` makes it never answer. */
function fixedTrainer(k: number, hang: () => boolean, work: RealWork, n = 4): LocalTrainer {
  const rng = new Rng(100 + k);
  return {
    info: async () => ({ backend: 'test', numSamples: samplesOf(k), labelHistogram: [samplesOf(k), 0] }),
    train: (req) =>
      hang()
        ? new Promise<TrainResponse>(() => {})
        : work.run(async () => ({ delta: modelOf(n, (i) => (i < 4 ? deltaOf(req.round, k)[i] : 0.01 * rng.normal())), numSamples: samplesOf(k), metrics: testMetrics, cancelled: false })),
    evaluate: async () => ({ losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 }),
  };
}


interface Setup {
  engine: RoundEngine;
  events: EngineEvent[];
  wire: Array<{ from: string; to: string; message: Message }>;
  work: RealWork;
  hanging: Set<string>;
  /** Sends a message to the aggregator from one of the extra endpoints. */
  send: (from: string, message: Message) => void;
  network: InMemoryNetwork;
}

async function privateSession(privacy: PrivacySettings, ids: string[], extra: { noData?: string[]; rogue?: string; roundDeadlineMs?: number; modelSize?: number } = {}): Promise<Setup> {
  const wire: Setup['wire'] = [];
  const network = new InMemoryNetwork({ tap: (from, to, message) => wire.push({ from, to, message }) });
  const events: EngineEvent[] = [];
  const work = new RealWork();
  const hanging = new Set<string>();
  const engine = new RoundEngine(
    network.endpoint('agg'),
    testEngineConfig({ robust: 'off', privacy, timing: { roundDeadlineMs: extra.roundDeadlineMs ?? 5_000, evalDeadlineMs: 300, secureStepMs: 2_000 } }),
    { weights: modelOf(extra.modelSize ?? 4, () => 0) },
    { onEvent: (e) => events.push(e) },
  );
  ids.forEach((id, k) => {
    const client = new FlClient(network.endpoint(id), 'agg', fixedTrainer(k, () => hanging.has(id), work, extra.modelSize ?? 4), { name: id, party: work.party(new LocalPrivateParty(new Rng(k + 1))) });
    void client.join();
  });
  const extras = new Map<string, ReturnType<InMemoryNetwork['endpoint']>>();
  for (const id of extra.noData ?? []) {
    const ep = network.endpoint(id);
    extras.set(id, ep);
    ep.send('agg', { type: 'hello', v: 1, clientName: id, backend: 'test', numSamples: extra.rogue === id ? 1 : 0, labelHistogram: [extra.rogue === id ? 1 : 0, 0] });
    if (extra.rogue === id) {
      ep.onMessage((from, m) => {
        if (m.type === 'round-start') ep.send(from, { type: 'update', v: 1, assignment: m.assignment, delta: tinyWeights([10, 10, 10, 10]), numSamples: 1, metrics: testMetrics });
      });
    }
  }
  await settleFake(engine.waitForClients(ids.length, 1000), 30_000, work.busy);
  return { engine, events, wire, work, hanging, send: (from, m) => extras.get(from)!.send('agg', m), network };
}

const weightedMean = (round: number, ks: number[]) => [0, 1, 2, 3].map((i) => ks.reduce((s, k) => s + samplesOf(k) * deltaOf(round, k)[i], 0) / ks.reduce((s, k) => s + samplesOf(k), 0));
const ids = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];

describe('secure aggregation in a live session (engine + clients over messages)', () => {
  it('commits the sample-weighted mean to the quantisation error, with no dropout and with the most it tolerates', async () => {
    const s = await privateSession(secure, ids);
    const first = await settleFake(s.engine.runRound(), 60_000, s.work.busy);
    expect(first?.participants).toEqual(ids);
    expect(first?.privacy).toMatchObject({ secure: true, selected: 6, survivors: 6, epsilon: null });
    Array.from(s.engine.globalWeights[0].values).forEach((x, i) => expect(x).toBeCloseTo(weightedMean(1, [0, 1, 2, 3, 4, 5])[i], 5));

    // 6 clients: each the neighbour of all 5 others, threshold 3. A survivor's seed is rebuilt from the other
    // survivors' shares, so at most 2 may vanish: their masked inputs never come.
    ['c0', 'c4'].forEach((id) => s.hanging.add(id));
    const before = Array.from(s.engine.globalWeights[0].values);
    const second = await settleFake(s.engine.runRound(), 60_000, s.work.busy);
    expect(second?.participants).toEqual(['c1', 'c2', 'c3', 'c5']);
    expect(second?.privacy).toMatchObject({ selected: 6, survivors: 4 });
    Array.from(s.engine.globalWeights[0].values).forEach((x, i) => expect(x).toBeCloseTo(before[i] + weightedMean(2, [1, 2, 3, 5])[i], 5));
    s.engine.dispose();
  });

  it('does not wait for a client that left the session: each step goes on without it at once', async () => {
    const s = await privateSession(secure, ids);
    const started = Date.now();
    const round = s.engine.runRound();
    s.network.disconnect('c5'); // before it could advertise its keys
    const report = await settleFake(round, 60_000, s.work.busy);
    expect(report?.participants).toEqual(ids.slice(0, 5));
    // The steps' deadline is 2 s of (fake) time; none of it was spent waiting.
    expect(Date.now() - started).toBeLessThan(2_000);
    s.engine.dispose();
  });

  it('fails the round cleanly, model unchanged, when too few survivors answer', async () => {
    const s = await privateSession(secure, ids);
    ['c0', 'c2', 'c4'].forEach((id) => s.hanging.add(id));
    expect(await settleFake(s.engine.runRound(), 60_000, s.work.busy)).toBeNull();
    const failed = s.events.filter((e) => e.kind === 'round-failed').map((e) => (e as { reason: string }).reason);
    expect(failed).toEqual([expect.stringMatching(/secure aggregation failed: secagg: 2 of 3 needed self-mask seed shares of c1 came back; the round cannot be unmasked/)]);
    expect(s.engine.currentRound).toBe(0);
    expect(Array.from(s.engine.globalWeights[0].values)).toEqual([0, 0, 0, 0]);
    s.engine.dispose();
  });

  it('sends the aggregator nothing but keys, sealed shares, ring elements that look uniform, and revealed shares', async () => {
    const s = await privateSession(secure, ids, { noData: ['bystander'] });
    await settleFake(s.engine.runRound(), 60_000, s.work.busy);
    const toAggregator = new Set(s.wire.filter((w) => w.to === 'agg').map((w) => w.message.type));
    expect([...toAggregator].sort()).toEqual(['hello', 'secagg']);
    const masked = s.wire.map((w) => w.message).find((m) => m.type === 'secagg' && m.step === 'masked');
    if (masked?.type !== 'secagg' || masked.step !== 'masked') throw new Error('no masked input');
    const raw = new Float32Array(deltaOf(1, 0));
    expect(Buffer.from(masked.masked).includes(Buffer.from(raw.buffer))).toBe(false);
    const all = s.wire.map((w) => w.message).filter((m): m is Extract<Message, { type: 'secagg'; step: 'masked' }> => m.type === 'secagg' && m.step === 'masked');
    expect(new Set(all.map((m) => Buffer.from(m.masked).toString('hex'))).size).toBe(all.length);
    // Mask and share material reaches only the round's clients, and each share only its addressee.
    const material = s.wire.filter((w) => w.message.type === 'secagg-round' || w.message.type === 'secagg');
    expect(material.some((w) => w.to === 'bystander' || w.from === 'bystander')).toBe(false);
    for (const w of material) {
      if (w.message.type === 'secagg-round' && w.message.step === 'inbox') expect(w.message.shares.every((sh) => sh.from !== w.to)).toBe(true);
      if (w.message.type === 'secagg-round' && w.message.step === 'setup') expect(w.message.you).toBe(w.to);
    }
    s.engine.dispose();
  });

  it('puts on the wire a masked input whose bytes look uniform, while the contribution it masks does not', async () => {
    const s = await privateSession(secure, ids.slice(0, 3), { modelSize: 8192 });
    await settleFake(s.engine.runRound(), 60_000, s.work.busy);
    const sent = s.wire.find((w) => w.from === 'c0' && w.message.type === 'secagg' && w.message.step === 'masked')?.message;
    if (sent?.type !== 'secagg' || sent.step !== 'masked') throw new Error('no masked input from c0');
    expect(sent.masked.byteLength).toBe(4 * (8192 + 1));
    expect(byteChiSquare(sent.masked)).toBeLessThan(CHI2_255_Q_1E6);
    // What it hides: c0's contribution (its update, weight 5 of at most 7, within the clip norm), quantised, unmasked.
    const rng = new Rng(100);
    const delta = Array.from({ length: 8192 }, (_, i) => (i < 4 ? deltaOf(1, 0)[i] : 0.01 * rng.normal()));
    const contribution = Float64Array.from([...delta.map((x) => 5 * Math.fround(x)), 5]);
    const plain = quantise(contribution, contributionPlan({ clipNorm: 10, noiseStd: 0, maxWeight: 7 }, 3)).ring;
    expect(byteChiSquare(new Uint8Array(plain.buffer))).toBeGreaterThan(CHI2_255_Q_1E6);
    s.engine.dispose();
  });

  it('refuses a step from a peer outside the round, or one out of order, and goes on', async () => {
    const s = await privateSession(secure, ids, { noData: ['intruder'] });
    const round = s.engine.runRound();
    const isKeys = (w: { message: Message }) => w.message.type === 'secagg' && w.message.step === 'keys';
    await untilFake(() => s.wire.some(isKeys), 30_000, s.work.busy);
    const keys = s.wire.find((w) => w.message.type === 'secagg' && w.message.step === 'keys')!.message;
    // The intruder replays a client's keys as its own, then sends a masked input before any setup.
    s.send('intruder', keys);
    s.send('intruder', { type: 'secagg', v: 1, assignment: 1, step: 'masked', masked: new Uint8Array(20), metrics: testMetrics });
    const report = await settleFake(round, 60_000, s.work.busy);
    expect(report?.participants).toHaveLength(6);
    const refused = s.events.filter((e) => e.kind === 'rejected' && e.from === 'intruder').map((e) => (e as { reason: string }).reason);
    expect(refused).toEqual(['secure-aggregation step from a client not asked in this round', 'secure-aggregation step from a client not asked in this round']);
    s.engine.dispose();
  });
});

describe('client-level DP in a live session', () => {
  it('charges every round and stops before the budget is passed', async () => {
    const dp: PrivacySettings = { secureAggregation: true, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, budget: 12 };
    const s = await privateSession(dp, ids);
    const eps: number[] = [];
    for (let r = 0; r < 20; r++) {
      const report = await settleFake(s.engine.runRound(), 60_000, s.work.busy);
      if (!report) break;
      eps.push(report.privacy!.epsilon!);
    }
    expect(eps.length).toBeGreaterThan(1);
    for (let i = 1; i < eps.length; i++) expect(eps[i]).toBeGreaterThan(eps[i - 1]);
    expect(eps[eps.length - 1]).toBeLessThanOrEqual(12);
    expect(s.engine.finished).toMatch(/privacy budget \(epsilon 12, delta 0.00001\) is spent/);
    s.engine.dispose();
  });

  it('without secure aggregation, clients send clipped updates; one that does not clip is refused with the reason', async () => {
    const dpOnly: PrivacySettings = { secureAggregation: false, clipNorm: 0.05, noiseMultiplier: 0, delta: 1e-5, budget: null };
    const s = await privateSession(dpOnly, ids, { noData: ['rogue'], rogue: 'rogue' });
    const report = await settleFake(s.engine.runRound(), 60_000, s.work.busy);
    expect(report?.participants).toEqual(ids);
    const refused = s.events.filter((e) => e.kind === 'rejected' && e.from === 'rogue').map((e) => (e as { reason: string }).reason);
    expect(refused).toEqual([expect.stringMatching(/update from rogue: its norm 20.0 is over the clip norm 0.05 plus its noise share: in a private session every client clips its own update/)]);
    const updates = s.wire.map((w) => w.message).filter((m) => m.type === 'update');
    for (const u of updates) if (u.type === 'update' && u.assignment && !(u.delta[0].values[0] === 10)) expect(Math.hypot(...u.delta[0].values)).toBeLessThanOrEqual(0.05 * 1.001);
    s.engine.dispose();
  });
});
