/** The session controller's parts, each on its own: the tab's workers, its local data, the global model it holds. */
import { describe, expect, it } from 'vitest';
import type { AggregationJob, AggregationOutcome } from '../../fl/aggregate-round';
import { cnnSpec, tabularSpec } from '../../fl/model-spec';
import type { SessionConfig } from '../../fl/protocol';
import type { WeightSet } from '../../fl/weights';
import { FakeWorker } from '../testing/fake-worker';
import type { SessionState } from '../types';
import { GlobalModel } from './global-model';
import { LocalData, type StoredData } from './local-data';
import { TabWorkers, type ControllerTrainer } from './tab-workers';
import { TabMemory } from './tab-memory';
import { makeSnapshotStore, makeTabStorage } from '../testing/controller-world';

const mnist = cnnSpec([28, 28, 1], 10);
const config = (model = mnist) => ({ model, seed: 3, demo: { partition: { kind: 'iid' }, clients: 4 } }) as unknown as SessionConfig;
const weights = (x: number): WeightSet => [{ name: 'w', shape: [1], values: Float32Array.from([x]) }];

function workers(opts: { aggregator?: boolean } = {}) {
  const made: FakeWorker[] = [];
  const aggregated: AggregationJob[] = [];
  const terminated: string[] = [];
  const tab = new TabWorkers({
    createTrainer: () => {
      const w = new FakeWorker();
      made.push(w);
      return w as unknown as ControllerTrainer;
    },
    demoTestSplit: async () => ({ kind: 'image', images: new Uint8Array(784), shape: [28, 28, 1], labels: new Int32Array([0]), numClasses: 10 }),
    ...(opts.aggregator
      ? {
          createAggregator: () => ({
            aggregate: async (job: AggregationJob) => (aggregated.push(job), { ok: false, reason: 'test', dropped: [], clipped: [], capped: [] }) as AggregationOutcome,
            terminate: () => terminated.push('aggregator'),
          }),
        }
      : {}),
  });
  return { tab, made, aggregated, terminated };
}

describe('TabWorkers', () => {
  it('starts the validation worker on the first evaluation only, and refuses a task the demo test split does not fit', async () => {
    const { tab, made } = workers();
    expect(made).toHaveLength(1); // the training worker
    const evaluate = tab.demoValidation();
    expect(made).toHaveLength(1);
    expect(tab.validation).toBeNull();
    expect(await evaluate(mnist, [weights(1), weights(2)])).toEqual({ losses: [0.7, 0.7], accuracies: [0.8, 0.8] });
    await evaluate(mnist, [weights(1)]);
    expect(made).toHaveLength(2);
    expect(made[1].calls).toEqual(['datasets demo test split']);
    await expect(evaluate(tabularSpec(4, 3), [weights(1)])).rejects.toThrow(/no test set for this task/);
  });

  it('aggregates in the aggregation worker when the page has one (started on first use, gone with the session)', async () => {
    const { tab, aggregated, terminated } = workers({ aggregator: true });
    expect(tab.aggregatesElsewhere).toBe(true);
    // Called unbound, as the round engine calls the hook the controller hands it.
    const hook = tab.aggregate;
    await hook({ round: 1 } as AggregationJob);
    expect(aggregated).toHaveLength(1);
    tab.endSession();
    expect(terminated).toEqual(['aggregator']);
    expect(workers().tab.aggregatesElsewhere).toBe(false);
  });

  it('keeps the backend preference for the next choice and ends training with the session', async () => {
    const { tab, made } = workers();
    const chosen = await tab.chooseBackend(mnist, 'wasm');
    expect(chosen.backend.name).toBe('cpu');
    await tab.chooseBackend(mnist);
    expect(made[0].calls).toEqual(['backend wasm', 'backend wasm']);
    tab.endSession();
    expect(made[0].calls).toContain('cancel');
  });
});

function localData(stored: { files: boolean }) {
  const worker = new FakeWorker();
  const shown: Array<SessionState['localData']> = [];
  const logs: string[] = [];
  const store: StoredData = {
    load: async () => (stored.files ? { problems: ['row 3 skipped'] } : null),
    files: (files) => files.map((f) => ('path' in f ? f : { path: f.name, file: f })),
    forget: async () => void (stored.files = false),
  };
  const data = new LocalData(worker as unknown as ControllerTrainer, store, (level, text) => logs.push(`${level}: ${text}`), (view) => shown.push(view));
  return { data, worker, shown, logs };
}

describe('LocalData', () => {
  it('loads the stored data when it fits the session, else the demo shard of the slot', async () => {
    const own = localData({ files: true });
    await own.data.loadInitial(config(), 5);
    expect(own.worker.calls).toEqual(['stored data']);
    expect(own.shown.at(-1)).toMatchObject({ source: 'own', description: 'my files', problems: ['row 3 skipped'] });
    const demo = localData({ files: false });
    await demo.data.loadInitial(config(), 5);
    expect(demo.worker.calls).toEqual(['demo shard 1']); // slot 5 of 4 demo clients
    expect(demo.data.has).toBe(true);
  });

  it('for a task the demo data does not fit, loads nothing and says what to import', async () => {
    const { data, logs, worker } = localData({ files: false });
    await data.loadInitial(config(tabularSpec(4, 3)), 0);
    expect(worker.calls).toEqual([]);
    expect(data.has).toBe(false);
    expect(logs.join('\n')).toMatch(/import data of that kind/);
    await expect(data.loadDemo(config(tabularSpec(4, 3)), 0)).rejects.toThrow(/does not fit this session's task/);
  });

  it('refuses files that do not fit and keeps the data held before; forgetting leaves none', async () => {
    const { data, worker, shown } = localData({ files: false });
    await data.loadDemo(config(), 0);
    worker.importResult = { info: null, problems: [], refused: ['table rows of 4 features'] };
    await expect(data.importFiles([{ path: 'a.csv', file: new File(['x'], 'a.csv') }], mnist)).rejects.toThrow(/not loaded: table rows of 4 features\. This device keeps training on its previous data/);
    expect(data.has).toBe(true);
    await expect(data.importFiles([], mnist)).rejects.toThrow(/no files selected/);
    await data.forget();
    expect(data.has).toBe(false);
    expect(shown.at(-1)).toBeNull();
  });
});

describe('GlobalModel', () => {
  it('keeps only newer models, and serves predictions, the confusion matrix and the download from the newest', async () => {
    const model = new GlobalModel();
    const worker = new FakeWorker();
    const trainer = worker as unknown as ControllerTrainer;
    await expect(model.predict(trainer, mnist, { kind: 'pixels', pixels: new Float32Array(784) } as never, true)).rejects.toThrow(/has not received a global model yet/);
    expect(model.remember(2, weights(2))).toBe(true);
    expect(model.remember(1, weights(1))).toBe(false);
    expect(model.remember(-1, weights(9))).toBe(false);
    expect((await model.export(trainer, mnist, 'ABC123')).round).toBe(2);
    expect(worker.seenWeights.at(-1)).toEqual(weights(2));
    await expect(model.predict(trainer, mnist, { kind: 'sample', index: 0 } as never, false)).rejects.toThrow(/holds no data/);
    await expect(model.confusion(null, mnist)).rejects.toThrow(/holds no test set/);
    expect((await model.confusion(Promise.resolve(trainer), mnist)).round).toBe(2);
    model.clear();
    await expect(model.export(trainer, mnist, 'ABC123')).rejects.toThrow(/has not received a global model yet/);
  });
});

describe('TabMemory', () => {
  const snapshot = (code: string) => ({ code, config: config(), hostTrains: true, checkpoint: { round: 3, weights: weights(3), serverState: null }, records: [], roster: [], term: 2, peerId: 'p-ann' }) as never;

  it('keeps the key, host seed and contributions of the same session; another session gets a new key', () => {
    const tabs = makeTabStorage();
    const memory = new TabMemory(tabs, makeSnapshotStore(), () => undefined);
    memory.hostSeed = 'seed';
    const key = memory.remember('host', 'ABC123', 's3cret', 'Teacher');
    memory.keepContributions('ABC123', [1, 2]);
    memory.keepContributions('OTHER1', [9]); // not this tab's session: ignored
    const back = new TabMemory(tabs, makeSnapshotStore(), () => undefined);
    expect(back.resumable()).toEqual({ code: 'ABC123', role: 'host', name: 'Teacher' });
    expect(back.remember('client', 'ABC123', 's3cret', 'Teacher')).toBe(key);
    expect(back.hostSeed).toBe('seed');
    expect(back.contributions('ABC123')).toEqual([1, 2]);
    expect(back.remember('client', 'XYZ789', 'other', 'Teacher')).not.toBe(key);
    expect(back.contributions('XYZ789')).toEqual([]);
  });

  it('a tab that stops aggregating loses its snapshot and comes back as a client; leaving forgets everything', async () => {
    const tabs = makeTabStorage();
    const snapshots = makeSnapshotStore();
    const memory = new TabMemory(tabs, snapshots, () => undefined);
    memory.remember('client', 'ABC123', 's', 'Ann');
    memory.aggregates('ABC123', true);
    memory.saveSnapshot(snapshot('ABC123'));
    await new Promise((r) => setTimeout(r, 0));
    expect(memory.resumable()?.role).toBe('host');
    expect(await memory.ownSnapshot(memory.load()!)).not.toBeNull();
    memory.aggregates('ABC123', false);
    await new Promise((r) => setTimeout(r, 0));
    expect(memory.resumable()?.role).toBe('client');
    expect(snapshots.map.has('ABC123')).toBe(false);
    memory.forget();
    expect(memory.resumable()).toBeNull();
  });
});
