/**
 * THE list of strategies. Adding a method: one file exporting a Strategy, one line below, its tests.
 * The wire validator, the host form, the CLI and the README's strategy list are all generated from here.
 */
import type { LocalOptimizerName } from '../local-optimizer';
import { fedavg } from './fedavg';
import { fedld } from './fedld';
import { fedprox } from './fedprox';
import { resolveParams } from './params';
import { scaffold } from './scaffold';
import { describeServerOptimizer as describeServerOptimizerOf, SERVER_OPTIMIZER_PARAMS } from './server-optimizer';
import type { HyperParam, ParamValue, ResolvedParams, Strategy, StrategyConfig } from './types';

const STRATEGIES = new Map<string, Strategy>();

/**
 * Adds a strategy (built-ins below; tests and embedders may add their own). Returns a function that removes it.
 * A name already taken, or a hyper-parameter clashing with the server optimizer's, is refused.
 */
export function registerStrategy(strategy: Strategy): () => void {
  if (!/^[a-z][a-z0-9-]*$/.test(strategy.name)) throw new Error(`strategy name "${strategy.name}" must be lower-case letters, digits and dashes`);
  if (STRATEGIES.has(strategy.name)) throw new Error(`strategy "${strategy.name}" is already registered`);
  const reserved = new Set(['name', ...SERVER_OPTIMIZER_PARAMS.map((p) => p.name)]);
  const seen = new Set<string>();
  for (const p of strategy.params) {
    if (reserved.has(p.name) || seen.has(p.name)) throw new Error(`strategy "${strategy.name}": parameter name "${p.name}" is reserved or repeated`);
    seen.add(p.name);
  }
  STRATEGIES.set(strategy.name, strategy);
  return () => {
    if (STRATEGIES.get(strategy.name) === strategy) STRATEGIES.delete(strategy.name);
  };
}

registerStrategy(fedavg);
registerStrategy(fedprox);
registerStrategy(fedld);
registerStrategy(scaffold);

export const DEFAULT_STRATEGY = 'fedld';

export function strategyNames(): string[] {
  return [...STRATEGIES.keys()];
}

export function listStrategies(): Strategy[] {
  return [...STRATEGIES.values()];
}

export function findStrategy(name: unknown): Strategy | null {
  return typeof name === 'string' ? (STRATEGIES.get(name) ?? null) : null;
}

export function getStrategy(name: string): Strategy {
  const s = findStrategy(name);
  if (!s) throw new Error(`unknown strategy "${name}" (known: ${strategyNames().join(', ')})`);
  return s;
}

/** Why the named strategy cannot run with this local optimizer (null: it can, or no such strategy). */
export function localOptimizerProblem(strategy: string, optimizer: LocalOptimizerName): string | null {
  return findStrategy(strategy)?.localOptimizerProblem?.(optimizer) ?? null;
}

/** Every hyper-parameter a config of this strategy may carry: its own, then the server optimizer's. */
export function configurableParams(strategy: Strategy): readonly HyperParam[] {
  return [...strategy.params, ...SERVER_OPTIMIZER_PARAMS];
}

/** The strategy and all its parameters (defaults filled in); throws on an unknown name or a bad value. */
export function resolveStrategy(config: StrategyConfig, where = 'strategy'): { strategy: Strategy; params: ResolvedParams } {
  const strategy = getStrategy(config.name);
  return { strategy, params: resolveParams(configurableParams(strategy), config, where) };
}

/** A checked config holding exactly the given known fields (a fresh object; defaults stay implicit). */
export function checkStrategyConfig(config: Readonly<Record<string, unknown>>, where = 'strategy'): StrategyConfig {
  const strategy = findStrategy(config.name);
  if (!strategy) throw new Error(`${where}.name: unknown strategy ${JSON.stringify(config.name)} (known: ${strategyNames().join(', ')})`);
  const resolved = resolveParams(configurableParams(strategy), config, where);
  const out: StrategyConfig = { name: strategy.name };
  for (const key of Object.keys(resolved)) if (config[key] !== undefined) out[key] = resolved[key];
  return out;
}

/** A config with every declared parameter of the strategy at its default, then `overrides`. */
export function defaultStrategyConfig(name: string, overrides: Record<string, ParamValue> = {}): StrategyConfig {
  const strategy = getStrategy(name);
  const config: StrategyConfig = { name };
  for (const p of strategy.params) config[p.name] = p.default;
  return checkStrategyConfig({ ...config, ...overrides });
}

/** "FedLD (λ 0.1, ρ 0.8; uniform weighting, mean-norm step)", plus the server optimizer when it is not the plain step. */
export function describeStrategyConfig(config: StrategyConfig): string {
  const { strategy, params } = resolveStrategy(config);
  const own = strategy.describe?.(params) ?? (strategy.params.length === 0 ? strategy.label : `${strategy.label} (${strategy.params.map((p) => `${p.name} ${params[p.name]}`).join(', ')})`);
  const server = describeServerOptimizerOf(params);
  return server ? `${own} + ${server}` : own;
}
