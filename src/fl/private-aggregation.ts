/**
 * Private aggregation of one round: client-side clipping and DP noise shares, secure aggregation of the clipped,
 * weighted, noised vectors (src/fl/secagg), and the strategy's step on their mean. Only strategies whose aggregate
 * is a weighted mean of the updates (and of what they send beside them) qualify: the aggregator then needs the sum
 * alone. Each client's contribution is [w * (clip(delta, extras) + noise), w]: w is its sample count (capped at the
 * session's largest declaration) or, with DP noise or uniform weighting, 1; the sum divided by its last coordinate is
 * the weighted mean, which goes to the strategy as every survivor's update (the mean of equal updates is that mean).
 *
 * `clientContribution` is the client's half (it sees only its own update; ./private-party.ts runs it in a live
 * client), `privateMeanOfSum` the aggregator's check and mean of the sum (the coordinator's). Sessions and the
 * simulator run them through the round engine, the secure round's steps as messages. `privateAggregateRound` runs
 * every half of one round in this process instead: the reference the tests compare with, and what bench:private
 * times the protocol's cost with.
 */
import type { AggregationJob, AggregationOutcome } from './aggregate-round';
import { carriedNoiseMultiplier, clipFactor, jointNorm, perClientNoiseStd, type NormalSource } from './dp/clip-noise';
import { dequantise, fixedPointPlan, quantise, type FixedPointPlan } from './secagg/fixed-point';
import { runSecAggRound } from './secagg/in-process-round';
import type { RobustMode } from './robust';
import { strategyRuntime } from './strategies/runtime';
import type { ClientUpdate, StrategyConfig } from './strategies/types';
import type { WeightSet } from './weights';

export interface PrivacySettings {
  /** The aggregator learns only the sum of the updates (SecAgg+). */
  secureAggregation: boolean;
  /** Every client clips its update (delta and extras as one vector) to this L2 norm. */
  clipNorm: number;
  /** Noise multiplier sigma: the sum carries Gaussian noise of std sigma * clipNorm (0: no DP noise). */
  noiseMultiplier: number;
  /** The delta of the (eps, delta) reported. */
  delta: number;
  /** Stop before a round would take eps past this (null: no budget). */
  budget: number | null;
}

/** Strategies whose aggregate is a weighted mean of the updates and their extras (with any server optimizer). */
export const SUM_STRATEGIES: readonly string[] = ['fedavg', 'fedprox', 'scaffold'];

/** Why these settings cannot run with this strategy and defence (null: they can). */
export function privacyProblem(settings: PrivacySettings, strategy: StrategyConfig, robust: RobustMode): string | null {
  if (!(settings.clipNorm > 0 && Number.isFinite(settings.clipNorm))) return `private aggregation needs a positive clip norm, got ${settings.clipNorm}`;
  if (!(settings.noiseMultiplier >= 0 && Number.isFinite(settings.noiseMultiplier))) return `the noise multiplier must be 0 or more, got ${settings.noiseMultiplier}`;
  if (!(settings.delta > 0 && settings.delta < 1)) return `delta must be in (0, 1), got ${settings.delta}`;
  if (settings.budget !== null && !(settings.budget > 0)) return `the privacy budget must be positive, got ${settings.budget}`;
  if (settings.budget !== null && settings.noiseMultiplier === 0) return 'a privacy budget needs DP noise (a noise multiplier above 0)';
  const mode = settings.secureAggregation ? 'secure aggregation' : 'client-level DP';
  if (!SUM_STRATEGIES.includes(strategy.name)) {
    return strategy.name === 'fedld'
      ? `${mode} cannot run FedLD: its principal-gradient step needs the pairwise products of the individual updates; use FedAvg, FedProx or SCAFFOLD`
      : `${mode} runs only strategies whose aggregate is a weighted sum (FedAvg, FedProx, SCAFFOLD), not "${strategy.name}"`;
  }
  if (robust !== 'off') {
    return `${mode} replaces the robust screening by client-side clipping: the screening needs individual updates and norms (robust "${robust}"); use robust "off"`;
  }
  return null;
}

/** How a round's clients build their contributions: public, the same for every client of the round. */
export interface ContributionSpec {
  clipNorm: number;
  /** Std of the noise each client adds to each coordinate (perClientNoiseStd). */
  noiseStd: number;
  /** Largest weight a client may give itself (1 with uniform weights). */
  maxWeight: number;
  uniform: boolean;
  /** Names of the extras, in order (the strategy's; every update carries exactly these). */
  extras: readonly string[];
}

/** Length of a contribution vector: the model's values once for the delta and once per extra, plus the weight. */
export function contributionLength(global: WeightSet, extras: number): number {
  return global.reduce((n, t) => n + t.values.length, 0) * (1 + extras) + 1;
}

/**
 * The ring every party of a secure round quantises to: each coordinate is w * (a clipped value + noise), within
 * maxWeight * (C + 6 noise std) but for 1 in 10^9; `clients` contributions may add up.
 */
export function contributionPlan(spec: Pick<ContributionSpec, 'maxWeight' | 'clipNorm' | 'noiseStd'>, clients: number): FixedPointPlan {
  return fixedPointPlan(spec.maxWeight * Math.max(spec.clipNorm + 6 * spec.noiseStd, 1), clients);
}

/** The update's delta and extras as one list of arrays, in the order contributions use. */
function partsOf(update: Pick<ClientUpdate, 'clientId' | 'delta' | 'extras'>, extras: readonly string[]): Float32Array[] {
  const parts: Float32Array[] = [...update.delta.map((t) => t.values)];
  for (const name of extras) {
    const extra = update.extras?.[name];
    if (!extra) throw new Error(`private aggregation: the update of ${update.clientId} carries no ${name}`);
    parts.push(...extra.map((t) => t.values));
  }
  return parts;
}

/** The weight a client gives its contribution: its sample count up to maxWeight, or 1 when weights are uniform. */
export function contributionWeight(numSamples: number, spec: Pick<ContributionSpec, 'uniform' | 'maxWeight'>): number {
  return spec.uniform ? 1 : Math.max(1, Math.min(numSamples, spec.maxWeight));
}

/** The client's half: [w * (clipped delta and extras + noise), w], as one vector of contributionLength values. */
export function clientContribution(update: ClientUpdate, spec: ContributionSpec, noise: NormalSource): { values: Float64Array; clipped: boolean } {
  const parts = partsOf(update, spec.extras);
  const factor = clipFactor(jointNorm(parts), spec.clipNorm);
  const weight = contributionWeight(update.numSamples, spec);
  const values = new Float64Array(parts.reduce((n, p) => n + p.length, 0) + 1);
  let i = 0;
  for (const p of parts) for (let j = 0; j < p.length; j++) values[i++] = weight * (factor * p[j] + (spec.noiseStd > 0 ? spec.noiseStd * noise.normal() : 0));
  values[i] = weight;
  return { values, clipped: factor < 1 };
}

/**
 * Client-level DP without secure aggregation: the update itself, clipped and noised (unweighted), with its weight as
 * its sample count. The aggregator's weighted mean of such updates is the sum of contributions over their weights.
 */
export function clippedNoisedUpdate(update: ClientUpdate, spec: ContributionSpec, noise: NormalSource): { update: ClientUpdate; clipped: boolean } {
  const parts = partsOf(update, spec.extras);
  const factor = clipFactor(jointNorm(parts), spec.clipNorm);
  const noised = (w: WeightSet): WeightSet => w.map((t) => ({ name: t.name, shape: [...t.shape], values: Float32Array.from(t.values, (x) => factor * x + (spec.noiseStd > 0 ? spec.noiseStd * noise.normal() : 0)) }));
  const extras = spec.extras.length ? Object.fromEntries(spec.extras.map((name) => [name, noised(update.extras![name])])) : undefined;
  return { update: { clientId: update.clientId, delta: noised(update.delta), numSamples: contributionWeight(update.numSamples, spec), ...(extras ? { extras } : {}) }, clipped: factor < 1 };
}

/** Reads the weighted mean delta and extras back from a sum of contributions. */
function meanOf(sum: Float64Array, global: WeightSet, extras: readonly string[]): { delta: WeightSet; extras: Record<string, WeightSet> } {
  const total = sum[sum.length - 1];
  if (!(total > 0)) throw new Error(`private aggregation: the weights add up to ${total}`);
  let i = 0;
  const take = (): WeightSet => global.map((t) => ({ name: t.name, shape: [...t.shape], values: Float32Array.from(sum.subarray(i, (i += t.values.length)), (x) => x / total) }));
  const delta = take();
  return { delta, extras: Object.fromEntries(extras.map((name) => [name, take()])) };
}

/** Norm of the noise one client's share adds to `values` coordinates: below std * (sqrt(n) + 6) but for 1 in 10^8. */
function noiseNormBound(noiseStd: number, values: number): number {
  return noiseStd * (Math.sqrt(values) + 6);
}

/**
 * The weighted mean of a secure round's sum, after checking the sum could come from `survivors` honest
 * contributions: weights between 1 and maxWeight each, and a vector no longer than their clipped norms plus noise.
 * Secure aggregation hides each input, so this is where a participant that did not clip, or sent garbage (which the
 * ring wraps into huge values), is caught: the round then does not count. Throws the reason.
 */
export function privateMeanOfSum(sum: Float64Array, global: WeightSet, extras: readonly string[], spec: Pick<ContributionSpec, 'clipNorm' | 'noiseStd' | 'maxWeight'>, survivors: number): { delta: WeightSet; extras: Record<string, WeightSet> } {
  const total = sum[sum.length - 1];
  if (!(total >= survivors - 0.5 && total <= survivors * spec.maxWeight + 0.5)) {
    throw new Error(`the contributions' weights add up to ${total.toFixed(2)}, which ${survivors} honest contributions (weight 1 to ${spec.maxWeight} each) cannot give: a participant sent a malformed contribution`);
  }
  let squares = 0;
  for (let i = 0; i < sum.length - 1; i++) squares += sum[i] * sum[i];
  const bound = total * spec.clipNorm * (1 + 1e-6) + noiseNormBound(spec.noiseStd * Math.sqrt(total * spec.maxWeight), sum.length - 1) + 1e-9;
  if (Math.sqrt(squares) > bound) {
    throw new Error(`the sum's norm ${Math.sqrt(squares).toPrecision(3)} is over what ${survivors} clipped contributions can reach (${bound.toPrecision(3)}): a participant did not clip its update`);
  }
  return meanOf(sum, global, extras);
}

/**
 * Why a private session's plain update (client-level DP without secure aggregation) is not what its client was
 * asked for, or null: a weight above the round's cap, or a norm beyond the clip norm plus the client's noise share
 * (with room for the wire codec's rounding).
 */
export function privateUpdateProblem(update: Pick<ClientUpdate, 'delta' | 'extras' | 'numSamples'>, spec: Pick<ContributionSpec, 'clipNorm' | 'noiseStd' | 'maxWeight'>): string | null {
  if (update.numSamples > spec.maxWeight) return `it gives itself weight ${update.numSamples}, above the round's cap ${spec.maxWeight}`;
  const parts = [...update.delta, ...Object.keys(update.extras ?? {}).sort().flatMap((k) => update.extras![k])].map((t) => t.values);
  const values = parts.reduce((n, p) => n + p.length, 0);
  const norm = jointNorm(parts);
  const bound = (spec.clipNorm + noiseNormBound(spec.noiseStd, values)) * 1.01 + 1e-9;
  if (norm > bound) return `its norm ${norm.toPrecision(3)} is over the clip norm ${spec.clipNorm} plus its noise share: in a private session every client clips its own update`;
  return null;
}

export interface PrivateRoundContext {
  sessionId: string;
  /** Clients asked this round: the noise shares are sized for them (K). */
  selected: number;
  /** Each client's source of normal draws (seeded in a simulation, cryptoNormal in a live client). */
  noiseFor(clientId: string): NormalSource;
  /** Public seed of the round's neighbour graph. */
  graphSeed: number;
  /** Clients that drop after sharing their secrets (their updates do not enter the sum). */
  dropAfterSharing?: readonly string[];
}

export interface PrivateRoundStats {
  /** Clients whose contributions are in the sum. */
  survivors: number;
  /** Sampling rate of the round (asked / could have been asked) and the noise multiplier its sum carried (0: none). */
  samplingRate: number;
  noiseMultiplier: number;
  /** Clients whose update was over the clip norm (a client-side fact; the aggregator does not learn it). */
  clientsClipped: number;
  /** Values outside the fixed-point range, clamped (0 unless the noise ran far out). */
  clamped: number;
  /** Secure aggregation's cost: largest bytes one client sent and received, mean client time, aggregator time. */
  secagg: { maxClientBytes: number; meanClientMs: number; serverMs: number; degree: number; threshold: number } | null;
}

export async function privateAggregateRound(job: AggregationJob, settings: PrivacySettings, ctx: PrivateRoundContext): Promise<{ outcome: AggregationOutcome; stats: PrivateRoundStats }> {
  const problem = privacyProblem(settings, job.strategy, 'off');
  if (problem) throw new Error(problem);
  const extras = Object.keys(job.updates[0]?.extras ?? {}).sort();
  const uniform = settings.noiseMultiplier > 0 || job.strategy.weighting === 'uniform';
  const declared = Object.values(job.declaredSamples).filter((n) => Number.isInteger(n) && n > 0);
  const spec: ContributionSpec = {
    clipNorm: settings.clipNorm,
    noiseStd: perClientNoiseStd(settings.noiseMultiplier, settings.clipNorm, ctx.selected),
    maxWeight: uniform ? 1 : Math.max(1, ...declared),
    uniform,
    extras,
  };
  const dropped = new Set(ctx.dropAfterSharing ?? []);
  const contributions = new Map<string, Float64Array>();
  let clientsClipped = 0;
  const prepareStart = performance.now();
  for (const u of job.updates) {
    const c = clientContribution(u, spec, ctx.noiseFor(u.clientId));
    contributions.set(u.clientId, c.values);
    if (c.clipped) clientsClipped++;
  }
  const length = contributionLength(job.global, extras.length);
  let sum: Float64Array;
  let survivors: string[];
  let clamped = 0;
  let secagg: PrivateRoundStats['secagg'] = null;
  if (settings.secureAggregation) {
    const plan = contributionPlan(spec, contributions.size);
    const ring = new Map<string, Uint32Array>();
    for (const [id, values] of contributions) {
      const q = quantise(values, plan);
      ring.set(id, q.ring);
      clamped += q.clamped;
    }
    // Clipping, noise and quantisation are client work too.
    const prepareMs = (performance.now() - prepareStart) / Math.max(1, contributions.size);
    const result = await runSecAggRound(ring, { sessionId: ctx.sessionId, round: job.round, graphSeed: ctx.graphSeed, dropAfterSharing: [...dropped] });
    sum = dequantise(result.sum, plan);
    survivors = result.survivors;
    secagg = { maxClientBytes: result.maxClientBytes, meanClientMs: prepareMs + result.meanClientMs, serverMs: result.serverMs, degree: result.degree, threshold: result.threshold };
  } else {
    survivors = [...contributions.keys()].filter((id) => !dropped.has(id));
    sum = new Float64Array(length);
    for (const id of survivors) {
      const v = contributions.get(id)!;
      for (let i = 0; i < length; i++) sum[i] += v[i];
    }
  }
  const mean = meanOf(sum, job.global, extras);
  const claimed = new Map(job.updates.map((u) => [u.clientId, u.numSamples]));
  const asMean: ClientUpdate[] = survivors.map((clientId) => ({ clientId, delta: mean.delta, numSamples: 1, ...(extras.length ? { extras: mean.extras } : {}) }));
  // The strategy's step, with no screening: what screens updates (the robust defence, SCAFFOLD's delta-c check)
  // needs them one by one, and the sum is all there is.
  let outcome: AggregationOutcome;
  try {
    const step = strategyRuntime(job.strategy).aggregate(job.global, asMean, job.state, { round: job.round, population: job.population });
    // The engine measures the decomposition with each client's own sample count, as in any other round.
    const accepted = survivors.map((clientId) => ({ clientId, numSamples: claimed.get(clientId)! }));
    outcome = { ok: true, global: step.weights, state: step.state, accepted, combiner: settings.secureAggregation ? 'secure sum' : 'sum', dropped: [], clipped: [], capped: [] };
  } catch (e) {
    outcome = { ok: false, reason: `the strategy's step on the private sum failed: ${e instanceof Error ? e.message : String(e)}`, dropped: [], clipped: [], capped: [] };
  }
  const stats: PrivateRoundStats = {
    survivors: survivors.length,
    samplingRate: Math.min(1, ctx.selected / job.population),
    noiseMultiplier: settings.noiseMultiplier > 0 ? carriedNoiseMultiplier(settings.noiseMultiplier, survivors.length, ctx.selected) : 0,
    clientsClipped,
    clamped,
    secagg,
  };
  return { outcome, stats };
}
