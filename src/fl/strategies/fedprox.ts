import { proximalLoss } from './client-terms';
import { FedAvgAggregator } from './fedavg-aggregator';
import { numberParam } from './params';
import type { Strategy } from './types';

/** FedProx changes only local training; it aggregates like FedAvg. */
export const fedprox: Strategy = {
  name: 'fedprox',
  label: 'FedProx',
  // The proximal pull towards the global model does not turn the output bias against the client's labels.
  traits: { weightedMean: true, labelDirected: true },
  summary: 'FedAvg plus a proximal term (μ/2)·||w − w_g||² in local training',
  params: [{ name: 'mu', kind: 'number', label: 'μ: proximal weight', help: 'pulls local models towards the global one (0 = FedAvg)', default: 0.01, min: 0, max: 100 }],
  client: ({ tf, params }) => {
    const mu = numberParam(params, 'mu');
    return { extraLoss: ({ params: p, globalParams }) => (mu > 0 ? proximalLoss(tf, p, globalParams, mu) : null) };
  },
  server: () => {
    const aggregator = new FedAvgAggregator();
    return { aggregate: (global, updates) => ({ weights: aggregator.aggregate(global, updates), state: null }) };
  },
  describe: (params) => `FedProx (μ ${params.mu})`,
};
