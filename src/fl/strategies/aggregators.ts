// The aggregator entry point kept at its old path: `createAggregator(config, state?).aggregate(global, updates)`.
export { createAggregator, StrategyAggregator } from './runtime';
