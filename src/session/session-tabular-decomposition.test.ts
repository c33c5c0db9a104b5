/**
 * A tabular session as a teacher runs it: nobody holds the demo data, so the aggregating tab has no validation data,
 * and exact mode, which the host form offers for such a task before Start, measures every round, after a handover too.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec } from '../fl/codec';
import type { LossDecomposition } from '../fl/decomposition';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import { TfLocalTrainer } from '../fl/local-trainer';
import { buildModel, getWeights } from '../fl/models';
import { tabularSpec } from '../fl/model-spec';
import type { DecompositionMode, SessionConfig } from '../fl/protocol';
import { getSetting, settingDefault, VALIDATION_DATA, type ValidationData } from '../fl/settings';
import { separableData, TEST_CLASSES, TEST_FEATURES } from '../fl/strategies/test-session';
import { AuthenticatedTransport } from './authenticated-transport';
import { demoFits } from './session-controller';
import { SessionNode, type ValidationEvaluator } from './session-node';
import { RealWork, useSimulatedTimeWithTraining, settleFake, untilFake } from './testing/fake-time';

useSimulatedTimeWithTraining();

const spec = tabularSpec(TEST_FEATURES, TEST_CLASSES, [8]);
const noValidation: ValidationData = 'none';
const config: SessionConfig = {
  model: spec,
  strategy: { name: 'fedavg' },
  train: { localEpochs: 1, batchSize: 16, learningRate: 0.1 },
  rounds: 6,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 5_000,
  // What the host form defaults to for a task the aggregating tab holds no validation data for.
  // What the host opts into when the form says proxy measures nothing for this task (the default stays proxy).
  decomposition: 'exact' as DecompositionMode,
  decompositionEvery: 1,
  codec: 'float32',
  seed: 2,
  demo: { partition: { kind: 'iid' }, clients: 4 },
};

/**
 * A client tab's held-out data as the controller gives it (the demo's test split, which fits only the demo task):
 * it cannot score this task's models, and says so.
 */
const demoOnly: ValidationEvaluator = async (s) => {
  throw new Error(`no test set for this task on the aggregating tab (demo data fits: ${demoFits(s)})`);
};

function makeSession() {
  const network = new InMemoryNetwork({ codec: createWireCodec('float32') });
  const work = new RealWork();
  const logs: string[] = [];
  const nodes = ['host', 'ann', 'bob'].map((name, k) => {
    const trainer = work.trainer(new TfLocalTrainer(separableData(80, 100 + k), separableData(20, 200 + k), () => 'cpu'));
    return new SessionNode({
      transport: new AuthenticatedTransport(network.endpoint(`peer-${name}`), { secret: 's' }),
      name,
      trainer: () => trainer,
      // The host of a task without demo data gets no validation evaluator (SessionControllerCore.host).
      ...(name === 'host' ? {} : { validation: demoOnly }),
      timing: { heartbeatMs: 100, silenceMs: 600, voteTimeoutMs: 400, retryRoundMs: 50, welcomeTimeoutMs: 2_000 },
      onLog: (level, text) => logs.push(`${name} ${level}: ${text}`),
    });
  });
  const until = (done: () => boolean, maxMs = 30_000) => untilFake(done, maxMs, work.busy);
  const settle = <T>(p: Promise<T>, maxMs = 30_000) => settleFake(p, maxMs, work.busy);
  return { network, nodes, logs, until, settle };
}

function expectAddsUp(d: LossDecomposition | null, round: number): void {
  expect(d, `round ${round}`).not.toBeNull();
  for (const x of [d!.local, d!.shift, d!.aggregation, d!.global]) expect(Number.isFinite(x), `round ${round}`).toBe(true);
  expect(Math.abs(d!.local + d!.shift + d!.aggregation - d!.global), `round ${round}`).toBeLessThan(1e-6);
}

describe('a tabular session (no validation data on any tab) in exact mode', () => {
  it('every round carries a decomposition that adds up, before and after a handover', async () => {
    expect(settingDefault(getSetting('decomposition'), { [VALIDATION_DATA]: noValidation })).toBe('proxy');
    const { nodes, network, logs, until, settle } = makeSession();
    const [host, ann, bob] = nodes;
    await settle(host.host(config, await getWeights(buildModel(spec, 2))));
    await settle(ann.join(host.selfId));
    await settle(bob.join(host.selfId));
    await until(() => host.clients.filter((c) => c.numSamples > 0).length === 3);
    void host.start();
    await until(() => host.rounds.length >= 2 && ann.currentRound >= 2);
    for (const r of host.rounds) expectAddsUp(r.decomposition, r.round);

    // The host's tab goes away; Ann's tab, whose held-out data does not fit this task, takes over.
    network.disconnect(host.selfId);
    host.leave();
    await until(() => ann.isAggregator, 10_000);
    await until(() => ann.rounds.length > 0 && ann.rounds[ann.rounds.length - 1].round === config.rounds && !ann.isRunning, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${logs.join('\n')}`);
    });
    const afterHandover = ann.rounds.filter((r) => r.aggregatorId === ann.selfId);
    expect(afterHandover.length).toBeGreaterThan(0);
    for (const r of afterHandover) expectAddsUp(r.decomposition, r.round);
    // Bob's dashboard shows the same numbers.
    await until(() => bob.rounds.length === config.rounds);
    expect(bob.rounds.map((r) => r.decomposition)).toEqual(ann.rounds.map((r) => r.decomposition));
    nodes.forEach((n) => n.leave());
  });
});
