export * from './types';
export * from './registry';
export { createAggregator, openClientRound, strategyRuntime, StrategyAggregator, type StrategyRuntime } from './runtime';
export { marginControlLoss, proximalLoss } from './client-terms';
export { FedAvgAggregator } from './fedavg-aggregator';
export { FedLdAggregator } from './fedld-aggregator';
export { SERVER_OPTIMIZER_PARAMS } from './server-optimizer';
