/**
 * SCAFFOLD (Karimireddy et al., 2020), option II control variates, with partial participation.
 * Client k corrects every local gradient by (c - c_k): as a loss term <w, c - c_k>, whose gradient is exactly
 * that correction, so it works with any local optimizer. After training, c_k+ = c_k - c + (w_g - w_k) / (K * lr),
 * where K * lr is the distance the optimizer moved per unit gradient: steps * lr for plain SGD, more with momentum
 * (effectiveSteps); Adam's step has no such relation to lr, so SCAFFOLD refuses it (localOptimizerProblem). The
 * client keeps c_k+ and sends delta-c = c_k+ - c_k. The server steps by the mean delta (uniform as in the paper, or
 * sample-weighted) and updates c by (|S| / N) times the same mean of the delta-c. Before that, each update's
 * delta-c is checked against its delta-w (option II ties them: delta-c + c = -delta-w / (K * lr)), and an update
 * whose delta-c does not follow from its delta-w is refused (screen, run by the robust aggregation).
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { LocalOptimizerName } from '../local-optimizer';
import { controlVariateProblem } from '../robust/extras';
import type { WeightSet } from '../weights';
import { assertSameLayout, zerosLike } from '../weights';
import { choiceParam, numberParam } from './params';
import { sampleClients } from './sampling';
import type { ClientUpdate, Strategy } from './types';

export const SCAFFOLD_NAMES = { serverControl: 'c', clientControl: 'c', update: 'deltaC' } as const;

export type ScaffoldWeighting = 'uniform' | 'samples';

/** sum_i scale_i * sets_i, tensor by tensor (all sets share the layout of the first). */
function combine(sets: readonly WeightSet[], scales: readonly number[]): WeightSet {
  return sets[0].map((t, ti) => {
    const acc = new Float64Array(t.values.length);
    sets.forEach((s, k) => {
      const v = s[ti].values;
      const a = scales[k];
      for (let i = 0; i < acc.length; i++) acc[i] += a * v[i];
    });
    return { name: t.name, shape: [...t.shape], values: Float32Array.from(acc) };
  });
}

function isZero(w: WeightSet): boolean {
  return w.every((t) => t.values.every((x) => x === 0));
}

function controlDelta(u: ClientUpdate): WeightSet {
  const dc = u.extras?.[SCAFFOLD_NAMES.update];
  if (!dc) throw new Error(`SCAFFOLD: update from ${u.clientId} carries no ${SCAFFOLD_NAMES.update}`);
  return dc;
}

/** Why SCAFFOLD's control-variate update cannot follow this local optimizer (null: it can). */
export function scaffoldOptimizerProblem(optimizer: LocalOptimizerName): string | null {
  return optimizer === 'adam'
    ? "SCAFFOLD cannot run with the Adam local optimizer: its control-variate update divides the local model's move by the optimizer's step length, which Adam does not have; choose SGD or SGD with momentum"
    : null;
}

/**
 * K_eff: how far `steps` steps of the local optimizer move per unit of a constant gradient, in units of lr. Plain SGD:
 * steps. Heavy-ball momentum m (v = m v + g; w -= lr v): v_t = (1 - m^t) / (1 - m) g, so the move adds up to
 * (K - m (1 - m^K) / (1 - m)) / (1 - m), about K / (1 - m) once K is well past 1 / (1 - m).
 */
export function effectiveSteps(steps: number, optimizer: LocalOptimizerName, momentum: number): number {
  const problem = scaffoldOptimizerProblem(optimizer);
  if (problem) throw new Error(problem);
  if (optimizer === 'sgd' || momentum === 0) return steps;
  if (!(momentum > 0 && momentum <= 1)) throw new RangeError(`SCAFFOLD: momentum must be in [0, 1], got ${momentum}`);
  if (momentum === 1) return (steps * (steps + 1)) / 2;
  return (steps - (momentum * (1 - momentum ** steps)) / (1 - momentum)) / (1 - momentum);
}

export const scaffold: Strategy = {
  name: 'scaffold',
  // c beside the weights, delta-c beside the delta; c in the server state.
  wireSets: { extras: 1, serverState: 1 },
  updateExtras: [SCAFFOLD_NAMES.update],
  label: 'SCAFFOLD',
  // Clients correct their gradient by (c - c_k), which cancels the pull towards their own labels: checked against the
  // round's consensus instead. Its server step is a mean of the deltas with a drift term: not replaceable by a statistic.
  traits: { weightedMean: false, labelDirected: false },
  summary: 'control variates c and c_k correct client drift; clients send delta-c beside delta-w',
  params: [
    {
      name: 'weighting',
      kind: 'choice',
      label: 'Client weighting',
      help: 'of delta-w and delta-c: uniform 1/|S| as in the paper, or by sample count (a client with more data counts more)',
      default: 'samples',
      options: [
        { value: 'samples', label: 'by sample count' },
        { value: 'uniform', label: 'uniform (paper)' },
      ],
    },
    {
      name: 'controlCosine',
      kind: 'number',
      label: 'delta-c check: minimum cosine',
      help: 'an update whose delta-c + c has a cosine below this with its -delta-w (1 when honest) is left out, in every robust mode (-1 = no check)',
      default: 0.9,
      min: -1,
      max: 1,
    },
  ],
  localOptimizerProblem: scaffoldOptimizerProblem,
  client: ({ tf, global, extras, state, trainableIndex }) => {
    const c = extras[SCAFFOLD_NAMES.serverControl] ?? zerosLike(global);
    assertSameLayout(global, c, 'SCAFFOLD: server control variate');
    const ck = state?.tensors[SCAFFOLD_NAMES.clientControl] ?? zerosLike(global);
    assertSameLayout(global, ck, 'SCAFFOLD: client control variate');
    const correction = combine([c, ck], [1, -1]);
    const tensors = isZero(correction) ? null : trainableIndex.map((ti) => tf.tensor(correction[ti].values, correction[ti].shape, 'float32'));
    return {
      extraLoss: ({ params }) => {
        if (!tensors) return null;
        return tf.addN(params.map((p, i) => tf.sum(tf.mul(p, tensors[i])))) as tfjs.Scalar;
      },
      finish: ({ delta, steps, learningRate, optimizer, momentum }) => {
        // No step taken: c_k stays, delta-c is zero.
        const next = steps > 0 ? combine([ck, c, delta], [1, -1, -1 / (effectiveSteps(steps, optimizer, momentum) * learningRate)]) : ck;
        return {
          extras: { [SCAFFOLD_NAMES.update]: combine([next, ck], [1, -1]) },
          state: { strategy: 'scaffold', steps: (state?.steps ?? 0) + 1, tensors: { [SCAFFOLD_NAMES.clientControl]: next }, values: {} },
        };
      },
      dispose: () => {
        if (tensors) tf.dispose(tensors);
      },
    };
  },
  server: (params) => {
    const weighting = choiceParam<ScaffoldWeighting>(params, 'weighting');
    const minCosine = numberParam(params, 'controlCosine');
    const serverControl = (global: WeightSet, state: { tensors: Record<string, WeightSet> } | null) => state?.tensors[SCAFFOLD_NAMES.serverControl] ?? zerosLike(global);
    return {
      planRound: (ctx) => ({
        selected: sampleClients(ctx),
        extras: { [SCAFFOLD_NAMES.serverControl]: serverControl(ctx.global, ctx.state) },
      }),
      screen: (global, updates, state) => {
        if (minCosine <= -1) return { kept: updates, dropped: [] };
        const c = serverControl(global, state);
        const dropped: { clientId: string; reason: string }[] = [];
        const kept = updates.filter((u) => {
          const dc = u.extras?.[SCAFFOLD_NAMES.update];
          // The c this client trained with: the current one, or (asynchronous steps) the one of its assignment.
          const sent = u.sentExtras?.[SCAFFOLD_NAMES.serverControl] ?? c;
          const problem = dc ? controlVariateProblem(u.delta, dc, sent, minCosine) : null;
          if (problem) dropped.push({ clientId: u.clientId, reason: `SCAFFOLD: ${SCAFFOLD_NAMES.update} ${problem}` });
          return !problem;
        });
        return { kept, dropped };
      },
      aggregate: (global, updates, state, ctx) => {
        if (updates.length === 0) throw new Error('SCAFFOLD: no client updates to aggregate');
        const S = updates.length;
        const N = Math.max(ctx.population, S);
        const controls = updates.map(controlDelta);
        const total = updates.reduce((s, u) => s + u.numSamples, 0);
        const share = updates.map((u) => (weighting === 'samples' ? u.numSamples / total : 1 / S));
        const weights = combine([global, ...updates.map((u) => u.delta)], [1, ...share]);
        const c = serverControl(global, state);
        const nextC = combine([c, ...controls], [1, ...share.map((p) => (p * S) / N)]); // (|S|/N) * the same mean
        return { weights, state: { strategy: 'scaffold', steps: (state?.steps ?? 0) + 1, tensors: { [SCAFFOLD_NAMES.serverControl]: nextC }, values: {} } };
      },
    };
  },
  describe: (p) => `SCAFFOLD (${p.weighting === 'uniform' ? 'uniform weighting, as in the paper' : 'sample-weighted'}${p.controlCosine as number > -1 ? `; delta-c check at cosine ${p.controlCosine}` : ''})`,
};
