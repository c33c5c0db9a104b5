/**
 * The simulator on a simulated clock: every client runs on a simulated device (devices.ts), so a piece of work takes
 * epochs * samples / speed + bytes / bandwidth simulated seconds. The round loop is the app's own: RoundEngine (sync
 * rounds) or AsyncEngine (buffered asynchronous steps) over the Coordinator, on a SimulatedClock, its messages carried
 * by SimulatedLinks:
 * - sync: rounds; with a deadline, a round aggregates what arrived by then and late work is thrown away;
 * - async: a client trains again as soon as it has sent its update, from the newest global model; an aggregation
 *   step every M updates, each weighted by its staleness.
 * Training runs for real; only time is simulated, so a run is deterministic under its seed.
 */
import * as tf from '@tensorflow/tfjs';
import { setupNodeBackend } from '../fl/backend/node-backend';
import { ASYNC_DEFAULTS, type AsyncAggregationConfig } from '../fl/async/async-aggregation';
import { AsyncEngine } from '../fl/async/async-engine';
import { SimulatedClock } from '../fl/coordinator/clock';
import type { CoordinatorHooks } from '../fl/coordinator/coordinator';
import { subsetDataset, datasetSize } from '../fl/data/dataset';
import { describePartition, partitionIndices, type Partition, type PartitionSummary } from '../fl/data/partition';
import type { LossDecomposition } from '../fl/decomposition';
import type { ScreeningVerdict } from '../fl/robust';
import { RoundEngine } from '../fl/engine';
import type { LocalTrainer } from '../fl/local-trainer';
import { buildModel, getWeights, setWeights, type ModelSpec } from '../fl/models';
import { PROTOCOL_VERSION } from '../fl/protocol';
import { materialize, type ScoredModel } from '../fl/scored-model';
import { numberDefault } from '../fl/settings';
import { evaluateModel } from '../fl/train';
import { totalParameters } from '../fl/weights';
import { armAttackers } from './arm-attackers';
import { buildClientShards } from './client-shards';
import { buildParticipantTrainer, InProcessRunner, type ParticipantContext } from './participant';
import { deviceProfiles, slowClientIds, workSeconds, type DeviceProfile, type DeviceSpec } from './devices';
import { intertwinedPartition } from './intertwined';
import { evaluatePerClass } from './per-class';
import { drive, PendingWork, runDue, simulatedClient, SimulatedLinks } from './simulated-links';
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
  async: ASYNC_DEFAULTS,
  simTime: null,
  evalEvery: numberDefault('evalEvery'),
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
  /** What the robust aggregation clipped, capped or left out in this step, with the reason (as in sync rounds). */
  screening: ScreeningVerdict[];
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

export async function runClockedSimulation(cfg: SimConfig, clock: ClockOptions, hooks: ClockedHooks = {}): Promise<ClockedResult> {
  if (clock.mode === 'async' && clock.deadline !== null) throw new Error('a deadline applies to sync mode only');
  if (cfg.privacy) throw new Error('secure aggregation and DP run in plain sync rounds (runSimulation), not on the simulated clock');
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
  const armed = armAttackers(shards, cfg.attack, { seed: cfg.seed, strategy: cfg.strategy.name, numClasses: data.train.numClasses, labels: data.train.labels });
  const runner = new InProcessRunner(data.train, cfg.seed);
  const ctx: ParticipantContext = { shards: armed.shards, runner, backendName: tf.getBackend(), clientStates: new Map() };
  const trainers: LocalTrainer[] = shards.map((_, k) => armed.trainer(k, buildParticipantTrainer(ctx, k)));
  const trainSizes = armed.shards.map((shard) => shard.train.length);
  // Device time follows the client's shard as partitioned: an attacker that cut its data (pose-minority) answers at
  // the pace its device always had, like every other attacker, so a run measures the screening and not its cadence;
  // the attack 'fast' makes attackers answer at the pace of what they train on instead.
  const fast = cfg.attack?.attacks.some((a) => a.kind === 'fast') ?? false;
  const workSizes = shards.map((shard, k) => (fast && armed.attackers.has(k) ? armed.shards[k] : shard).train.length);
  const evalModel = buildModel(spec, cfg.seed);
  const initial = await getWeights(evalModel);
  const modelBytes = totalParameters(initial) * 4;
  const seconds = devices.map((d, k) => workSeconds(d, workSizes[k], cfg.localEpochs, modelBytes));

  // The aggregator's test and validation sets, scored on one model of the session's shape.
  let lastPerClass: number[] | null = null;
  const pending = new PendingWork();
  const aggregatorHooks: CoordinatorHooks = {
    evaluateGlobal: (weights) =>
      pending.track(
        (async () => {
          setWeights(evalModel, weights);
          const onTest = await evaluatePerClass(evalModel, test);
          lastPerClass = onTest.perClass;
          return { accuracy: onTest.accuracy, loss: onTest.loss };
        })(),
      ),
    ...(datasetSize(validation) > 0
      ? {
          evaluateOnValidation: (models: ScoredModel[]) =>
            pending.track(
              (async () => {
                const losses: number[] = [];
                for (const m of models) {
                  setWeights(evalModel, materialize(m));
                  losses.push((await evaluateModel(evalModel, validation)).loss);
                }
                return losses;
              })(),
            ),
        }
      : {}),
  };

  const clockMs = new SimulatedClock();
  const links = new SimulatedLinks(clockMs);
  const budgetMs = clock.simTime === null ? Infinity : clock.simTime * 1000;
  const maxSteps = clock.simTime === null ? cfg.rounds : Infinity;
  const trainConfig = { localEpochs: cfg.localEpochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, optimizer: cfg.optimizer, momentum: cfg.momentum };
  const common = { model: spec, strategy: cfg.strategy, train: trainConfig, seed: cfg.seed, robust: cfg.robust, decomposition: datasetSize(validation) > 0 ? ('proxy' as const) : ('off' as const) };

  // The simulated clients: each answers a round-start seconds[k] later on the clock (work that would arrive after the
  // run's end, or after a sync round's deadline, is not even computed).
  for (let k = 0; k < cfg.clients; k++) {
    const late = () => clockMs.now() + seconds[k] * 1000 > budgetMs || (clock.mode === 'sync' && clock.deadline !== null && seconds[k] > clock.deadline);
    simulatedClient(links, clockMs, pending, String(k), trainers[k], seconds[k] * 1000, late);
  }
  const records: ClockedRecord[] = [];
  const contributions = new Array<number>(cfg.clients).fill(0);
  const stalenessHistogram: number[] = [];
  let droppedUpdates = 0;
  let pendingDropped = 0;
  let refused: ClockedRecord['refused'] = [];
  let refusedUpdates = 0;
  const refuse = (from: string, reason: string) => {
    refused.push({ client: Number(from), reason });
    refusedUpdates++;
    hooks.onStatus?.(`refused an update from client ${from}: ${reason}`);
  };
  const record = (step: number, clients: number[], staleness: number[], dropped: number, screening: ScreeningVerdict[], measured: Pick<ClockedRecord, 'accuracy' | 'loss' | 'decomposition'>, wallStart: number) => {
    clients.forEach((k, i) => {
      contributions[k]++;
      stalenessHistogram[staleness[i]] = (stalenessHistogram[staleness[i]] ?? 0) + 1;
    });
    const r: ClockedRecord = { step, simTime: clockMs.now() / 1000, clients, staleness, dropped, refused, screening, ...measured, perClass: measured.accuracy !== null ? lastPerClass : null, wallMs: performance.now() - wallStart };
    refused = [];
    records.push(r);
    hooks.onRecord?.(r);
  };
  const hello = (k: number) => links.deliver(String(k), 'agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: `client ${k}`, backend: backend.backend, numSamples: trainSizes[k], labelHistogram: armed.shards[k].labelHistogram }, 0);

  try {
    if (clock.mode === 'sync') {
      const engine = new RoundEngine(
        links.endpoint('agg'),
        { ...common, minClients: 1, fraction: cfg.fraction, decompositionEvery: 1, timing: { roundDeadlineMs: clock.deadline === null ? Infinity : clock.deadline * 1000, joinWaitMs: Infinity } },
        { weights: initial },
        {
          ...aggregatorHooks,
          onEvent: (e) => {
            if (e.kind === 'rejected') refuse(e.from, e.reason);
            else if (e.kind === 'round-failed') hooks.onStatus?.(`round ${e.round}: ${e.reason}`);
          },
        },
        clockMs,
      );
      for (let k = 0; k < cfg.clients; k++) hello(k);
      await runDue(clockMs, pending);
      try {
        for (let round = 1; round <= maxSteps; round++) {
          const wallStart = performance.now();
          const run = await drive(engine.runRound(), clockMs, pending, budgetMs);
          if (!run.done) break;
          const report = run.value;
          if (!report) continue;
          record(report.round, report.participants.map(Number), report.participants.map(() => 0), report.missing.length, report.screening, { accuracy: report.accuracy, loss: report.loss, decomposition: report.decomposition }, wallStart);
        }
      } finally {
        engine.dispose();
      }
    } else {
      const engine = new AsyncEngine(
        links.endpoint('agg'),
        { ...common, async: clock.async, decompositionEvery: clock.evalEvery, evaluateEvery: clock.evalEvery, timing: { roundDeadlineMs: Infinity, joinWaitMs: Infinity } },
        initial,
        {
          ...aggregatorHooks,
          onEvent: (e) => {
            if (e.kind === 'rejected') refuse(e.from, e.reason);
            else if (e.kind === 'update-dropped') {
              pendingDropped++;
              droppedUpdates++;
            } else if (e.kind === 'step-failed') hooks.onStatus?.(`step ${e.step}: ${e.reason}`);
            else if (e.kind === 'warning') hooks.onStatus?.(e.reason);
          },
        },
        0,
        null,
        clockMs,
      );
      for (let k = 0; k < cfg.clients; k++) hello(k);
      try {
        await runDue(clockMs, pending);
        engine.start();
        while (engine.version < maxSteps) {
          const wallStart = performance.now();
          const run = await drive(engine.nextStep(), clockMs, pending, budgetMs);
          if (!run.done) break;
          const report = run.value;
          if (!report) continue;
          record(report.step, report.used.map((u) => Number(u.clientId)), report.used.map((u) => u.staleness), pendingDropped, report.screening, { accuracy: report.accuracy, loss: report.loss, decomposition: report.decomposition }, wallStart);
          pendingDropped = 0;
        }
        // The final model is evaluated, whatever evalEvery skipped.
        const last = records[records.length - 1];
        if (last && last.accuracy === null) {
          setWeights(evalModel, engine.globalWeights);
          const onTest = await evaluatePerClass(evalModel, test);
          Object.assign(last, { accuracy: onTest.accuracy, loss: onTest.loss, perClass: onTest.perClass });
        }
      } finally {
        engine.dispose();
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
