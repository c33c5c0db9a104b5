/**
 * This tab's local data, as the session controller uses it: the user's own files (stored in this browser and
 * loaded by the training worker) or the demo shard of its slot. Decoding, checking against the session's task and
 * storing all happen in the training worker, off the main thread; this object decides what to load and what to show.
 */
import type { SessionConfig } from '../../fl/protocol';
import type { ModelSpec } from '../../fl/model-spec';
import type { LocalFile } from '../../data/pickers';
import { dataFitProblems, demoDataFits, describeTask } from '../../data/task-fit';
import type { LocalDataInfo } from '../../worker/api';
import type { SessionState } from '../types';
import type { ControllerTrainer } from './tab-workers';

/** The user's data stored in this browser (IndexedDB). */
export interface StoredData {
  load(): Promise<{ problems: string[] } | null>;
  /** Turns what the page was handed (an <input>'s File list or picked LocalFiles) into LocalFiles for the worker. */
  files(files: File[] | LocalFile[]): LocalFile[];
  forget(): Promise<void>;
}

type Log = (level: 'info' | 'warn', text: string) => void;

export class LocalData {
  private loaded = false;

  constructor(
    private readonly trainer: ControllerTrainer,
    private readonly stored: StoredData,
    private readonly log: Log,
    /** Called with what the "you" panel shows about this tab's data (null: none). */
    private readonly show: (view: SessionState['localData']) => void,
  ) {}

  /** Whether this tab holds data to train on. */
  get has(): boolean {
    return this.loaded;
  }

  private shown(info: LocalDataInfo, source: 'demo' | 'own', problems: string[] = []): void {
    this.loaded = true;
    this.show({ source, description: info.name, numSamples: info.trainSamples, numEval: info.evalSamples, labelHistogram: info.labelHistogram, problems });
  }

  /** The user's stored data if there is any and it fits the session (a reload keeps it), else the demo shard of this slot. */
  async loadInitial(config: SessionConfig, slot: number): Promise<void> {
    const stored = await this.stored.load().catch(() => null);
    if (stored) {
      try {
        const info = await this.trainer.loadStoredData();
        const shape = info.inputShape.length === 3 ? { kind: 'image' as const, shape: info.inputShape as [number, number, number] } : { kind: 'tabular' as const, features: info.inputShape[0] };
        const misfit = dataFitProblems(config.model, shape, info.numClasses);
        if (misfit.length === 0) {
          this.shown(info, 'own', stored.problems);
          return;
        }
        this.log('warn', `your stored data (${info.name}) does not fit this session: ${misfit.join('; ')}${demoDataFits(config.model) ? '; using the demo data' : ''}`);
      } catch (e) {
        this.log('warn', `your stored data does not fit this session's model (${errorText(e)}); using the demo data`);
      }
    }
    if (!demoDataFits(config.model)) {
      this.log('info', `this session's task is ${describeTask(config.model)}: import data of that kind to take part (the demo data does not fit)`);
      return;
    }
    await this.loadDemo(config, slot);
  }

  /** The demo shard of `slot`; throws (nothing changes) when the demo data does not fit the session's task. */
  async loadDemo(config: SessionConfig, slot: number): Promise<void> {
    if (!demoDataFits(config.model)) {
      throw new Error(`the demo data (MNIST digits: 28×28 images with 1 channel, 10 classes) does not fit this session's task (${describeTask(config.model)}): import your own data`);
    }
    const info = await this.trainer.loadDemoShard({ partition: config.demo.partition, seed: config.seed, numClients: config.demo.clients, slot: slot % config.demo.clients });
    this.shown(info, 'demo');
  }

  /**
   * Imports the user's files, checked against the session's task (`spec`, null before joining). Throws with a
   * message for the user when nothing usable is in them or they do not fit; the data held before stays then.
   */
  async importFiles(files: File[] | LocalFile[], spec: ModelSpec | null): Promise<void> {
    const local = this.stored.files(files);
    if (local.length === 0) throw new Error('no files selected');
    const result = await this.trainer.importFiles(local, spec);
    result.problems.forEach((p) => this.log('warn', p));
    if (result.refused.length > 0) {
      throw new Error(`Your data does not fit this session, so it was not loaded: ${result.refused.join('; ')}.${this.loaded ? ' This device keeps training on its previous data.' : ''}`);
    }
    if (!result.info) throw new Error(`nothing could be loaded: ${result.problems.join('; ')}`);
    const info = result.info;
    this.shown(info, 'own', result.problems);
    this.log('info', `loaded ${info.trainSamples + info.evalSamples} samples of your own data (they stay on this device)`);
  }

  /** Deletes the stored data from this browser; the tab holds no data afterwards. */
  async forget(): Promise<void> {
    await this.stored.forget();
    this.loaded = false;
    this.show(null);
    this.log('info', 'your stored data was deleted from this browser');
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
