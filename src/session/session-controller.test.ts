import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageDataset } from '../fl/data/dataset';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import type { WeightSet } from '../fl/weights';
import type { LocalDataInfo } from '../worker/api';
import { hostPeerId } from './session-code';
import { SessionControllerCore, type ControllerDeps, type ControllerTrainer, type ControllerTransport } from './session-controller';
import type { SessionSettings, SessionState } from './types';

const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedavg' },
  rounds: 2,
  localEpochs: 1,
  batchSize: 16,
  learningRate: 0.1,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 2_000,
  decomposition: 'proxy',
  decompositionEvery: 1,
  codec: 'float32',
  demoPartition: { kind: 'iid' },
  demoClients: 4,
  seed: 3,
  hostTrains: true,
};

const tinyWeights = (): WeightSet => [{ name: 'w', shape: [3], values: new Float32Array(3) }];

/** Stands in for the training worker: records what the controller asks of it. */
class FakeWorker {
  readonly calls: string[] = [];
  private data: LocalDataInfo | null = null;

  private info_(name: string, histogram: number[]): LocalDataInfo {
    return { source: 'demo', name, trainSamples: 40, evalSamples: 10, numClasses: 2, labelHistogram: histogram, inputShape: [28, 28, 1] };
  }

  async selectBackend(preference: string) {
    this.calls.push(`backend ${preference}`);
    return { backend: 'cpu' as const, preference, reason: 'fake probe', notices: [], probes: [{ backend: 'cpu' as const, ok: true, samplesPerSecond: 100 }], adapter: null, selectionMs: 1 };
  }
  async loadDemoShard(shard: { slot: number }) {
    this.calls.push(`demo shard ${shard.slot}`);
    return (this.data = this.info_(`demo shard ${shard.slot}`, [30, 10]));
  }
  async loadStoredData() {
    this.calls.push('stored data');
    return (this.data = this.info_('my files', [5, 35]));
  }
  async loadDatasets(name: string) {
    this.calls.push(`datasets ${name}`);
    return (this.data = this.info_(name, [1, 1]));
  }
  async initialWeights() {
    return tinyWeights();
  }
  async train(req: { round: number; weights: WeightSet }) {
    this.calls.push(`train ${req.round}`);
    await new Promise((r) => setTimeout(r, 20));
    const delta = req.weights.map((t) => ({ ...t, values: new Float32Array(t.values.length).fill(0.5) }));
    return { delta, numSamples: 40, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 20, samplesPerSecond: 2000 }, cancelled: false, backend: 'cpu' as const, backendSwitches: [] };
  }
  async evaluate(_spec: unknown, ws: WeightSet[]) {
    return { losses: ws.map(() => 0.7), accuracies: ws.map(() => 0.8), numSamples: 10, backend: 'cpu' as const, backendSwitches: [] };
  }
  async info() {
    return { backend: 'cpu', numSamples: this.data?.trainSamples ?? 0, labelHistogram: this.data?.labelHistogram ?? [] };
  }
  async cancel() {
    this.calls.push('cancel');
  }
  terminate() {
    this.calls.push('terminate');
  }
  async memory() {
    return { numTensors: 0, numBytes: 0 };
  }
}

function makeWorld() {
  const network = new InMemoryNetwork();
  let nextId = 0;
  const stored: { files: string[] } = { files: [] };

  function deps(): ControllerDeps & { workers: FakeWorker[]; closed: string[] } {
    const workers: FakeWorker[] = [];
    const closed: string[] = [];
    return {
      workers,
      closed,
      createTrainer: () => {
        const w = new FakeWorker();
        workers.push(w);
        return w as unknown as ControllerTrainer;
      },
      openTransport: async ({ id }) => {
        const endpoint = network.endpoint(id ?? `tab-${++nextId}`);
        const transport: ControllerTransport = Object.assign(endpoint, {
          close: () => {
            closed.push(endpoint.selfId);
            network.disconnect(endpoint.selfId);
          },
          onError: () => () => undefined,
        });
        return transport;
      },
      lanUrls: async () => ['http://10.0.0.2:5173/'],
      demoTestSplit: async () => ({ kind: 'image', images: new Uint8Array(784), shape: [28, 28, 1], labels: new Int32Array([0]), numClasses: 2 }) satisfies ImageDataset,
      storedData: {
        load: async () => (stored.files.length ? { problems: [] } : null),
        import: async (files) => {
          stored.files = files.map((f) => ('path' in f ? f.path : f.name));
          return { summary: null, problems: ['nothing usable'] };
        },
        forget: async () => {
          stored.files = [];
        },
      },
      pageUrl: () => 'https://fedtab.test/app/',
    };
  }
  return { network, deps };
}

/** Runs fake time until `done` holds. */
async function until(done: () => boolean, maxMs = 30_000): Promise<void> {
  for (let t = 0; t < maxMs && !done(); t += 10) await vi.advanceTimersByTimeAsync(10);
  expect(done()).toBe(true);
}

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
    const hosting = host.host(settings, 'Teacher');
    await until(() => host.getState().status === 'lobby');
    await hosting;
    const s = host.getState();
    expect(s.code).toMatch(/^[A-Z0-9]{6}$/);
    expect(s.joinUrl).toMatch(new RegExp(`^https://fedtab.test/app/#/join/${s.code}\\?s=[0-9a-f]{24}$`));
    expect(s.lanUrls).toEqual(['http://10.0.0.2:5173/']);
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
    const hosting = host.host(settings, 'Teacher');
    await until(() => host.getState().status === 'lobby');
    await hosting;
    const { code, joinUrl } = host.getState();
    const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
    const clientDeps = world.deps();
    const client = new SessionControllerCore(clientDeps);
    const joining = client.join(code!, secret, 'Student');
    await until(() => client.getState().status === 'lobby');
    await joining;
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
    await expect(lost.join('zzzzzz', 'f00', 'Student')).rejects.toThrow(`peer ${nobody} is not on the network`);
    expect(lost.getState()).toMatchObject({ status: 'error', error: `peer ${nobody} is not on the network` });
    await expect(lost.join('not a code', 'f00', 'Student')).rejects.toThrow(/"not a code" is not a session code/);

    const host = new SessionControllerCore(world.deps());
    const hosting = host.host(settings, 'Teacher');
    await until(() => host.getState().status === 'lobby');
    await hosting;
    // A wrong secret leads to another peer id: the session cannot even be found with it.
    const intruder = new SessionControllerCore(world.deps());
    const code = host.getState().code!;
    const elsewhere = await hostPeerId(code, 'guessed');
    await expect(intruder.join(code, 'guessed', 'Intruder')).rejects.toThrow(`peer ${elsewhere} is not on the network`);
    expect(intruder.getState().status).toBe('error');
    expect(host.getState().peers).toHaveLength(1);
    host.leave();
  });

  it('leave() stops the worker, closes the transport and the validation worker, and keeps the data and the log', async () => {
    const world = makeWorld();
    const deps = world.deps();
    const host = new SessionControllerCore(deps);
    const hosting = host.host(settings, 'Teacher');
    await until(() => host.getState().status === 'lobby');
    await hosting;
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

  it('imports files through the store, logs their problems, and forgets them', async () => {
    const world = makeWorld();
    const c = new SessionControllerCore(world.deps());
    await expect(c.importFiles([{ path: 'cats/1.png', file: new File([], '1.png') }])).rejects.toThrow(/nothing could be loaded: nothing usable/);
    expect(c.getState().log.map((l) => l.level)).toEqual(['warn', 'error']);
    await c.forgetData();
    expect(c.getState().localData).toBeNull();
    expect(c.getState().log.at(-1)?.text).toMatch(/deleted from this browser/);
  });
});
