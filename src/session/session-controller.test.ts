import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalDataInfo } from '../worker/api';
import { hostPeerId } from './session-code';
import { noSessionFound, SessionControllerCore } from './session-controller';
import type { SessionSettings, SessionState } from './types';
import { untilFake } from './testing/fake-time';
import { joinSession, makeControllerWorld, openSession, TEST_LAN_URLS, TEST_SETTINGS } from './testing/controller-world';

const settings = TEST_SETTINGS;
const makeWorld = makeControllerWorld;

const until = untilFake;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SessionControllerCore', () => {
  it('hosts a session: a code, a join link with the secret, the LAN addresses, the host on its demo shard, the lobby', async () => {
    const world = makeWorld();
    const hostDeps = world.deps();
    const host = new SessionControllerCore(hostDeps);
    const seen: SessionState['status'][] = [];
    host.subscribe((s) => seen.push(s.status));
    await openSession(host);
    const s = host.getState();
    expect(s.code).toMatch(/^[A-Z0-9]{6}$/);
    expect(s.joinUrl).toMatch(new RegExp(`^https://fedtab.test/app/#/join/${s.code}\\?s=[A-Z2-9]{10}$`));
    expect(s.lanUrls).toEqual(TEST_LAN_URLS);
    expect(s.role).toBe('host');
    expect(s.isAggregator).toBe(true);
    expect(s.localData).toMatchObject({ source: 'demo', description: 'demo shard 0', numSamples: 40 });
    expect(s.backend?.name).toBe('cpu');
    expect(seen[0]).toBe('connecting');
    expect(hostDeps.workers[0].calls).toEqual(['backend auto', 'demo shard 0']);
    host.leave();
  });

  it('a client joins by code and secret, gets its slot and shard, and both tabs see the rounds', async () => {
    const world = makeWorld();
    const host = new SessionControllerCore(world.deps());
    await openSession(host);
    const clientDeps = world.deps();
    const { client, code, secret } = await joinSession(host, clientDeps);
    expect(client.getState()).toMatchObject({ role: 'client', isAggregator: false, aggregatorId: await hostPeerId(code!, secret), settings: { rounds: 2, hostTrains: true } });
    expect(clientDeps.workers[0].calls).toContain('demo shard 1');
    await until(() => host.getState().peers.length === 2 && host.getState().peers.every((p) => p.numSamples === 40));
    expect(host.getState().peers.map((p) => [p.name, p.isSelf, p.isAggregator])).toEqual([
      ['Teacher', true, true],
      ['Student', false, false],
    ]);

    const running = host.start();
    await until(() => host.getState().status === 'finished' && client.getState().rounds.length === 2);
    await running;
    expect(host.getState().rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(host.getState().rounds[1]).toMatchObject({ participantCount: 2, accuracy: 0.8 });
    expect(client.getState().rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(clientDeps.workers[0].calls.filter((c) => c.startsWith('train'))).toEqual(['train 1', 'train 2']);
    client.leave();
    host.leave();
  });

  it('reports a code nobody hosts, and a wrong secret, as errors', async () => {
    const world = makeWorld();
    const lost = new SessionControllerCore(world.deps());
    const nobody = await hostPeerId('ZZZZZZ', 'f00');
    await expect(lost.join('zzzzzz', 'f00', 'Student')).rejects.toThrow('no open session has the code ZZZZZZ with the passphrase f00');
    expect(lost.getState()).toMatchObject({ status: 'error', error: noSessionFound('ZZZZZZ', 'f00') });
    expect(lost.getState().error).not.toContain(nobody);
    await expect(lost.join('not a code', 'f00', 'Student')).rejects.toThrow(/"not a code" is not a session code/);

    const host = new SessionControllerCore(world.deps());
    await openSession(host);
    // A wrong secret leads to another peer id: the session cannot even be found with it.
    const intruder = new SessionControllerCore(world.deps());
    const code = host.getState().code!;
    const elsewhere = await hostPeerId(code, 'guessed');
    await expect(intruder.join(code, 'guessed', 'Intruder')).rejects.toThrow(`no open session has the code ${code} with the passphrase guessed: check both`);
    expect(intruder.getState().error).not.toContain(elsewhere);
    expect(intruder.getState().status).toBe('error');
    await until(() => host.getState().peers.length > 0);
    expect(host.getState().peers).toHaveLength(1);
    host.leave();
  });

  it('secure aggregation needs WebCrypto: a host page without it refuses, a joining page without it leaves saying why', async () => {
    const world = makeWorld();
    const plainHttp = { crypto: {}, location: { protocol: 'http:', host: '10.0.0.2:5173' } };
    const privacy = { secureAggregation: true, clipNorm: 1, noiseMultiplier: 0, delta: 1e-5, budget: null };
    const privateSettings: SessionSettings = { ...settings, strategy: { name: 'fedavg' }, robust: 'off', decomposition: 'off', privacy };
    const refused = new SessionControllerCore({ ...world.deps(), page: plainHttp });
    await expect(refused.host(privateSettings, 'Teacher')).rejects.toThrow(/^Secure aggregation is not possible on this page: .*http:\/\/10\.0\.0\.2:5173 is not one/);
    expect(refused.getState().status).toBe('error');

    const host = new SessionControllerCore(world.deps());
    await openSession(host, privateSettings);
    const { code, joinUrl } = host.getState();
    const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
    const phone = new SessionControllerCore({ ...world.deps(), page: plainHttp });
    const joining = phone.join(code!, secret, 'Phone').then(() => 'joined', (e: Error) => e.message);
    await until(() => phone.getState().status === 'error');
    expect(await joining).toMatch(/^This session uses secure aggregation, so this tab cannot take part/);
    expect(phone.getState()).toMatchObject({ status: 'error', role: null });
    expect(phone.getState().error).toMatch(/npm run start:https/);
    // It left: the host does not wait for it.
    await until(() => host.getState().peers.every((p) => p.name !== 'Phone'));
    host.leave();
  });

  it('leave() stops the worker, closes the transport and the validation worker, and keeps the data and the log', async () => {
    const world = makeWorld();
    const deps = world.deps();
    const host = new SessionControllerCore(deps);
    await openSession(host);
    await vi.advanceTimersByTimeAsync(10);
    const code = host.getState().code;
    host.leave();
    const s = host.getState();
    expect(s).toMatchObject({ status: 'idle', code: null, role: null, peers: [] });
    expect(s.localData?.description).toBe('demo shard 0');
    expect(s.log.some((l) => l.text.includes(`session ${code} created`))).toBe(true);
    expect(deps.closed).toHaveLength(1);
    expect(deps.closed[0]).toMatch(/^fedtab-[0-9a-f]{20}$/);
    expect(deps.workers[0].calls).toContain('cancel');
    // The validation worker was started for the host (held-out data) and is terminated with the session.
    expect(deps.workers[1].calls).toEqual(['datasets demo test split', 'terminate']);
  });

  it('imports files in the worker, logs their problems, and forgets them', async () => {
    const world = makeWorld();
    const deps = world.deps();
    const c = new SessionControllerCore(deps);
    await expect(c.importFiles([{ path: 'cats/1.png', file: new File([], '1.png') }])).rejects.toThrow(/nothing could be loaded: nothing usable/);
    expect(deps.workers[0].calls).toContain('import cats/1.png for no session');
    expect(c.getState().log.map((l) => l.level)).toEqual(['warn', 'error']);
    // A failed import concerns that action: it is logged and thrown, not the session's error.
    expect(c.getState().error).toBeNull();
    await c.forgetData();
    expect(c.getState().localData).toBeNull();
    expect(c.getState().log.at(-1)?.text).toMatch(/deleted from this browser/);
  });
  it('live status: the round in progress, who trains, what each tab contributed, the global model and each round\'s mode', async () => {
    const world = makeWorld();
    const host = new SessionControllerCore(world.deps());
    await openSession(host);
    const { client } = await joinSession(host, world.deps());
    await until(() => host.getState().peers.length === 2 && host.getState().peers.every((p) => p.numSamples === 40));
    expect(host.getState()).toMatchObject({ runningRound: null, stopping: false });
    expect(host.getState().modelSpec).toMatchObject({ kind: 'mlp', numClasses: 10 });

    const running = host.start();
    // Round 1 runs: the host sees the student training, the student knows the round from the round-start.
    await until(() => host.getState().peers.find((p) => p.name === 'Student')?.status === 'training');
    expect(host.getState()).toMatchObject({ status: 'running', runningRound: 1, currentRound: 0 });
    await until(() => client.getState().runningRound === 1);
    expect(client.getState().status).toBe('running');
    // The student's tab receives the initial global model with round 1's start.
    expect(client.getState().globalModelRound).toBe(0);

    await until(() => host.getState().status === 'finished' && client.getState().status === 'finished');
    await running;
    expect(host.getState()).toMatchObject({ runningRound: null, currentRound: 2, stopping: false, globalModelRound: 2, selfContributions: [1, 2] });
    expect(client.getState()).toMatchObject({ runningRound: null, currentRound: 2, selfContributions: [1, 2] });
    expect(client.getState().globalModelRound).toBeGreaterThanOrEqual(1);
    expect(host.getState().rounds.map((r) => r.decompositionMode)).toEqual(['proxy', 'proxy']);
    const student = host.getState().peers.find((p) => p.name === 'Student')!;
    expect(student).toMatchObject({ status: 'uploaded', statusRound: 2 });

    // Rosters reach non-aggregating tabs without label counts: the student's tab shows its own, nobody else's.
    const seenByStudent = client.getState().peers;
    expect(seenByStudent.find((p) => p.isSelf)).toMatchObject({ labelHistogram: [30, 10], numSamples: 40 });
    expect(seenByStudent.find((p) => !p.isSelf)).toMatchObject({ labelHistogram: [], status: 'idle', statusDetail: null });
    // The aggregating tab knows everyone's.
    expect(host.getState().peers.map((p) => p.labelHistogram.length)).toEqual([2, 2]);

    // An unchanged refresh keeps the references (no render).
    const { peers, rounds } = host.getState();
    host.setDecomposition('proxy');
    await vi.advanceTimersByTimeAsync(50);
    expect(host.getState().rounds).toBe(rounds);
    expect(host.getState().peers).toBe(peers);
    client.leave();
    host.leave();
  });

  it("the host's peers table shows how far each tab's training got, from the clients' own reports", async () => {
    const world = makeWorld();
    const hostDeps = world.deps();
    const host = new SessionControllerCore(hostDeps);
    const hosting = host.host({ ...settings, rounds: 1, roundDeadlineMs: 60_000 }, 'Teacher');
    await until(() => host.getState().status === 'lobby');
    await hosting;
    const clientDeps = world.deps();
    const { client } = await joinSession(host, clientDeps);
    await until(() => host.getState().peers.length === 2 && host.getState().peers.every((p) => p.numSamples === 40));
    hostDeps.workers[0].trainMs = 8_000;
    clientDeps.workers[0].trainMs = 8_000;
    const student = () => host.getState().peers.find((p) => p.name === 'Student')!;
    const teacher = () => host.getState().peers.find((p) => p.name === 'Teacher')!;

    const running = host.start();
    await until(() => student().statusProgress === 0.25);
    expect(student()).toMatchObject({ status: 'training', statusRound: 1 });
    await until(() => student().statusProgress === 0.5 && teacher().statusProgress === 0.5);
    // The client tab shows nothing of the kind about the others, only its own progress.
    expect(client.getState().peers.find((p) => !p.isSelf)?.statusProgress ?? null).toBeNull();
    await until(() => (client.getState().peers.find((p) => p.isSelf)?.statusProgress ?? 0) >= 0.5);
    await until(() => host.getState().status === 'finished');
    await running;
    expect(student()).toMatchObject({ status: 'uploaded', statusRound: 1, statusProgress: null });
    client.leave();
    host.leave();
  });

  it('stop: "stopping" while the round in progress finishes, then the lobby after that round', async () => {
    const world = makeWorld();
    const host = new SessionControllerCore(world.deps());
    const hosting = host.host({ ...settings, minClients: 1, rounds: 5 }, 'Teacher');
    await until(() => host.getState().status === 'lobby');
    await hosting;
    // The host's own client has announced its data (else round 1 finds no client with data).
    await until(() => host.getState().peers.some((p) => p.numSamples > 0));
    const running = host.start();
    await until(() => host.getState().runningRound === 1);
    host.stop();
    expect(host.getState()).toMatchObject({ stopping: true, status: 'running' });
    await until(() => !host.getState().stopping);
    await running;
    expect(host.getState()).toMatchObject({ status: 'lobby', currentRound: 1, runningRound: null, stopping: false });
    host.leave();
  });

  it('exports the newest global model and predicts with it through the worker; confusion on the aggregating tab only', async () => {
    const world = makeWorld();
    const hostDeps = world.deps();
    const host = new SessionControllerCore(hostDeps);
    await expect(host.exportModel()).rejects.toThrow(/join or host a session first/);
    await openSession(host);
    await expect(host.exportModel()).rejects.toThrow(/not received a global model yet/);
    await expect(host.predict({ kind: 'sample', index: 0 })).rejects.toThrow(/not received a global model yet/);
    const clientDeps = world.deps();
    const { client, code } = await joinSession(host, clientDeps);
    await until(() => host.getState().peers.length === 2 && host.getState().peers.every((p) => p.numSamples === 40));
    const running = host.start();
    await until(() => host.getState().status === 'finished');
    await running;

    const files = await host.exportModel();
    expect(files).toMatchObject({ round: 2, modelJson: '{"round":2}' });
    expect(files.weightsBin.byteLength).toBe(12);
    const trainer = hostDeps.workers[0];
    expect(trainer.calls).toContain(`export round 2 of ${code}`);
    // Two rounds of FedAvg over deltas of 0.5 from zeros: the global model after round 2.
    expect([...trainer.seenWeights[0][0].values]).toEqual([1, 1, 1]);
    await expect(host.predict({ kind: 'values', values: new Float32Array(784) })).resolves.toMatchObject({ round: 2, predicted: 1 });
    await expect(host.confusion()).resolves.toMatchObject({ round: 2, accuracy: 1 });
    expect(hostDeps.workers[1].calls).toContain('confusion');

    const clientRound = client.getState().globalModelRound!;
    await expect(client.exportModel()).resolves.toMatchObject({ round: clientRound });
    await expect(client.confusion()).rejects.toThrow(/only the aggregating tab/);
    client.leave();
    host.leave();
    expect(host.getState()).toMatchObject({ globalModelRound: null, runningRound: null, modelSpec: null, selfContributions: [] });
  });

  it('refuses data that does not fit the task next to the import (not as the session error); errors can be dismissed', async () => {
    const world = makeWorld();
    const deps = world.deps();
    const c = new SessionControllerCore(deps);
    await expect(c.join('zzzzzz', 'f00', 'Student')).rejects.toThrow(/no open session has the code ZZZZZZ/);
    expect(c.getState().error).toMatch(/no open session has the code ZZZZZZ/);
    c.clearError();
    expect(c.getState().error).toBeNull();
    deps.workers[0].importResult = { info: null, problems: [], refused: ['the session needs 28×28 images'] };
    await expect(c.importFiles([{ path: 'a.csv', file: new File([], 'a.csv') }])).rejects.toThrow(/does not fit this session, so it was not loaded: the session needs 28×28 images/);
    expect(c.getState().error).toBeNull();
    expect(c.getState().localData).toBeNull();
    const info: LocalDataInfo = { source: 'stored', name: 'my files', trainSamples: 8, evalSamples: 2, numClasses: 2, labelHistogram: [4, 4], inputShape: [28, 28, 1] };
    deps.workers[0].importResult = { info, problems: ['skipped notes.txt'], refused: [] };
    await c.importFiles([{ path: 'a/1.png', file: new File([], '1.png') }]);
    expect(c.getState().localData).toMatchObject({ source: 'own', numSamples: 8, numEval: 2, problems: ['skipped notes.txt'] });
  });
});
