import { FedAvgAggregator } from './fedavg-aggregator';
import type { Strategy } from './types';

export const fedavg: Strategy = {
  name: 'fedavg',
  label: 'FedAvg',
  traits: { weightedMean: true, labelDirected: true },
  summary: 'sample-count-weighted mean of the local models',
  params: [],
  client: () => ({ extraLoss: () => null }),
  server: () => {
    const aggregator = new FedAvgAggregator();
    return { aggregate: (global, updates) => ({ weights: aggregator.aggregate(global, updates), state: null }) };
  },
};
