/**
 * Controller tests' world: tabs (SessionControllerCore with fake workers) on one in-memory network, optionally with
 * per-tab storage and the origin's IndexedDB as in-memory stand-ins (for reloads).
 */
import type { ImageDataset } from '../../fl/data/dataset';
import { InMemoryNetwork } from '../../fl/in-memory-transport';
import { SessionControllerCore, type ControllerDeps, type ControllerTrainer, type ControllerTransport } from '../session-controller';
import { storageTabSessions, type HostSnapshot, type HostSnapshotStore, type TabSessionStore } from '../resume-store';
import type { SessionSettings } from '../types';
import { FakeWorker } from './fake-worker';
import { untilFake } from './fake-time';

export const TEST_SETTINGS: SessionSettings = {
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

export const TEST_LAN_URLS = ['http://10.0.0.2:5173/'];

/** One tab's sessionStorage, in memory. */
export function makeTabStorage(): TabSessionStore {
  const items = new Map<string, string>();
  const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k) };
  return storageTabSessions(storage);
}

export type TestDeps = ControllerDeps & {
  workers: FakeWorker[];
  /** The tab's transports, in the order opened. */
  transports: ControllerTransport[];
  /** Peer ids of the transports the controller closed. */
  closed: string[];
};

/** One browser's IndexedDB of host snapshots, in memory; `map` shows what it holds. */
export function makeSnapshotStore(): HostSnapshotStore & { map: Map<string, HostSnapshot> } {
  const map = new Map<string, HostSnapshot>();
  return {
    map,
    load: async (code) => map.get(code) ?? null,
    save: async (s) => void map.set(s.code, structuredClone(s)),
    forget: async (code) => void map.delete(code),
  };
}

export function makeControllerWorld() {
  const network = new InMemoryNetwork();
  let nextId = 0;
  const stored: { files: string[] } = { files: [] };
  const origin = makeSnapshotStore();
  const snapshots = origin.map;

  /**
   * A tab; with `tabSession`, one that keeps its session across reloads, and host snapshots in `hostSnapshots` (by
   * default the world's one origin, shared by every tab; a store of its own stands for a tab on another device).
   */
  function deps(tabSession?: TabSessionStore, hostSnapshots: HostSnapshotStore = origin): TestDeps {
    const workers: FakeWorker[] = [];
    const transports: ControllerTransport[] = [];
    const closed: string[] = [];
    return {
      workers,
      transports,
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
        transports.push(transport);
        return transport;
      },
      lanUrls: async () => TEST_LAN_URLS,
      demoTestSplit: async () => ({ kind: 'image', images: new Uint8Array(784), shape: [28, 28, 1], labels: new Int32Array([0]), numClasses: 2 }) satisfies ImageDataset,
      storedData: {
        load: async () => (stored.files.length ? { problems: [] } : null),
        files: (files) => files.map((f) => ('path' in f ? f : { path: f.name, file: f })),
        forget: async () => {
          stored.files = [];
        },
      },
      pageUrl: () => 'https://fedtab.test/app/',
      page: { crypto: globalThis.crypto, location: { protocol: 'https:', host: 'fedtab.test' } },
      ...(tabSession ? { tabSession, hostSnapshots } : {}),
    };
  }

  /**
   * The tab goes away without leaving (a reload): its peers see its links close, and the page that was there writes
   * nothing more to the tab's storage or the snapshots (its timers may still run here; in a browser they are gone).
   */
  const reload = (d: TestDeps) => {
    d.transports.forEach((t) => t.close());
    if (d.tabSession) d.tabSession = { load: () => null, save: () => undefined, clear: () => undefined };
    if (d.hostSnapshots) d.hostSnapshots = { load: async () => null, save: async () => undefined, forget: async () => undefined };
  };
  return { network, deps, reload, snapshots };
}

/** Hosts a session on `host` and waits (fake time) until it is open. */
export async function openSession(host: SessionControllerCore, settings: SessionSettings = TEST_SETTINGS, name = 'Teacher'): Promise<void> {
  const hosting = host.host(settings, name);
  await untilFake(() => host.getState().status === 'lobby');
  await hosting;
}

/** A client tab on `deps` joins `host`'s session with the code and the secret from its join link. */
export async function joinSession(host: SessionControllerCore, deps: ControllerDeps, name = 'Student') {
  const { code, joinUrl } = host.getState();
  const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
  const client = new SessionControllerCore(deps);
  const joining = client.join(code!, secret, name);
  // In: the lobby, or a run under way (the session's record says which).
  await untilFake(() => client.getState().status !== 'idle' && client.getState().status !== 'connecting');
  await joining;
  return { client, code: code!, secret };
}
