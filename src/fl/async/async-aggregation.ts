import { getStrategy } from '../strategies/registry';
import type { Aggregator, ClientUpdate } from '../strategies/types';
import type { TensorLayout, WeightSet } from '../weights';
import { assertFinite, assertSameLayout, layoutOf } from '../weights';
import { robustAggregate, type RobustSettings } from '../robust';
import { UpdateBuffer, type BufferedUpdate } from './buffer';
import { numberDefault, numberSetting, textSetting } from '../settings';
import { parseStaleness, stalenessProblem, stalenessWeight, type StalenessConfig } from './staleness';

export interface AsyncAggregationConfig {
  /** M: an aggregation step is due once this many updates wait. */
  bufferSize: number;
  staleness: StalenessConfig;
  /** Updates more than this many steps stale are dropped (null: never). */
  maxStaleness: number | null;
  /**
   * 'duration' also scales each update by how long its client took for it relative to the mean over all updates
   * so far (capped at DURATION_WEIGHT_CAP): a device that reports 5x less often counts 5x more per update, so every
   * client's total influence follows its data, not its speed (after FedAU's inverse-participation weighting,
   * Wang & Ji 2023). Needs startedAt on the updates. Default 'none'.
   */
  participation?: 'none' | 'duration';
}

export const DURATION_WEIGHT_CAP = 10;

export const ASYNC_DEFAULTS: AsyncAggregationConfig = {
  bufferSize: numberDefault('bufferSize'),
  staleness: parseStaleness(textSetting('staleness').default),
  maxStaleness: numberSetting('maxStaleness').default,
};

/** One update as an aggregation step used it. */
export interface StepContribution {
  clientId: string;
  key: string;
  baseVersion: number;
  /** tau: steps taken between the version it started from and this step. */
  staleness: number;
  /** s(tau), times the duration factor with participation 'duration': the factor its delta was scaled by. */
  weight: number;
  numSamples: number;
}

export interface StepResult {
  /** The new global model version (= steps taken so far). */
  version: number;
  previousGlobal: WeightSet;
  global: WeightSet;
  used: StepContribution[];
  /** The updates themselves, in the order used (for the loss decomposition). */
  updates: BufferedUpdate[];
  /** Updates taken from the buffer but past the maximum staleness. */
  dropped: StepContribution[];
  /** Updates the robust aggregation refused (outliers, non-finite aggregate), with the reason. */
  rejected: Array<{ clientId: string; reason: string }>;
}

/** The session's defence against hostile updates, applied to each step's buffer as to a synchronous round. */
export interface AsyncDefence {
  settings: RobustSettings;
  /** The strategy's name (decides how a coordinate-wise statistic combines with it). */
  strategy: string;
  /** What a client declared in its hello: the cap on the sample count it may claim. */
  declaredSamples: (clientId: string) => number | undefined;
  /** The label histogram a client declared in its hello (the direction check by labels). */
  declaredLabels?: (clientId: string) => readonly number[] | undefined;
}

/** 'superseded': buffered, in place of the same client's older update, which was still waiting (see UpdateBuffer). */
export type SubmitOutcome = 'buffered' | 'superseded' | 'duplicate' | 'too-stale';

export function checkAsyncConfig(config: AsyncAggregationConfig): void {
  if (!(Number.isInteger(config.bufferSize) && config.bufferSize >= 1)) throw new RangeError(`async: buffer size must be a positive integer, got ${config.bufferSize}`);
  const problem = stalenessProblem(config.staleness);
  if (problem) throw new RangeError(`async: ${problem}`);
  if (config.maxStaleness !== null && !(Number.isInteger(config.maxStaleness) && config.maxStaleness >= 0)) {
    throw new RangeError(`async: max staleness must be a non-negative integer or none, got ${config.maxStaleness}`);
  }
}

/**
 * Buffered asynchronous aggregation (FedBuff with FedAsync's staleness functions), independent of any transport or
 * clock: updates are submitted as they arrive; step() takes the oldest M, scales each delta by s(tau), and hands them
 * to the strategy's ordinary aggregate(global, updates), which applies the sample weighting (FedAvg's weighted mean,
 * FedLD's principal-gradient aggregation of the buffer). So the new global is w + sum_i p_i s(tau_i) delta_i for FedAvg.
 */
export class AsyncAggregation {
  private readonly buffer = new UpdateBuffer();
  private readonly layout: TensorLayout[];
  private current: WeightSet;
  private steps: number;
  private durationSum = 0;
  private durationCount = 0;

  constructor(
    private readonly aggregator: Aggregator,
    readonly config: AsyncAggregationConfig,
    initial: WeightSet,
    startVersion = 0,
    private readonly defence: AsyncDefence | null = null,
  ) {
    checkAsyncConfig(config);
    assertFinite(initial, 'initial weights');
    this.current = initial;
    this.layout = layoutOf(initial);
    this.steps = startVersion;
  }

  get version(): number {
    return this.steps;
  }

  get global(): WeightSet {
    return this.current;
  }

  get waiting(): number {
    return this.buffer.size;
  }

  /** Client ids of the updates step(count) would take, oldest first (to name them if the step fails). */
  nextClients(count = this.config.bufferSize): string[] {
    return this.buffer.peek().slice(0, Math.max(0, count)).map((u) => u.clientId);
  }

  /** True once M updates wait (from M clients: one waiting update per client). */
  get ready(): boolean {
    return this.buffer.size >= this.config.bufferSize;
  }

  private tooStale(tau: number): boolean {
    return this.config.maxStaleness !== null && tau > this.config.maxStaleness;
  }

  private durationFactor(u: BufferedUpdate): number {
    if (this.config.participation !== 'duration' || u.startedAt === undefined) return 1;
    const mean = this.durationSum / Math.max(1, this.durationCount);
    if (!(mean > 0)) return 1;
    return Math.min(DURATION_WEIGHT_CAP, Math.max(1 / DURATION_WEIGHT_CAP, (u.arrivedAt - u.startedAt) / mean));
  }

  /**
   * Validates and buffers one update; throws on a malformed one (wrong layout, non-finite, bad count or version).
   * `checked`: the caller has checked the delta's layout and values already (the coordinator's trust boundary).
   */
  submit(update: BufferedUpdate, checked = false): SubmitOutcome {
    if (this.buffer.has(update.key)) return 'duplicate';
    if (!checked) {
      assertSameLayout(this.layout, update.delta, `update from ${update.clientId}`);
      assertFinite(update.delta, `update from ${update.clientId}`);
    }
    if (!(Number.isInteger(update.numSamples) && update.numSamples > 0)) throw new Error(`update from ${update.clientId}: invalid sample count ${update.numSamples}`);
    if (!(Number.isInteger(update.baseVersion) && update.baseVersion >= 0 && update.baseVersion <= this.steps)) {
      throw new Error(`update from ${update.clientId}: started from version ${update.baseVersion}, the newest is ${this.steps}`);
    }
    if (this.config.participation === 'duration' && !(update.startedAt !== undefined && update.startedAt <= update.arrivedAt)) {
      throw new Error(`update from ${update.clientId}: participation weighting needs startedAt <= arrivedAt`);
    }
    if (this.tooStale(this.steps - update.baseVersion)) return 'too-stale';
    const added = this.buffer.add(update);
    if (!added) return 'duplicate';
    if (update.startedAt !== undefined) {
      this.durationSum += update.arrivedAt - update.startedAt;
      this.durationCount += 1;
    }
    return added.superseded ? 'superseded' : 'buffered';
  }

  /**
   * One aggregation step over the oldest `count` waiting updates (default M). Returns null when none wait, or when
   * every update taken was past the maximum staleness (the model is then unchanged; `onDropped` hears of them).
   * The same as takeStep, the aggregation in-process, then finishStep.
   */
  step(count = this.config.bufferSize, onDropped?: (dropped: StepContribution[]) => void, population?: number): StepResult | null {
    // The deltas as sent: the strategy's check and the screening judge them so; the weights apply after.
    const taken = this.takeStep(count, population, false);
    if (taken === null) return null;
    if (!taken.pending) {
      onDropped?.(taken.dropped);
      return null;
    }
    const p = taken.pending;
    const ctx = p.population !== undefined ? { population: p.population } : {};
    const weightOf = new Map(p.updates.map((u, i) => [u.clientId, p.used[i].weight]));
    const weigh = (u: ClientUpdate): ClientUpdate => {
      const w = weightOf.get(u.clientId) ?? 1;
      return w === 1 ? u : { ...u, delta: scaleDelta(u.delta, w) };
    };
    // The strategy's own check of its updates (SCAFFOLD: delta-c against delta-w), before any clipping.
    const own = this.aggregator.screen ? this.aggregator.screen(p.previousGlobal, p.updates) : { kept: p.updates, dropped: [] };
    if (!this.defence) {
      if (own.kept.length === 0) throw new Error(`no usable update left: ${own.dropped.map((d) => `${d.clientId}: ${d.reason}`).join('; ')}`);
      return this.finishStep(p, this.aggregator.aggregate(p.previousGlobal, own.kept.map(weigh), ctx), own.dropped);
    }
    // The same screening as a synchronous round (sample caps, norm clipping, outliers), then the staleness weights.
    const defence = this.defence;
    const robust = robustAggregate({
      global: p.previousGlobal,
      updates: own.kept,
      declaredSamples: (key) => defence.declaredSamples(p.clientOf.get(key) ?? key),
      ...(defence.declaredLabels ? { declaredLabels: (key: string) => defence.declaredLabels!(p.clientOf.get(key) ?? key) } : {}),
      settings: defence.settings,
      aggregator: { aggregate: (g, u) => this.aggregator.aggregate(g, u, ctx) },
      traits: getStrategy(defence.strategy).traits,
      weightOf: (u) => weightOf.get(u.clientId) ?? 1,
      valuesScanned: p.valuesScanned,
    });
    if (!robust.ok) throw new Error(own.dropped.length ? `${robust.reason}; refused by the strategy: ${own.dropped.map((d) => `${d.clientId}: ${d.reason}`).join('; ')}` : robust.reason);
    return this.finishStep(p, robust.global, [...own.dropped, ...robust.dropped]);
  }

  /**
   * The first half of a step: takes the oldest `count` waiting updates (default M) out of the buffer and scales each
   * delta by its weight (with `scale` false, the deltas stay as sent and the weights are only in `used`, for a caller
   * that applies them after screening). Returns the step to aggregate, or (nothing usable: every update taken was past the maximum
   * staleness) only the dropped ones, or null when none wait. The taken updates are gone from the buffer either way.
   */
  takeStep(count = this.config.bufferSize, population?: number, scale = true): { pending: PendingStep; dropped: StepContribution[] } | { pending: null; dropped: StepContribution[] } | null {
    const taken = this.buffer.take(count);
    if (taken.length === 0) return null;
    const used: StepContribution[] = [];
    const dropped: StepContribution[] = [];
    const kept: BufferedUpdate[] = [];
    const scaled: ClientUpdate[] = [];
    for (const u of taken) {
      const tau = this.steps - u.baseVersion;
      const weight = stalenessWeight(this.config.staleness, tau) * this.durationFactor(u);
      const record = { clientId: u.clientId, key: u.key, baseVersion: u.baseVersion, staleness: tau, weight, numSamples: u.numSamples };
      if (this.tooStale(tau)) {
        dropped.push(record);
        continue;
      }
      used.push(record);
      kept.push(u);
      // Extras (e.g. SCAFFOLD's delta-c) go to the strategy as sent; only the model delta is scaled by s(tau).
      // A fast client may have two updates in one step: each is its own row for the strategy (FedLD refuses a
      // client id twice per aggregation), so the strategy sees the update's unique key as its id.
      scaled.push({ clientId: u.key, numSamples: u.numSamples, delta: weight === 1 || !scale ? u.delta : scaleDelta(u.delta, weight), ...(u.extras ? { extras: u.extras } : {}), ...(u.sentExtras ? { sentExtras: u.sentExtras } : {}) });
    }
    if (used.length === 0) return { pending: null, dropped };
    return {
      pending: {
        version: this.steps,
        previousGlobal: this.current,
        updates: scaled,
        kept,
        used,
        dropped,
        population: population !== undefined ? Math.max(population, scaled.length) : undefined,
        clientOf: new Map(kept.map((u) => [u.key, u.clientId])),
        // submit() scanned every delta; a weight above 1 (participation 'duration') can still overflow float32.
        valuesScanned: !scale || used.every((u) => u.weight <= 1),
      },
      dropped,
    };
  }

  /**
   * The second half of a step: commits `global`, the aggregate of the pending step's updates without those in
   * `refused` (keyed by update key, as the strategy saw them), as the next version. Throws, changing nothing, when
   * another step was committed since the pending one was taken or `global` is not a finite model of this layout.
   */
  finishStep(p: PendingStep, global: WeightSet, refused: ReadonlyArray<{ clientId: string; reason: string }>): StepResult {
    if (p.version !== this.steps) throw new Error(`async: the step was taken at version ${p.version}, the model is at ${this.steps}`);
    assertSameLayout(this.layout, global, 'aggregated global model');
    assertFinite(global, 'aggregated global model');
    const rejected = refused.map((d) => ({ clientId: p.clientOf.get(d.clientId) ?? d.clientId, reason: d.reason }));
    const out = new Set(refused.map((d) => d.clientId));
    const used = p.used.filter((u) => !out.has(u.key));
    const kept = p.kept.filter((u) => !out.has(u.key));
    this.current = global;
    this.steps += 1;
    return { version: this.steps, previousGlobal: p.previousGlobal, global, used, updates: kept, dropped: p.dropped, rejected };
  }
}

/** A step taken out of the buffer and not yet committed (AsyncAggregation.takeStep / finishStep). */
export interface PendingStep {
  /** The model version it was taken at. */
  version: number;
  previousGlobal: WeightSet;
  /** The staleness-scaled updates, each under its unique key as the client id (what the strategy sees). */
  updates: ClientUpdate[];
  /** The buffered updates used, in the order of `updates`. */
  kept: BufferedUpdate[];
  used: StepContribution[];
  /** Taken but past the maximum staleness. */
  dropped: StepContribution[];
  /** The strategy's population for this step (at least the number of updates); undefined: the number of updates. */
  population: number | undefined;
  /** Update key -> client id. */
  clientOf: Map<string, string>;
  /** Whether the scaled deltas are known to be finite (scanned on submit, scaled by at most 1). */
  valuesScanned: boolean;
}

function scaleDelta(delta: WeightSet, factor: number): WeightSet {
  return delta.map((t) => {
    const out = new Float32Array(t.values.length);
    for (let i = 0; i < out.length; i++) out[i] = t.values[i] * factor;
    return { name: t.name, shape: [...t.shape], values: out };
  });
}
