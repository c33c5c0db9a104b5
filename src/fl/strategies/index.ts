export * from './types';
export { createAggregator } from './aggregators';
export { createClientStrategy, marginControlLoss, proximalLoss } from './client-terms';
export { FedAvgAggregator } from './fedavg-aggregator';
export { FedLdAggregator } from './fedld-aggregator';
