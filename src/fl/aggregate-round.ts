/**
 * One round's aggregation as a pure function of plain data: robust screening (./robust), then the strategy's
 * aggregate (with its server optimizer), exactly what RoundEngine.runRound does in-process. The job and the outcome
 * hold no closures or class instances (WeightSets, plain records, numbers, strings), so a host can post the job to a
 * Web Worker (structured clone) and run `aggregateRound` there, off the aggregating tab's main thread; the engine
 * takes it through EngineHooks.aggregate and checks what comes back before it commits anything.
 *
 * The engine goes on using the job's arrays after the hook settles (the previous global and the deltas feed the loss
 * decomposition): a worker host must copy them (structuredClone / postMessage without a transfer list), not
 * transfer them. The outcome's arrays are the host's to transfer back.
 */
import { robustAggregate, type CappedSamples, type ClippedUpdate, type DroppedUpdate, type RobustSettings } from './robust';
import { getStrategy } from './strategies/registry';
import { strategyRuntime, type StrategyRuntime } from './strategies/runtime';
import type { AggregateResult, ClientUpdate, ServerState, StrategyConfig } from './strategies/types';
import type { TensorLayout, WeightSet } from './weights';
import { assertFinite, assertSameLayout } from './weights';

/** Everything one aggregation step needs, as plain data. */
export interface AggregationJob {
  /** The session's strategy with its hyper-parameters (as in round-start messages). */
  strategy: StrategyConfig;
  /** The round being aggregated (1 for the first). */
  round: number;
  /** Clients that could have been asked this round (N in SCAFFOLD's |S|/N). */
  population: number;
  /** The global model the updates were trained from. */
  global: WeightSet;
  /** The strategy's server state after the previous round (null before the first, or for a stateless strategy). */
  state: ServerState | null;
  /** The accepted updates (clientId, delta, numSamples, extras), sorted by client id. */
  updates: ClientUpdate[];
  /** What each client declared in its hello (the cap on the sample count it may claim), by client id. */
  declaredSamples: Record<string, number>;
  /** The label histogram each client declared in its hello, by client id (the direction check by labels). */
  declaredLabels?: Record<string, number[]>;
  /** The defence against hostile updates (src/fl/robust). */
  robust: RobustSettings;
  /**
   * The server's own weight of each update, by client id (asynchronous steps: staleness times participation weight;
   * absent: 1), applied after screening, so screening judges the updates as their clients sent them.
   */
  weights?: Record<string, number>;
  /** The updates' values were scanned for NaN/Infinity on receipt (the engines do), so screening skips that scan. */
  valuesScanned: boolean;
}

/** One update as it went into the new model. */
export interface AcceptedUpdate {
  clientId: string;
  /** Its sample count after the robust caps. */
  numSamples: number;
  /** Only when screening changed the delta (clipped or shrunk): the delta that went in. Else the job's delta did. */
  delta?: WeightSet;
}

interface OutcomeDetails {
  /** Updates left out, with the reason (hostile, malformed, or the one that made the aggregate overflow). */
  dropped: DroppedUpdate[];
  clipped: ClippedUpdate[];
  capped: CappedSamples[];
}

export type AggregationOutcome =
  | (OutcomeDetails & {
      ok: true;
      /** The new global model. */
      global: WeightSet;
      /** The strategy's state to commit with it (the job's state when a coordinate-wise statistic replaced the strategy). */
      state: ServerState | null;
      accepted: AcceptedUpdate[];
      /** What combined the updates: 'strategy', 'trimmed-mean', 'median', or '<statistic> (fallback)'. */
      combiner: string;
    })
  | (OutcomeDetails & { ok: false; reason: string });

/** Runs one aggregation step. Pure and synchronous; never throws (every failure is an { ok: false } outcome). */
export function aggregateRound(job: AggregationJob): AggregationOutcome {
  let runtime;
  try {
    runtime = runtimeFor(job.strategy);
  } catch (e) {
    return { ok: false, reason: `unknown or invalid strategy: ${e instanceof Error ? e.message : String(e)}`, dropped: [], clipped: [], capped: [] };
  }
  const last: { result?: AggregateResult } = {};
  const ctx = { round: job.round, population: job.population };
  const declared = job.declaredSamples;
  // The strategy's own check of its updates (SCAFFOLD: delta-c against delta-w) sees them as they arrived.
  let own: ReturnType<StrategyRuntime['screen']>;
  try {
    own = runtime.screen(job.global, job.updates, job.state);
  } catch (e) {
    return { ok: false, reason: `the strategy's check of the updates failed: ${e instanceof Error ? e.message : String(e)}`, dropped: [], clipped: [], capped: [] };
  }
  const robust = robustAggregate({
    global: job.global,
    updates: own.kept,
    declaredSamples: (id) => (Object.hasOwn(declared, id) && typeof declared[id] === 'number' ? declared[id] : undefined),
    declaredLabels: (id) => (job.declaredLabels && Object.hasOwn(job.declaredLabels, id) && Array.isArray(job.declaredLabels[id]) ? job.declaredLabels[id] : undefined),
    settings: job.robust,
    aggregator: { aggregate: (g, u) => (last.result = runtime.aggregate(g, u, job.state, ctx)).weights },
    traits: getStrategy(job.strategy.name).traits,
    ...(job.weights ? { weightOf: (u: ClientUpdate) => (Object.hasOwn(job.weights!, u.clientId) && Number.isFinite(job.weights![u.clientId]) ? job.weights![u.clientId] : 1) } : {}),
    valuesScanned: job.valuesScanned,
  });
  const details: OutcomeDetails = { dropped: [...own.dropped, ...robust.dropped], clipped: robust.clipped, capped: robust.capped };
  if (!robust.ok) return { ok: false, reason: robust.reason, ...details };
  const sent = new Map(job.updates.map((u) => [u.clientId, u.delta]));
  let combined: AggregateResult;
  if (robust.combiner === 'strategy' && last.result) combined = last.result;
  else {
    // A coordinate-wise statistic in place of the strategy (or as its fallback): the strategy's own state stays as it
    // was, and the session's server optimizer (server learning rate, FedAvgM, FedAdam) still takes its step.
    try {
      combined = runtime.stepOptimizer(job.global, robust.global, job.state);
    } catch (e) {
      return { ok: false, reason: `the server optimizer failed: ${e instanceof Error ? e.message : String(e)}`, ...details };
    }
  }
  return {
    ok: true,
    global: combined.weights,
    state: combined.state,
    accepted: robust.accepted.map((u) => ({ clientId: u.clientId, numSamples: u.numSamples, ...(u.delta !== sent.get(u.clientId) ? { delta: u.delta } : {}) })),
    combiner: robust.combiner,
    ...details,
  };
}

/** Runtimes are pure functions of their config: one per config (and registered strategy object) is reused. */
const runtimes = new Map<string, StrategyRuntime>();

function runtimeFor(config: StrategyConfig): StrategyRuntime {
  const key = JSON.stringify(config);
  const cached = runtimes.get(key);
  if (cached && cached.strategy === getStrategy(config.name)) return cached;
  const runtime = strategyRuntime(config);
  runtimes.delete(key);
  runtimes.set(key, runtime);
  if (runtimes.size > 16) runtimes.delete(runtimes.keys().next().value!);
  return runtime;
}

/**
 * What is wrong with an outcome that came back from EngineHooks.aggregate (a worker, say), or null when it may be
 * committed. The engines trust it no further than a message: the new model and state must fit the model's layout
 * and be finite, and the accepted updates must be the job's, once each, with sample counts no larger than claimed.
 */
export function outcomeProblem(outcome: unknown, job: AggregationJob, layout: readonly TensorLayout[]): string | null {
  if (typeof outcome !== 'object' || outcome === null || typeof (outcome as { ok?: unknown }).ok !== 'boolean') return 'the aggregation returned no outcome';
  const o = outcome as AggregationOutcome;
  if (!Array.isArray(o.dropped) || o.dropped.some((d) => typeof d?.clientId !== 'string' || typeof d.reason !== 'string')) return 'the outcome lists its dropped updates wrongly';
  if (!o.ok) return typeof o.reason === 'string' ? null : 'a failed outcome without a reason';
  try {
    assertSameLayout(layout, o.global, 'the aggregate has another layout');
    assertFinite(o.global, 'the aggregate');
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (o.state !== null) {
    if (typeof o.state !== 'object' || o.state.strategy !== job.strategy.name) return `the new strategy state is not a ${job.strategy.name} state`;
    const problem = stateProblem(o.state, layout);
    if (problem) return `the new strategy state: ${problem}`;
  }
  if (typeof o.combiner !== 'string') return 'the outcome does not say what combined the updates';
  if (!Array.isArray(o.accepted) || o.accepted.length === 0) return 'the outcome accepts no update';
  const sent = new Map(job.updates.map((u) => [u.clientId, u]));
  const seen = new Set<string>();
  for (const a of o.accepted) {
    const u = sent.get(a?.clientId);
    if (!u || seen.has(a.clientId)) return `the outcome accepts an update from ${String(a?.clientId)} that the job did not hold once`;
    seen.add(a.clientId);
    if (!(Number.isInteger(a.numSamples) && a.numSamples > 0 && a.numSamples <= u.numSamples)) return `the outcome gives ${a.clientId} ${String(a.numSamples)} samples (it claimed ${u.numSamples})`;
    if (a.delta !== undefined) {
      try {
        assertSameLayout(layout, a.delta, `the accepted delta of ${a.clientId}`);
        assertFinite(a.delta, `the accepted delta of ${a.clientId}`);
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    }
  }
  return null;
}

/** ServerState tensors are weight-shaped: a state for another model would fail every round, so it is refused up front. */
export function stateProblem(state: ServerState, layout: readonly TensorLayout[]): string | null {
  try {
    for (const [name, tensors] of Object.entries(state.tensors)) {
      assertSameLayout(layout, tensors, name);
      assertFinite(tensors, name);
    }
    if (!(Number.isInteger(state.steps) && state.steps >= 0)) return `invalid step count ${state.steps}`;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
