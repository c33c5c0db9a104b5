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
import { AttackingTrainer, parseAttacks } from './attacks';
import { AuthenticatedTransport } from '../session/authenticated-transport';
import { SessionNode } from '../session/session-node';
import { RealWork, useSimulatedTimeWithTraining, settleFake, untilFake } from '../session/testing/fake-time';
import { MNIST_SESSION_CONFIG } from '../session/testing/tiny-session';

// Simulated time: the session's timers run on the fake clock, which stands still while a tab trains.
useSimulatedTimeWithTraining();

const spec = MNIST_SESSION_CONFIG.model;
// float32 on the wire: float16 would turn max-float into Infinity, which is refused on receipt anyway.
const config: SessionConfig = { ...MNIST_SESSION_CONFIG, rounds: 3, codec: 'float32' };

describe('a session with a client sending max-float updates', () => {
  it('the host shrinks them and caps their sample claim, says so in every round, and the session loop runs every round to the end', async () => {
    const train = loadMnistNode('train', 1200);
    const test = loadMnistNode('test', 300);
    const parts = partitionIndices(train.labels, 10, 4, { kind: 'iid' }, 1);
    const network = new InMemoryNetwork({ codec: createWireCodec('float32') });
    const work = new RealWork();
    const nodes = ['host', 'ann', 'bob', 'evil'].map((name, k) => {
      const local = splitTrainEval(subsetDataset(train, parts.clients[k]), 0.2, k);
      const honest = new TfLocalTrainer(local.train, local.eval, () => 'cpu');
      // The simulator's attack objects around a real client's trainer: trains honestly, reports every value as
      // +-float32 max and a billion samples.
      const trainer = work.trainer(name === 'evil' ? new AttackingTrainer(honest, parseAttacks('max-float,inflate-samples:1000000000')) : honest);
      return new SessionNode({ transport: new AuthenticatedTransport(network.endpoint(`peer-${name}`), { secret: 'secret-1' }), name, trainer: () => trainer, timing: { heartbeatMs: 100, silenceMs: 600, voteTimeoutMs: 400, retryRoundMs: 50, welcomeTimeoutMs: 2_000 } });
    });
    const [host, ...members] = nodes;
    await settleFake(host.host(config, await getWeights(buildModel(spec, 4))), 30_000, work.busy);
    await settleFake(Promise.all(members.map((m) => m.join(host.selfId))), 30_000, work.busy);
    await untilFake(() => host.clients.filter((c) => c.numSamples > 0).length === 4, 30_000, work.busy);
    await settleFake(host.start(), 60_000, work.busy);
    expect(host.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    // A gross outlier is shrunk to the round's norm (its size carries no information), never left to overflow.
    for (const { screening = [] } of host.rounds) {
      expect(screening.length).toBe(2);
      expect(screening.every((v) => v.clientId === 'peer-evil')).toBe(true);
      expect(screening.map((v) => v.action).sort()).toEqual(['capped', 'clipped']);
      expect(screening.find((v) => v.action === 'clipped')!.reason).toMatch(/^update norm 3\.84e\+40 clipped to \d/);
      expect(screening.find((v) => v.action === 'capped')!.reason).toMatch(/^sample count 1\.00e\+9 capped to/);
    }
    nodes.forEach((n) => n.leave());
  });
});
