/**
 * A private session (secure aggregation + client-level DP) between four tabs over real wire frames: the FL
 * client of every tab masks its update with its party, the aggregating tab learns the sum, every tab records the
 * epsilon spent, and the session ends when the budget would be passed.
 */
import { materialize } from '../fl/scored-model';
import { describe, expect, it } from 'vitest';
import { createWireCodec } from '../fl/codec';
import { subsetDataset } from '../fl/data/dataset';
import { loadMnistNode } from '../fl/data/node-loaders';
import { partitionIndices } from '../fl/data/partition';
import { splitTrainEval } from '../fl/data/split';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import { TfLocalTrainer } from '../fl/local-trainer';
import { buildModel, getWeights } from '../fl/models';
import { LocalPrivateParty } from '../fl/private-party';
import type { Message, SessionConfig } from '../fl/protocol';
import { evaluateWeightSets } from '../fl/train';
import { SessionNode, type ValidationEvaluator } from './session-node';
import { RealWork, useSimulatedTimeWithTraining, settleFake, untilFake } from './testing/fake-time';
import { MNIST_SESSION_CONFIG } from './testing/tiny-session';

useSimulatedTimeWithTraining();

const spec = MNIST_SESSION_CONFIG.model;
const config: SessionConfig = {
  ...MNIST_SESSION_CONFIG,
  rounds: 30,
  minClients: 3,
  roundDeadlineMs: 10_000,
  robust: 'off',
  privacy: { secureAggregation: true, clipNorm: 2, noiseMultiplier: 0.5, delta: 1e-5, budget: 40 },
};


function makeSession() {
  const train = loadMnistNode('train', 1200);
  const test = loadMnistNode('test', 200);
  const parts = partitionIndices(train.labels, 10, 4, { kind: 'iid' }, 1);
  const toHost: Message[] = [];
  const network = new InMemoryNetwork({ codec: createWireCodec('float16'), tap: (_from, to, m) => to === 'peer-host' && toHost.push(m) });
  const work = new RealWork();
  const validationModel = buildModel(spec, 9);
  const validation: ValidationEvaluator = (_spec, ws) =>
    work.run(async () => {
      const r = await evaluateWeightSets(validationModel, ws.map(materialize), test);
      return { losses: r.map((x) => x.loss), accuracies: r.map((x) => x.accuracy) };
    });
  const nodes = ['host', 'ann', 'bob', 'cy'].map((name, k) => {
    const local = splitTrainEval(subsetDataset(train, parts.clients[k]), 0.2, k);
    const trainer = work.trainer(new TfLocalTrainer(local.train, local.eval, () => 'cpu'));
    return new SessionNode({
      transport: network.endpoint(`peer-${name}`),
      name,
      trainer: () => trainer,
      party: work.party(new LocalPrivateParty()),
      validation,
      timing: { heartbeatMs: 200, silenceMs: 2_000, voteTimeoutMs: 1_000, retryRoundMs: 50, welcomeTimeoutMs: 2_000 },
    });
  });
  const until = (done: () => boolean, maxMs = 30_000) => untilFake(done, maxMs, work.busy);
  const settle = <T>(p: Promise<T>, maxMs = 30_000) => settleFake(p, maxMs, work.busy);
  return { network, nodes, toHost, until, settle };
}

describe('a private session between tabs', () => {
  it('trains on secure sums only, shows epsilon on every tab, and ends when the budget is spent', async () => {
    const { nodes, toHost, until, settle } = makeSession();
    const [host, ...members] = nodes;
    const initial = await getWeights(buildModel(spec, 4));
    await settle(host.host(config, initial));
    const welcomes = await settle(Promise.all(members.map((m) => m.join(host.selfId))));
    expect(welcomes[0].config.privacy).toEqual(config.privacy);
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 4);
    await settle(host.start(), 600_000);

    const rounds = host.rounds;
    expect(rounds.length).toBeGreaterThan(2);
    expect(rounds.length).toBeLessThan(30);
    const eps = rounds.map((r) => r.privacy!.epsilon!);
    eps.forEach((e, i) => i > 0 && expect(e).toBeGreaterThan(eps[i - 1]));
    expect(eps[eps.length - 1]).toBeLessThanOrEqual(40);
    expect(rounds.every((r) => r.privacy?.secure && r.privacy.survivors === 4 && r.decomposition === null && r.screening?.length === 0)).toBe(true);
    // The model moved by the noised mean each round (its accuracy, with sigma 0.5 over 4 clients, is noise-bound).
    expect(rounds.every((r) => r.accuracy !== null)).toBe(true);
    expect(host.globalModel!.round).toBe(rounds.length);
    expect(host.globalModel!.weights[0].values.some((x, i) => x !== initial[0].values[i])).toBe(true);
    expect(host.sessionRecord?.phase).toBe('finished');
    expect(host.sessionRecord?.reason).toMatch(/privacy budget \(epsilon 40, delta 0.00001\) is spent/);
    // No tab sent the aggregating tab an update in the clear, nor its label histogram; the other tabs show the same epsilon.
    expect(toHost.map((m) => m.type)).not.toContain('update');
    const hellos = toHost.filter((m) => m.type === 'hello');
    expect(hellos.length).toBeGreaterThanOrEqual(3);
    expect(hellos.every((m) => m.type === 'hello' && m.labelHistogram.length === 0)).toBe(true);
    expect(host.clients.filter((c) => c.numSamples > 0)).toHaveLength(4);
    await until(() => members.every((m) => m.rounds.length === rounds.length));
    for (const m of members) expect(m.rounds.map((r) => r.privacy?.epsilon)).toEqual(eps);
    nodes.forEach((n) => n.leave());
  });

  it('after a handover, the tab that takes over goes on from the privacy ledger it was handed', async () => {
    const { nodes, network, until, settle } = makeSession();
    const [host, ann, bob, cy] = nodes;
    await settle(host.host({ ...config, privacy: { ...config.privacy!, budget: null }, rounds: 6, minClients: 2 }, await getWeights(buildModel(spec, 4))));
    await settle(ann.join(host.selfId));
    await settle(Promise.all([bob, cy].map((m) => m.join(host.selfId))));
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 4);
    void host.start();
    await until(() => host.rounds.length >= 2 && ann.currentRound >= 2, 120_000);
    const before = host.rounds[host.rounds.length - 1].privacy!.epsilon!;
    network.disconnect(host.selfId);
    host.leave();
    await until(() => ann.isAggregator, 10_000);
    await until(() => ann.rounds.some((r) => r.aggregatorId === ann.selfId) && !ann.isRunning, 300_000);
    const after = ann.rounds.filter((r) => r.aggregatorId === ann.selfId);
    // The successor's first round charges on top of what the host had spent, not from zero.
    expect(after[0].privacy!.epsilon!).toBeGreaterThan(before);
    nodes.forEach((n) => n.leave());
  });
});
