/**
 * FedOpt-style server optimizer (Reddi et al., "Adaptive Federated Optimization"), applicable to any strategy:
 * the strategy's new global model minus the old one is a pseudo-gradient step Δ, which the server optimizer
 * turns into the actual step. 'sgd' with learning rate 1 returns the strategy's output unchanged (bit for bit).
 */
import type { WeightSet } from '../weights';
import { assertFinite } from '../weights';
import { numberParam, choiceParam } from './params';
import type { HyperParam, ResolvedParams } from './types';

export type ServerOptimizerName = 'sgd' | 'avgm' | 'adam';

export const SERVER_OPTIMIZER_PARAMS: readonly HyperParam[] = [
  {
    name: 'serverOpt',
    kind: 'choice',
    label: 'Server optimizer',
    help: 'how the aggregated update is applied: sgd (plain, scaled by the server learning rate), avgm (FedAvgM momentum), adam (FedAdam)',
    default: 'sgd',
    options: [
      { value: 'sgd', label: 'plain step' },
      { value: 'avgm', label: 'momentum (FedAvgM)' },
      { value: 'adam', label: 'Adam (FedAdam)' },
    ],
  },
  { name: 'serverLr', kind: 'number', label: 'Server learning rate', help: 'scales the server step (1 = apply the aggregate as is)', default: 1, min: 0, max: 100, minExclusive: true },
  { name: 'serverMomentum', kind: 'number', label: 'Server momentum β1', help: 'FedAvgM momentum and FedAdam first-moment decay', default: 0.9, min: 0, max: 1, },
  { name: 'serverBeta2', kind: 'number', label: 'FedAdam β2', help: 'FedAdam second-moment decay', default: 0.99, min: 0, max: 1 },
  { name: 'serverTau', kind: 'number', label: 'FedAdam τ', help: 'FedAdam adaptivity (added to the root of the second moment)', default: 1e-3, min: 0, max: 10, minExclusive: true },
];

/** Tensor names in the composite ServerState; strategies must not use this prefix. */
export const SERVER_OPTIMIZER_PREFIX = 'serverOpt.';
const M = `${SERVER_OPTIMIZER_PREFIX}m`;
const V = `${SERVER_OPTIMIZER_PREFIX}v`;

export interface ServerOptimizerStep {
  weights: WeightSet;
  tensors: Record<string, WeightSet>;
}

export function describeServerOptimizer(params: ResolvedParams): string | null {
  const name = choiceParam<ServerOptimizerName>(params, 'serverOpt');
  const lr = numberParam(params, 'serverLr');
  if (name === 'sgd') return lr === 1 ? null : `server lr ${lr}`;
  if (name === 'avgm') return `FedAvgM (lr ${lr}, β ${numberParam(params, 'serverMomentum')})`;
  return `FedAdam (lr ${lr}, β1 ${numberParam(params, 'serverMomentum')}, β2 ${numberParam(params, 'serverBeta2')}, τ ${numberParam(params, 'serverTau')})`;
}

/** Model-shaped moments the server optimizer keeps in the server state: FedAvgM one, FedAdam two. */
export function serverOptimizerStateSets(params: ResolvedParams): number {
  const name = choiceParam<ServerOptimizerName>(params, 'serverOpt');
  return name === 'adam' ? 2 : name === 'avgm' ? 1 : 0;
}

/** The server step from `global` towards the strategy's `proposed` model, with the optimizer's moments in `tensors`. */
export function serverOptimizerStep(params: ResolvedParams, global: WeightSet, proposed: WeightSet, tensors: Record<string, WeightSet>): ServerOptimizerStep {
  const name = choiceParam<ServerOptimizerName>(params, 'serverOpt');
  const lr = numberParam(params, 'serverLr');
  if (name === 'sgd' && lr === 1) return { weights: proposed, tensors: {} };
  const beta1 = numberParam(params, 'serverMomentum');
  const beta2 = numberParam(params, 'serverBeta2');
  const tau = numberParam(params, 'serverTau');
  const oldM = tensors[M];
  const oldV = tensors[V];
  const nextM: WeightSet = [];
  const nextV: WeightSet = [];
  const weights = global.map((t, ti) => {
    const p = proposed[ti].values;
    const out = new Float32Array(t.values.length);
    const m = new Float32Array(t.values.length);
    const v = new Float32Array(t.values.length);
    const mPrev = oldM?.[ti]?.values;
    const vPrev = oldV?.[ti]?.values;
    for (let i = 0; i < out.length; i++) {
      const delta = p[i] - t.values[i];
      if (name === 'sgd') {
        out[i] = t.values[i] + lr * delta;
      } else if (name === 'avgm') {
        m[i] = beta1 * (mPrev ? mPrev[i] : 0) + delta;
        out[i] = t.values[i] + lr * m[i];
      } else {
        m[i] = beta1 * (mPrev ? mPrev[i] : 0) + (1 - beta1) * delta;
        v[i] = beta2 * (vPrev ? vPrev[i] : 0) + (1 - beta2) * delta * delta;
        out[i] = t.values[i] + (lr * m[i]) / (Math.sqrt(v[i]) + tau);
      }
    }
    nextM.push({ name: t.name, shape: [...t.shape], values: m });
    nextV.push({ name: t.name, shape: [...t.shape], values: v });
    return { name: t.name, shape: [...t.shape], values: out };
  });
  assertFinite(weights, 'server optimizer: new global weights');
  const moments: Record<string, WeightSet> = {};
  if (name === 'avgm' || name === 'adam') moments[M] = nextM;
  if (name === 'adam') moments[V] = nextV;
  return { weights, tensors: moments };
}
