import type { Aggregator, ClientUpdate, ServerState } from './types';
import type { TensorLayout, WeightSet } from '../weights';
import { assertFinite, assertSameLayout, layoutOf } from '../weights';
import type { PrincipalGradientMode, PrincipalGradientResult } from './principal-gradient';
import { plainMeanUpdate, principalGradientUpdateDetailed } from './principal-gradient';
import { addF32Simd, decayIntoSimd } from '../linalg/vector-simd';

export const FEDLD_AGGREGATOR_CONFIG = {
  /** h <- decay * h + (1 - decay) * u; the history only records whether a tensor has ever moved. */
  historyDecay: 0.99,
} as const;

/** 'uniform': every reporting client counts 1/K (the authors' code); 'samples': by sample count n_k / n. */
export type FedLdWeighting = 'uniform' | 'samples';
/** 'spec': the step as specified; 'norm': rescaled per tensor to the norm of the (weighted) mean update. */
export type FedLdStep = 'spec' | 'norm';

export interface FedLdOptions {
  rho: number;
  weighting?: FedLdWeighting;
  step?: FedLdStep;
}

export interface FedLdTensorStats {
  name: string;
  mode: PrincipalGradientMode;
  /** Principal directions that contributed (0 for 'mean' and 'zero'). */
  directionsKept: number;
}

export interface FedLdRoundStats {
  /** 1 for the first aggregate() call of this aggregator. */
  round: number;
  /** Clients that reported this round (K). */
  clients: number;
  tensors: FedLdTensorStats[];
  /** Wall-clock time of aggregate(), validation included. */
  ms: number;
}

/**
 * FedLD aggregation (spec section 3): per tensor, the unweighted principal-gradient combination of the client updates
 * of the clients that reported; plain unweighted mean in the first round and for tensors that have never moved.
 * Keeps per-tensor history across rounds, so use one instance per training session (or call reset()).
 */
export class FedLdAggregator implements Aggregator {
  readonly rho: number;
  readonly weighting: FedLdWeighting;
  readonly step: FedLdStep;
  /** Diagnostics of the latest aggregate() call; null before the first. */
  lastStats: FedLdRoundStats | null = null;
  private history = new Map<string, Float32Array>();
  private layout: TensorLayout[] | null = null;
  private rounds = 0;

  constructor(opts: FedLdOptions) {
    if (!(opts.rho > 0 && opts.rho <= 1)) throw new Error(`FedLD: rho must be in (0, 1], got ${opts.rho}`);
    this.rho = opts.rho;
    this.weighting = opts.weighting ?? 'uniform';
    this.step = opts.step ?? 'spec';
  }

  /** The per-tensor history and round count as plain data (see restoreState). */
  exportState(): ServerState {
    const history = this.layout
      ? this.layout.map((l) => ({ name: l.name, shape: [...l.shape], values: this.history.get(l.name)?.slice() ?? new Float32Array(l.shape.reduce((a, b) => a * b, 1)) }))
      : [];
    return { strategy: 'fedld', steps: this.rounds, tensors: this.layout ? { history } : {}, values: {} };
  }

  /** Continues from a state written by exportState (of this or another instance). */
  restoreState(state: ServerState): void {
    this.reset();
    const history = state.tensors.history;
    this.rounds = state.steps;
    if (!history) return;
    this.layout = layoutOf(history);
    for (const t of history) this.history.set(t.name, new Float32Array(t.values));
  }

  /** Forgets the history, so the next round counts as the first (e.g. for a new model). */
  reset(): void {
    this.history.clear();
    this.layout = null;
    this.rounds = 0;
    this.lastStats = null;
  }

  aggregate(global: WeightSet, updates: ClientUpdate[]): WeightSet {
    const started = performance.now();
    this.validate(global, updates);

    const tensorUpdates: Float32Array[] = [];
    const tensors: FedLdTensorStats[] = [];
    const clientWeights = this.weighting === 'samples' ? sampleWeights(updates) : undefined;
    global.forEach((tensor, ti) => {
      const rows = updates.map((u) => u.delta[ti].values);
      // No history yet (first round) and an all-zero history (never moved) both mean: plain mean.
      const usePrincipal = hasMoved(this.history.get(tensor.name));
      const result: PrincipalGradientResult = usePrincipal
        ? principalGradientUpdateDetailed(rows, this.rho, clientWeights)
        : { update: plainMeanUpdate(rows, clientWeights), mode: 'mean', directionsKept: 0 };
      if (this.step === 'norm' && result.mode === 'principal') rescaleTo(result.update, norm(plainMeanUpdate(rows, clientWeights)));
      tensorUpdates.push(result.update);
      tensors.push({ name: tensor.name, mode: result.mode, directionsKept: result.directionsKept });
    });

    const next = global.map((tensor, ti) => ({ name: tensor.name, shape: [...tensor.shape], values: addF32(tensor.values, tensorUpdates[ti]) }));
    assertFinite(next, 'FedLD: new global weights (global + update overflowed float32)');

    // Commit state only once the round has fully succeeded.
    global.forEach((tensor, ti) => this.recordHistory(tensor.name, tensorUpdates[ti]));
    this.layout ??= layoutOf(global);
    this.rounds++;
    this.lastStats = { round: this.rounds, clients: updates.length, tensors, ms: performance.now() - started };
    return next;
  }

  /**
   * Checks of this aggregator's own state and inputs. The update deltas themselves are trusted: the round engine
   * checked their layout once, on accepting them, and their values were scanned once, there or by validateMessage (see RoundEngine.acceptUpdate); `next` is checked above
   * because finite inputs can still overflow.
   */
  private validate(global: WeightSet, updates: ClientUpdate[]): void {
    if (updates.length === 0) throw new Error('FedLD: no client updates to aggregate');
    if (this.layout) assertSameLayout(this.layout, global, 'FedLD: global weights (layout changed since earlier rounds; call reset() for a new model)');
    assertFinite(global, 'FedLD: global weights');
    const names = new Set(global.map((t) => t.name));
    if (names.size !== global.length) throw new Error('FedLD: global weights have duplicate tensor names (history is kept per name)');
    const seen = new Set<string>();
    for (const u of updates) {
      if (seen.has(u.clientId)) throw new Error(`FedLD: client ${u.clientId} reported more than once this round`);
      seen.add(u.clientId);
    }
  }

  private recordHistory(name: string, u: Float32Array): void {
    const decay = FEDLD_AGGREGATOR_CONFIG.historyDecay;
    let h = this.history.get(name);
    if (!h) {
      h = new Float32Array(u.length);
      this.history.set(name, h);
    }
    if (!decayIntoSimd(h, u, decay)) for (let i = 0; i < h.length; i++) h[i] = decay * h[i] + (1 - decay) * u[i];
  }
}

/** a + b in float32: on the SIMD kernel where it runs (same values, and no cold JS loop per tensor and round). */
function addF32(a: Float32Array, b: Float32Array): Float32Array {
  const simd = addF32Simd(a, b);
  if (simd) return simd;
  const values = new Float32Array(a.length);
  for (let i = 0; i < values.length; i++) values[i] = a[i] + b[i];
  return values;
}

function sampleWeights(updates: ClientUpdate[]): Float64Array {
  const total = updates.reduce((n, u) => n + u.numSamples, 0);
  if (!(total > 0)) throw new Error('FedLD: sample-count weighting needs positive sample counts');
  return Float64Array.from(updates, (u) => u.numSamples / total);
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Scales `v` in place to Euclidean norm `target` (a zero vector stays zero). */
function rescaleTo(v: Float32Array, target: number): void {
  const current = norm(v);
  if (current === 0) return;
  const f = target / current;
  for (let i = 0; i < v.length; i++) v[i] *= f;
}

function hasMoved(history: Float32Array | undefined): boolean {
  if (!history) return false;
  for (let i = 0; i < history.length; i++) if (history[i] !== 0) return true;
  return false;
}
