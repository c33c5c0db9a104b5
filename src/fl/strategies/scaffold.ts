/**
 * SCAFFOLD (Karimireddy et al., 2020), option II control variates, with partial participation.
 * Client k corrects every local gradient by (c - c_k): as a loss term <w, c - c_k>, whose gradient is exactly
 * that correction, so it works with any local optimizer. After training, c_k+ = c_k - c + (w_g - w_k) / (steps * lr);
 * the client keeps c_k+ and sends delta-c = c_k+ - c_k. The server steps by the mean delta and
 * updates c by (|S| / N) * mean(delta-c).
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { WeightSet } from '../weights';
import { assertSameLayout, zerosLike } from '../weights';
import { sampleClients } from './sampling';
import type { ClientUpdate, Strategy } from './types';

export const SCAFFOLD_NAMES = { serverControl: 'c', clientControl: 'c', update: 'deltaC' } as const;

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

export const scaffold: Strategy = {
  name: 'scaffold',
  // c beside the weights, delta-c beside the delta; c in the server state.
  wireSets: { extras: 1, serverState: 1 },
  label: 'SCAFFOLD',
  summary: 'control variates c and c_k correct client drift; clients send delta-c beside delta-w',
  params: [],
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
      finish: ({ delta, steps, learningRate }) => {
        // No step taken: c_k stays, delta-c is zero.
        const next = steps > 0 ? combine([ck, c, delta], [1, -1, -1 / (steps * learningRate)]) : ck;
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
  server: () => ({
    planRound: (ctx) => ({
      selected: sampleClients(ctx),
      extras: { [SCAFFOLD_NAMES.serverControl]: ctx.state?.tensors[SCAFFOLD_NAMES.serverControl] ?? zerosLike(ctx.global) },
    }),
    aggregate: (global, updates, state, ctx) => {
      if (updates.length === 0) throw new Error('SCAFFOLD: no client updates to aggregate');
      const S = updates.length;
      const N = Math.max(ctx.population, S);
      const controls = updates.map(controlDelta);
      const weights = combine([global, ...updates.map((u) => u.delta)], [1, ...updates.map(() => 1 / S)]);
      const c = state?.tensors[SCAFFOLD_NAMES.serverControl] ?? zerosLike(global);
      const nextC = combine([c, ...controls], [1, ...controls.map(() => 1 / N)]); // (|S|/N) * mean = sum / N
      return { weights, state: { strategy: 'scaffold', steps: (state?.steps ?? 0) + 1, tensors: { [SCAFFOLD_NAMES.serverControl]: nextC }, values: {} } };
    },
  }),
};
