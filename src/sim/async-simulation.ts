/**
 * The simulator on a simulated clock: every client runs on a simulated device (devices.ts), so a piece of work takes
 * epochs * samples / speed + bytes / bandwidth simulated seconds. Two modes, both through the same FL code as the app
 * (TfLocalTrainer, the strategies' aggregators, fl/async's buffered aggregation):
 * - sync: rounds; with a deadline, a round aggregates what arrived by then and late work is thrown away;
 * - async: a client trains again as soon as it has sent its update, from the newest global model; an aggregation
 *   step every M updates, each weighted by its staleness (fl/async).
 * Training runs for real; only time is simulated, so a run is deterministic under its seed.
 */
import * as tf from '@tensorflow/tfjs';
import { robustSettings } from '../fl/robust';
import { setupNodeBackend } from '../fl/backend/node-backend';
import { AsyncAggregation, type AsyncAggregationConfig, type StepContribution, type StepResult } from '../fl/async/async-aggregation';
import type { BufferedUpdate } from '../fl/async/buffer';
import { subsetDataset, datasetSize, type Dataset } from '../fl/data/dataset';
import { describePartition, partitionIndices, type Partition, type PartitionSummary } from '../fl/data/partition';
import { proxyDecomposition, type LossDecomposition } from '../fl/decomposition';
import type { LocalTrainer, TrainResponse } from '../fl/local-trainer';
import { buildModel, getWeights, setWeights, type ModelSpec } from '../fl/models';
import { Rng } from '../fl/rng';
import { createAggregator } from '../fl/strategies/aggregators';
import type { Extras } from '../fl/strategies/types';
import { strategyRuntime } from '../fl/strategies/runtime';
import { evaluateModel } from '../fl/train';
import { addScaledWeights, totalParameters, type WeightSet } from '../fl/weights';
import { armAttackers } from './arm-attackers';
import { buildClientShards } from './client-shards';
import { EventQueue } from '../fl/coordinator/event-queue';
import { buildParticipantTrainer, InProcessRunner, type ParticipantContext } from './participant';
import { deviceProfiles, slowClientIds, workSeconds, type DeviceProfile, type DeviceSpec } from './devices';
import { intertwinedPartition } from './intertwined';
import { evaluatePerClass } from './per-class';
import { loadData, modelSpecFor, type SimConfig } from './simulation';

export type SimMode = 'sync' | 'async';

export interface ClockOptions {
  mode: SimMode;
  devices: DeviceSpec;
  /** The designated slow devices hold particular classes (intertwined.ts). */
  intertwined: boolean;
  /** Sync: a round aggregates what arrived within this many simulated seconds (null: waits for everyone). */
  deadline: number | null;
  async: AsyncAggregationConfig;
  /** Stop at this many simulated seconds (null: after config.rounds rounds or aggregation steps). */
  simTime: number | null;
  /** Async: evaluate the global model (and measure the decomposition) every N steps, and after the last. */
  evalEvery: number;
  /** Size of the aggregator's validation set V (proxy decomposition), taken from the test split after testLimit. */
  validationSize: number;
}

export const CLOCK_DEFAULTS: ClockOptions = {
  mode: 'async',
  devices: { kind: 'uniform' },
  intertwined: false,
  deadline: null,
  async: { bufferSize: 5, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null },
  simTime: null,
  evalEvery: 1,
  validationSize: 500,
};

/** One aggregation: a sync round or an async step. */
export interface ClockedRecord {
  step: number;
  /** Simulated seconds at which this global model came to be. */
  simTime: number;
  /** Client indices whose updates were used, and each one's staleness (0 in sync rounds). */
  clients: number[];
  staleness: number[];
  /** Updates dropped for staleness in this step; in sync rounds, selected clients that missed the deadline. */
  dropped: number;
  /**
   * Updates refused since the previous record, with the reason: malformed on arrival (NaN/Infinity, wrong layout),
   * or dropped by the robust aggregation.
   */
  refused: Array<{ client: number; reason: string }>;
  accuracy: number | null;
  loss: number | null;
  perClass: number[] | null;
  /** Proxy mode (V held by the aggregator), when this step was evaluated. */
  decomposition: LossDecomposition | null;
  /** Wall-clock milliseconds this step cost the simulator (training included). */
  wallMs: number;
}

export interface ClockedResult {
  config: SimConfig;
  clock: ClockOptions;
  backend: { name: string; reason: string };
  model: ModelSpec;
  partition: { histograms: number[][]; summary: PartitionSummary };
  devices: Array<DeviceProfile & { seconds: number }>;
  /** Classes held only by the slow devices (--intertwined), else []. */
  slowClasses: number[];
  records: ClockedRecord[];
  final: {
    accuracy: number;
    bestAccuracy: number;
    simTime: number;
    perClass: number[];
    /** Mean accuracy over slowClasses (NaN without them). */
    slowClassAccuracy: number;
    /** Updates used per client. */
    contributions: number[];
    /** histogram[tau] = how many used updates were tau steps stale. */
    stalenessHistogram: number[];
    droppedUpdates: number;
    /** Updates refused (malformed, or dropped by the robust aggregation): the records list each with its reason. */
    refusedUpdates: number;
  };
}

export interface ClockedHooks {
  onRecord?: (record: ClockedRecord) => void;
  onStatus?: (text: string) => void;
}

/** Simulated seconds to reach `target` accuracy (first evaluated record at or above it), or null. */
export function timeToAccuracy(records: readonly ClockedRecord[], target: number): number | null {
  const hit = records.find((r) => r.accuracy !== null && r.accuracy >= target - 1e-12);
  return hit ? hit.simTime : null;
}

interface Work {
  client: number;
  startedAt: number;
  seq: number;
  baseVersion: number;
  base: WeightSet;
  result: TrainResponse;
  /** What the strategy sent beside the weights (SCAFFOLD's c of the version it started from). */
  extras?: Extras;
}

export async function runClockedSimulation(cfg: SimConfig, clock: ClockOptions, hooks: ClockedHooks = {}): Promise<ClockedResult> {
  if (clock.mode === 'async' && clock.deadline !== null) throw new Error('a deadline applies to sync mode only');
  if (!(Number.isInteger(clock.evalEvery) && clock.evalEvery >= 1)) throw new Error(`evalEvery must be a positive integer, got ${clock.evalEvery}`);
  const data = loadData({ ...cfg, testLimit: cfg.testLimit + clock.validationSize });
  const nTest = Math.min(cfg.testLimit, datasetSize(data.test));
  const test = subsetDataset(data.test, range(0, nTest));
  const validation = subsetDataset(data.test, range(nTest, datasetSize(data.test)));
  const spec = modelSpecFor(cfg, data.train);
  const backend = await setupNodeBackend(cfg.backend, spec);
  hooks.onStatus?.(`backend ${backend.backend}: ${backend.reason}`);

  const devices = deviceProfiles(clock.devices, cfg.clients, cfg.seed);
  let partition: Partition;
  let slowClasses: number[] = [];
  if (clock.intertwined) {
    ({ partition, slowClasses } = intertwinedPartition(data.train.labels, data.train.numClasses, cfg.clients, slowClientIds(cfg.clients, cfg.seed), cfg.partition, cfg.seed));
  } else {
    partition = partitionIndices(data.train.labels, data.train.numClasses, cfg.clients, cfg.partition, cfg.seed);
  }
  // Clients as index lists into the one training set, trained one job at a time on one shared model (participant.ts),
  // their strategy state (SCAFFOLD's c_k) kept in ctx.clientStates: memory follows the jobs, not the population.
  const shards = buildClientShards(data.train, partition, { evalFraction: cfg.evalFraction, evalMax: cfg.evalMax, seed: cfg.seed });
  // The attackers (chosen by the seed) as in sync rounds: poisoned shards, attacking trainers.
  const armed = armAttackers(shards, cfg.attack, { seed: cfg.seed, strategy: cfg.strategy.name, numClasses: data.train.numClasses });
  const runner = new InProcessRunner(data.train, cfg.seed);
  const ctx: ParticipantContext = { shards: armed.shards, runner, backendName: tf.getBackend(), clientStates: new Map() };
  const trainers: LocalTrainer[] = shards.map((_, k) => armed.trainer(k, buildParticipantTrainer(ctx, k)));
  const trainSizes = shards.map((shard) => shard.train.length);
  const evalModel = buildModel(spec, cfg.seed);
  const initial = await getWeights(evalModel);
  const modelBytes = totalParameters(initial) * 4;
  const seconds = devices.map((d, k) => workSeconds(d, trainSizes[k], cfg.localEpochs, modelBytes));

  const aggregator = createAggregator(cfg.strategy);
  const runtime = strategyRuntime(cfg.strategy);
  // The defence applies as in sync rounds; a simulated client declares its training-set size when it joins.
  const defence = {
    settings: robustSettings(cfg.robust),
    strategy: cfg.strategy.name,
    declaredSamples: (id: string) => trainSizes[Number(id)],
    // ...and its label histogram, as a tab's hello does.
    declaredLabels: (id: string) => shards[Number(id)]?.labelHistogram,
  };
  const core = new AsyncAggregation(aggregator, clock.mode === 'async' ? clock.async : { ...clock.async, maxStaleness: null, participation: 'none' }, initial, 0, defence);
  const records: ClockedRecord[] = [];
  const contributions = new Array<number>(cfg.clients).fill(0);
  const stalenessHistogram: number[] = [];
  let droppedUpdates = 0;
  let refused: ClockedRecord['refused'] = [];
  let refusedUpdates = 0;
  let assignments = 0;
  const trainConfig = { localEpochs: cfg.localEpochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, optimizer: cfg.optimizer, momentum: cfg.momentum };

  const train = async (k: number, base: WeightSet, version: number): Promise<Pick<Work, 'result' | 'extras'>> => {
    // The strategy's plan for this client: what goes beside the weights (SCAFFOLD's c) and training overrides.
    const plan = runtime.planRound({ round: version + 1, candidates: [{ id: String(k), numSamples: trainSizes[k] }], fraction: 1, minClients: 1, seed: cfg.seed, global: base, state: aggregator.state });
    const result = await trainers[k].train({ round: version, model: spec, strategy: cfg.strategy, train: { ...trainConfig, ...plan.train, seed: cfg.seed * 1_000_003 + assignments++ }, weights: base, ...(plan.extras ? { extras: plan.extras } : {}) });
    return { result, ...(plan.extras ? { extras: plan.extras } : {}) };
  };

  const evaluateStep = async (step: StepResult): Promise<Pick<ClockedRecord, 'accuracy' | 'loss' | 'perClass' | 'decomposition'>> => {
    setWeights(evalModel, step.global);
    const onTest = await evaluatePerClass(evalModel, test);
    let decomposition: LossDecomposition | null = null;
    if (datasetSize(validation) > 0 && step.updates.every((u) => u.base && u.metrics)) {
      const locals = step.updates.map((u) => addScaledWeights(u.base!, u.delta));
      const onV: number[] = [];
      for (const w of [...locals, step.global]) {
        setWeights(evalModel, w);
        onV.push((await evaluateModel(evalModel, validation)).loss);
      }
      // A local model as its client sent it can be non-finite (a max-float update the defence shrank before it went
      // in): the step still counts, its decomposition is then not measured, as in sync rounds.
      try {
        decomposition = proxyDecomposition(step.updates.map((u) => u.metrics!.evalLoss), onV.slice(0, locals.length), onV[locals.length], step.updates.map((u) => u.numSamples));
      } catch (e) {
        hooks.onStatus?.(`step ${step.version}: measuring the loss decomposition failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return { accuracy: onTest.accuracy, loss: onTest.loss, perClass: onTest.perClass, decomposition };
  };

  const refuse = (client: number, reason: string) => {
    refused.push({ client, reason });
    refusedUpdates++;
    hooks.onStatus?.(`refused an update from client ${client}: ${reason}`);
  };

  /** Buffers an arrived update as the app's async engine does: a malformed one is refused with the reason. */
  const submit = (w: Work, arrivedAt: number): ReturnType<AsyncAggregation['submit']> | 'refused' => {
    try {
      return core.submit(toBuffered(w, arrivedAt));
    } catch (e) {
      refuse(w.client, (e as Error).message);
      return 'refused';
    }
  };

  /** An aggregation step; updates the robust aggregation dropped are refused with the reason, a failed step changes nothing. */
  const step = (count: number | undefined, onDropped?: (d: StepContribution[]) => void): StepResult | null => {
    const pending = core.nextClients(count);
    let result: StepResult | null;
    try {
      result = core.step(count, onDropped, cfg.clients);
    } catch (e) {
      for (const id of pending) refuse(Number(id), `the aggregation step failed: ${(e as Error).message}`);
      return null;
    }
    for (const r of result?.rejected ?? []) refuse(Number(r.clientId), `dropped by the robust aggregation: ${r.reason}`);
    return result;
  };

  const record = async (step: StepResult, simTime: number, dropped: number, evaluate: boolean, wallStart: number) => {
    for (const u of step.used) {
      contributions[Number(u.clientId)]++;
      stalenessHistogram[u.staleness] = (stalenessHistogram[u.staleness] ?? 0) + 1;
    }
    const measured = evaluate ? await evaluateStep(step) : { accuracy: null, loss: null, perClass: null, decomposition: null };
    const r: ClockedRecord = { step: step.version, simTime, clients: step.used.map((u) => Number(u.clientId)), staleness: step.used.map((u) => u.staleness), dropped, refused, ...measured, wallMs: performance.now() - wallStart };
    refused = [];
    records.push(r);
    hooks.onRecord?.(r);
  };

  const toBuffered = (w: Work, arrivedAt: number): BufferedUpdate => ({
    clientId: String(w.client),
    key: `${w.client}#${w.seq}`,
    baseVersion: w.baseVersion,
    base: w.base,
    delta: w.result.delta,
    numSamples: w.result.numSamples,
    ...(w.result.extras ? { extras: w.result.extras } : {}),
    ...(w.extras ? { sentExtras: w.extras } : {}),
    metrics: w.result.metrics,
    startedAt: w.startedAt,
    arrivedAt,
  });

  const budget = clock.simTime ?? Infinity;
  const maxSteps = clock.simTime === null ? cfg.rounds : Infinity;
  try {
    if (clock.mode === 'sync') {
      let now = 0;
      for (let round = 1; round <= maxSteps; round++) {
        const wallStart = performance.now();
        const selected = selectClients(cfg, round);
        const late = clock.deadline === null ? [] : selected.filter((k) => seconds[k] > clock.deadline!);
        const arrived = selected.filter((k) => !late.includes(k));
        const end = now + (late.length > 0 ? clock.deadline! : Math.max(...selected.map((k) => seconds[k])));
        if (end > budget) break;
        now = end;
        if (arrived.length === 0) {
          hooks.onStatus?.(`round ${round}: no update arrived by the deadline`);
          continue;
        }
        // Late clients' work would be thrown away: it is not even computed.
        const base = core.global;
        const version = core.version;
        for (const k of arrived) {
          const trained = await train(k, base, version);
          submit({ client: k, startedAt: now - seconds[k], seq: round, baseVersion: version, base, ...trained }, now);
        }
        const done = step(arrived.length);
        if (!done) {
          hooks.onStatus?.(`round ${round}: no usable update`);
          continue;
        }
        await record(done, now, late.length, true, wallStart);
      }
    } else {
      const queue = new EventQueue<Work>();
      const seqs = new Array<number>(cfg.clients).fill(0);
      const dispatch = async (k: number, now: number) => {
        const finish = now + seconds[k];
        if (finish > budget) return; // would not arrive within the run
        const base = core.global;
        queue.push(finish, { client: k, startedAt: now, seq: seqs[k]++, baseVersion: core.version, base, ...(await train(k, base, core.version)) });
      };
      let wallStart = performance.now();
      for (let k = 0; k < cfg.clients; k++) await dispatch(k, 0);
      let pendingDropped = 0;
      while (queue.size > 0 && core.version < maxSteps) {
        const { time, item } = queue.pop()!;
        if (submit(item, time) === 'too-stale') {
          pendingDropped++;
          droppedUpdates++;
        }
        if (core.ready) {
          const done = step(undefined, (d) => {
            pendingDropped += d.length;
            droppedUpdates += d.length;
          });
          if (done) {
            pendingDropped += done.dropped.length;
            droppedUpdates += done.dropped.length;
            await record(done, time, pendingDropped, done.version % clock.evalEvery === 0 || core.version >= maxSteps, wallStart);
            pendingDropped = 0;
            wallStart = performance.now();
          }
        }
        await dispatch(item.client, time);
      }
      // Make sure the final model is evaluated.
      const last = records[records.length - 1];
      if (last && last.accuracy === null) {
        setWeights(evalModel, core.global);
        const onTest = await evaluatePerClass(evalModel, test);
        Object.assign(last, { accuracy: onTest.accuracy, loss: onTest.loss, perClass: onTest.perClass });
      }
    }
    const evaluated = records.filter((r) => r.accuracy !== null);
    const finalRecord = evaluated[evaluated.length - 1];
    const perClass = finalRecord?.perClass ?? [];
    return {
      config: cfg,
      clock,
      backend: { name: backend.backend, reason: backend.reason },
      model: spec,
      partition: { histograms: partition.histograms, summary: describePartition(partition.histograms) },
      devices: devices.map((d, k) => ({ ...d, seconds: seconds[k] })),
      slowClasses,
      records,
      final: {
        accuracy: finalRecord?.accuracy ?? NaN,
        bestAccuracy: evaluated.length ? Math.max(...evaluated.map((r) => r.accuracy!)) : NaN,
        simTime: records[records.length - 1]?.simTime ?? 0,
        perClass,
        slowClassAccuracy: slowClasses.length ? slowClasses.reduce((s, c) => s + (perClass[c] ?? NaN), 0) / slowClasses.length : NaN,
        contributions,
        stalenessHistogram: Array.from(stalenessHistogram, (x) => x ?? 0),
        droppedUpdates,
        refusedUpdates,
      },
    };
  } finally {
    await runner.dispose();
    evalModel.dispose();
  }
}

function range(from: number, to: number): Int32Array {
  return Int32Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Sync rounds: the share `fraction` of the clients, chosen per round under the seed (all of them at 1). */
function selectClients(cfg: SimConfig, round: number): number[] {
  const ids = Array.from({ length: cfg.clients }, (_, k) => k);
  const count = Math.min(cfg.clients, Math.max(1, Math.ceil(cfg.fraction * cfg.clients)));
  if (count === cfg.clients) return ids;
  return new Rng(cfg.seed * 7919 + round).shuffle(ids).slice(0, count).sort((a, b) => a - b);
}
