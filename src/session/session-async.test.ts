import { materialize } from '../fl/scored-model';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec } from '../fl/codec';
import { subsetDataset } from '../fl/data/dataset';
import { loadMnistNode } from '../fl/data/node-loaders';
import { partitionIndices } from '../fl/data/partition';
import { splitTrainEval } from '../fl/data/split';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import { TfLocalTrainer } from '../fl/local-trainer';
import { buildModel, getWeights } from '../fl/models';
import type { SessionConfig } from '../fl/protocol';
import { evaluateWeightSets } from '../fl/train';
import { SessionNode, type ValidationEvaluator } from './session-node';
import { RealWork, useSimulatedTimeWithTraining, settleFake, untilFake } from './testing/fake-time';
import { MNIST_SESSION_CONFIG } from './testing/tiny-session';

// Simulated time: the session's timers run on the fake clock, which stands still while a tab trains or evaluates.
useSimulatedTimeWithTraining();

const spec = MNIST_SESSION_CONFIG.model;
const config: SessionConfig = {
  ...MNIST_SESSION_CONFIG,
  rounds: 8,
  decomposition: 'proxy',
  aggregation: { mode: 'async', bufferSize: 2, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null },
};

/** Four tabs; the last one holds 4x the data of the others, so it is the slow one. */
function makeSession() {
  const train = loadMnistNode('train', 1400);
  const test = loadMnistNode('test', 200);
  const parts = partitionIndices(train.labels, 10, 7, { kind: 'iid' }, 1);
  const network = new InMemoryNetwork({ codec: createWireCodec('float16') });
  const validationModel = buildModel(spec, 9);
  const work = new RealWork();
  const validation: ValidationEvaluator = (_spec, ws) =>
    work.run(async () => {
      const r = await evaluateWeightSets(validationModel, ws.map(materialize), test);
      return { losses: r.map((x) => x.loss), accuracies: r.map((x) => x.accuracy) };
    });
  const logs: string[] = [];
  /** Every peer-progress report a tab's node passed on (only the aggregating tab's should). */
  const progress: Array<{ at: string; from: string; round: number; fraction: number }> = [];
  const shards = [[0], [1], [2], [3, 4, 5, 6]];
  const nodes = ['host', 'ann', 'bob', 'cy'].map((name, k) => {
    const indices = Int32Array.from(shards[k].flatMap((p) => Array.from(parts.clients[p])));
    const local = splitTrainEval(subsetDataset(train, indices), 0.2, k);
    const trainer = work.trainer(new TfLocalTrainer(local.train, local.eval, () => 'cpu'));
    return new SessionNode({
      transport: network.endpoint(`peer-${name}`),
      name,
      trainer: () => trainer,
      validation,
      timing: { heartbeatMs: 200, silenceMs: 1_000, voteTimeoutMs: 1_000, retryRoundMs: 50, welcomeTimeoutMs: 2_000 },
      onLog: (level, text) => logs.push(`${name} ${level}: ${text}`),
      onPeerProgress: (from, round, fraction) => progress.push({ at: `peer-${name}`, from, round, fraction }),
    });
  });
  /** Fake time until `done` (at most maxMs of it), standing still while a tab trains or evaluates. */
  const until = (done: () => boolean, maxMs = 30_000) => untilFake(done, maxMs, work.busy);
  const settle = <T>(p: Promise<T>, maxMs = 30_000) => settleFake(p, maxMs, work.busy);
  return { network, nodes, logs, progress, until, settle };
}

describe('session in async mode (in-memory transport, real wire frames)', () => {
  it('runs aggregation steps of M updates; every step records each update\'s staleness; the slow tab is included', async () => {
    const { nodes, progress, until, settle } = makeSession();
    const [host, ...members] = nodes;
    await settle(host.host(config, await getWeights(buildModel(spec, 4))));
    const welcomes = await settle(Promise.all(members.map((m) => m.join(host.selfId))));
    expect(welcomes[0].config.aggregation).toEqual(config.aggregation);
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 4);
    await settle(host.start(), 60_000);
    expect(host.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of host.rounds) {
      expect(r.participantCount).toBe(2);
      expect(r.staleness).toHaveLength(2);
      const d = r.decomposition!;
      expect(Math.abs(d.local + d.shift + d.aggregation - d.global)).toBeLessThan(1e-6);
    }
    const contributors = new Set(host.rounds.flatMap((r) => r.participants));
    expect(contributors.size).toBeGreaterThanOrEqual(3);
    expect(host.rounds.flatMap((r) => r.staleness!).some((t) => t > 0)).toBe(true);
    expect(host.rounds[7].accuracy!).toBeGreaterThan(0.3);
    // The aggregating tab, and it alone, heard how far each tab's assignments got (its own local client included).
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.at === host.selfId && p.fraction > 0 && p.fraction <= 1)).toBe(true);
    expect(new Set(progress.map((p) => p.from))).toEqual(new Set(nodes.map((n) => n.selfId)));
    await until(() => members.every((m) => m.rounds.length >= 8));
    nodes.forEach((n) => n.leave());
  });

  it('when the aggregator vanishes, the earliest-joined tab takes over and the steps go on with the others', async () => {
    const { nodes, network, logs, until, settle } = makeSession();
    const [host, ann, bob, cy] = nodes;
    await settle(host.host({ ...config, rounds: 10 }, await getWeights(buildModel(spec, 4))));
    // Ann joins first, so she holds the lowest slot after the host's (concurrent joins get slots in completion order).
    await settle(ann.join(host.selfId));
    await settle(Promise.all([bob, cy].map((m) => m.join(host.selfId))));
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 4);
    void host.start();
    await until(() => host.rounds.length >= 3 && ann.currentRound >= 3);
    network.disconnect(host.selfId);
    host.leave();
    await until(() => ann.isAggregator, 10_000);
    await until(() => ann.rounds.length > 0 && ann.rounds[ann.rounds.length - 1].round === 10 && !ann.isRunning, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${logs.join('\n')}\nann rounds: ${ann.rounds.map((r) => r.round)}`);
    });
    const after = ann.rounds.filter((r) => r.aggregatorId === ann.selfId);
    expect(after[0].round).toBeGreaterThan(3);
    const contributors = new Set(after.flatMap((r) => r.participants));
    expect(contributors.has(bob.selfId) || contributors.has(cy.selfId)).toBe(true);
    expect(after.every((r) => r.staleness?.length === r.participantCount)).toBe(true);
    nodes.forEach((n) => n.leave());
  });
});
