import type { Aggregator, ClientUpdate } from './types';
import type { WeightSet } from '../weights';

/**
 * Sample-count-weighted mean of the client updates (FedAvg; FedProx aggregates the same way).
 * The updates are trusted: the round engine accepted them, once (layout and finiteness, see RoundEngine.acceptUpdate).
 */
export class FedAvgAggregator implements Aggregator {
  aggregate(global: WeightSet, updates: ClientUpdate[]): WeightSet {
    if (updates.length === 0) throw new Error('FedAvg: no client updates to aggregate');
    const total = updates.reduce((n, u) => n + u.numSamples, 0);
    for (const u of updates) {
      if (!(u.numSamples > 0)) throw new Error(`FedAvg: client ${u.clientId} reported ${u.numSamples} samples`);
    }
    return global.map((t, ti) => {
      const acc = new Float64Array(t.values.length);
      for (const u of updates) {
        const w = u.numSamples / total;
        const d = u.delta[ti].values;
        for (let i = 0; i < acc.length; i++) acc[i] += w * d[i];
      }
      const out = new Float32Array(t.values.length);
      for (let i = 0; i < out.length; i++) out[i] = t.values[i] + acc[i];
      return { name: t.name, shape: [...t.shape], values: out };
    });
  }
}
