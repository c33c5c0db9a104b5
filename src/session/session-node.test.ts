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
import { AuthenticatedTransport } from './authenticated-transport';
import { SessionNode, type ValidationEvaluator } from './session-node';
import { RealWork, useSimulatedTimeWithTraining, settleFake, untilFake } from './testing/fake-time';
import { MNIST_SESSION_CONFIG } from './testing/tiny-session';

// Simulated time: the session's timers run on the fake clock, which stands still while a tab trains or evaluates.
useSimulatedTimeWithTraining();

const spec = MNIST_SESSION_CONFIG.model;
const config: SessionConfig = { ...MNIST_SESSION_CONFIG, decomposition: 'exact' };

function makeSession(secret = 'secret-1') {
  const train = loadMnistNode('train', 1600);
  const test = loadMnistNode('test', 300);
  const parts = partitionIndices(train.labels, 10, 4, { kind: 'iid' }, 1);
  const network = new InMemoryNetwork({ codec: createWireCodec('float16') });
  const validationModel = buildModel(spec, 9);
  const work = new RealWork();
  const validation: ValidationEvaluator = (_spec, ws) =>
    work.run(async () => {
      const r = await evaluateWeightSets(validationModel, ws.map(materialize), test);
      return { losses: r.map((x) => x.loss), accuracies: r.map((x) => x.accuracy) };
    });
  const logs: string[] = [];
  const nodes = ['host', 'ann', 'bob', 'cy'].map((name, k) => {
    const local = splitTrainEval(subsetDataset(train, parts.clients[k]), 0.2, k);
    const trainer = work.trainer(new TfLocalTrainer(local.train, local.eval, () => 'cpu'));
    return new SessionNode({
      transport: new AuthenticatedTransport(network.endpoint(`peer-${name}`), { secret }),
      name,
      trainer: () => trainer,
      validation,
      timing: { heartbeatMs: 100, silenceMs: 600, voteTimeoutMs: 400, retryRoundMs: 50, welcomeTimeoutMs: 2_000 },
      onLog: (level, text) => logs.push(`${name} ${level}: ${text}`),
    });
  });
  /** Fake time until `done` (at most maxMs of it), standing still while a tab trains or evaluates. */
  const until = (done: () => boolean, maxMs = 30_000) => untilFake(done, maxMs, work.busy);
  const settle = <T>(p: Promise<T>, maxMs = 30_000) => settleFake(p, maxMs, work.busy);
  return { network, nodes, logs, until, settle };
}

describe('session over the in-memory transport with real wire frames', () => {
  it('clients join by the aggregator id, get a slot and the config, and rounds run with the decomposition', async () => {
    const { nodes, until, settle } = makeSession();
    const [host, ...members] = nodes;
    await settle(host.host(config, await getWeights(buildModel(spec, 4))));
    const welcomes = await settle(Promise.all(members.map((m) => m.join(host.selfId))));
    expect(welcomes.map((w) => w.slot).sort()).toEqual([1, 2, 3]);
    expect(welcomes[0].config).toEqual(config);
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 4);
    await settle(host.start(), 60_000);
    expect(host.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5]);
    const first = host.rounds[0];
    const last = host.rounds[4];
    expect(last.accuracy!).toBeGreaterThan(0.5);
    expect(last.loss!).toBeLessThan(first.loss!);
    for (const r of host.rounds) {
      const d = r.decomposition!;
      expect(Math.abs(d.local + d.shift + d.aggregation - d.global)).toBeLessThan(1e-6);
      expect(r.bytesSent).toBeGreaterThan(0);
    }
    // Members saw the same results, decomposition included.
    await until(() => members.every((m) => m.rounds.length === 5));
    expect(members[0].rounds[4].decomposition).toEqual(last.decomposition);
    // Slots follow the order in which the (concurrent) joins completed; every tab sees everyone with its slot.
    expect(members[2].roster.map((e) => [e.name, e.slot])).toEqual([['host', 0], ...members.map((m, i) => [['ann', 'bob', 'cy'][i], welcomes[i].slot] as [string, number]).sort((a, b) => a[1] - b[1])]);
    nodes.forEach((n) => n.leave());
  });

  it('refuses a client without the join secret: it is never admitted and learns nothing', async () => {
    const { nodes, network, settle } = makeSession();
    const [host, member] = nodes;
    await settle(host.host(config, await getWeights(buildModel(spec, 4))));
    const intruder = new SessionNode({ transport: new AuthenticatedTransport(network.endpoint('peer-intruder'), { secret: 'guessed' }), name: 'intruder', trainer: () => null, timing: { welcomeTimeoutMs: 500 } });
    await expect(settle(intruder.join(host.selfId))).rejects.toThrow(/could not prove that it knows the session secret/);
    await settle(member.join(host.selfId));
    expect(host.clients.map((c) => c.id)).toEqual([host.selfId, member.selfId]);
    nodes.forEach((n) => n.leave());
  });

  it('when the aggregator vanishes mid-session, the earliest-joined client takes over and the rounds go on', async () => {
    const { nodes, network, logs, until, settle } = makeSession();
    const [host, ann, bob, cy] = nodes;
    const dump = (e: Error): never => {
      throw new Error(`${e.message}\n${logs.join('\n')}\naggregators: ${nodes.map((n) => `${n.selfId}->${n.aggregatorId}`).join(' ')}`);
    };
    await settle(host.host({ ...config, rounds: 6 }, await getWeights(buildModel(spec, 4))));
    // Ann joins first, so she holds the lowest slot after the host's (concurrent joins get slots in completion order).
    await settle(ann.join(host.selfId));
    await settle(Promise.all([bob, cy].map((m) => m.join(host.selfId))));
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 4);
    void host.start();
    await until(() => host.rounds.length >= 2 && ann.currentRound >= 2);
    const received = ann.currentRound;
    network.disconnect(host.selfId);
    host.leave();
    await until(() => ann.isAggregator, 10_000).catch(dump);
    expect(bob.isAggregator || cy.isAggregator).toBe(false);
    await until(() => ann.rounds.length > 0 && ann.rounds[ann.rounds.length - 1].round === 6 && !ann.isRunning, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${logs.join('\n')}\nann rounds: ${ann.rounds.map((r) => r.round)}`);
    });
    const resumed = ann.rounds.filter((r) => r.aggregatorId === ann.selfId).map((r) => r.round);
    // Resumes right after the latest global model it received (the checkpoint of the host's last finished round).
    expect(resumed[0]).toBe(received + 1);
    expect(resumed[resumed.length - 1]).toBe(6);
    await until(() => bob.aggregatorId === ann.selfId && cy.aggregatorId === ann.selfId).catch(dump);
    const afterHandover = ann.rounds.filter((r) => r.aggregatorId === ann.selfId);
    expect(afterHandover[afterHandover.length - 1].participantCount).toBe(3);
    expect(logs.some((l) => l.startsWith('ann info: this tab now aggregates'))).toBe(true);
    nodes.forEach((n) => n.leave());
  });
});
