/**
 * What the engine and the trainer run: a strategy from the registry with its parameters resolved, its server half
 * composed with the server optimizer, and one composite ServerState holding both halves' state.
 */
import type { WeightSet } from '../weights';
import { assertFinite } from '../weights';
import { resolveStrategy, describeStrategyConfig } from './registry';
import { sampleClients } from './sampling';
import { SERVER_OPTIMIZER_PREFIX, serverOptimizerStep } from './server-optimizer';
import type {
  AggregateContext,
  AggregateResult,
  Aggregator,
  ClientRound,
  ClientRoundContext,
  ClientUpdate,
  ResolvedParams,
  RoundPlan,
  RoundPlanContext,
  ServerState,
  Strategy,
  StrategyConfig,
} from './types';

export interface StrategyRuntime {
  strategy: Strategy;
  params: ResolvedParams;
  /** Which variant runs, for reports. */
  description: string;
  planRound(ctx: RoundPlanContext): RoundPlan;
  /** Pure: the new global model and the new composite state; throws without side effects. */
  aggregate(global: WeightSet, updates: ClientUpdate[], state: ServerState | null, ctx: AggregateContext): AggregateResult;
  /**
   * The server optimizer's step on a model combined outside the strategy (a robust coordinate-wise statistic in its
   * place): the strategy's own state stays as it was, the optimizer's moments advance. Plain SGD with learning rate 1
   * returns `proposed` and `state` as they are.
   */
  stepOptimizer(global: WeightSet, proposed: WeightSet, state: ServerState | null): AggregateResult;
  /** The strategy's own check of the updates as they arrived (StrategyServer.screen); keeps them all when it has none. */
  screen(global: WeightSet, updates: ClientUpdate[], state: ServerState | null): { kept: ClientUpdate[]; dropped: { clientId: string; reason: string }[] };
  /** The given state when this strategy wrote it, else null (a state of another strategy is ignored). */
  adopt(state: ServerState | null | undefined): ServerState | null;
}

function split(state: ServerState | null): { own: ServerState | null; optimizer: Record<string, WeightSet> } {
  if (!state) return { own: null, optimizer: {} };
  const ownTensors: Record<string, WeightSet> = {};
  const optimizer: Record<string, WeightSet> = {};
  for (const [k, v] of Object.entries(state.tensors)) (k.startsWith(SERVER_OPTIMIZER_PREFIX) ? optimizer : ownTensors)[k] = v;
  return { own: { ...state, tensors: ownTensors }, optimizer };
}

export function strategyRuntime(config: StrategyConfig): StrategyRuntime {
  const { strategy, params } = resolveStrategy(config);
  const server = strategy.server(params);
  return {
    strategy,
    params,
    description: describeStrategyConfig(config),
    planRound: (ctx) => server.planRound?.(ctx) ?? { selected: sampleClients(ctx) },
    aggregate(global, updates, state, ctx) {
      const { own, optimizer } = split(state);
      const proposed = server.aggregate(global, updates, own, ctx);
      assertFinite(proposed.weights, `${strategy.label}: aggregated global model`);
      const step = serverOptimizerStep(params, global, proposed.weights, optimizer);
      return {
        weights: step.weights,
        state: {
          strategy: strategy.name,
          steps: (state?.steps ?? 0) + 1,
          tensors: { ...(proposed.state?.tensors ?? {}), ...step.tensors },
          values: { ...(proposed.state?.values ?? {}) },
        },
      };
    },
    stepOptimizer(global, proposed, state) {
      const { own, optimizer } = split(state);
      const step = serverOptimizerStep(params, global, proposed, optimizer);
      if (step.weights === proposed && Object.keys(step.tensors).length === 0) return { weights: proposed, state };
      assertFinite(step.weights, `${strategy.label}: server optimizer step`);
      return {
        weights: step.weights,
        state: { strategy: strategy.name, steps: (state?.steps ?? 0) + 1, tensors: { ...(own?.tensors ?? {}), ...step.tensors }, values: { ...(own?.values ?? {}) } },
      };
    },
    screen: (global, updates, state) => server.screen?.(global, updates, split(state).own) ?? { kept: updates, dropped: [] },
    adopt: (state) => (state && state.strategy === strategy.name ? state : null),
  };
}

/**
 * The stateful (global, updates) form, for callers without rounds of their own (async aggregation, tests).
 * The state advances only when aggregate() succeeds.
 */
export class StrategyAggregator implements Aggregator {
  private readonly runtime: StrategyRuntime;
  private current: ServerState | null;
  private steps = 0;

  constructor(config: StrategyConfig, state: ServerState | null = null) {
    this.runtime = strategyRuntime(config);
    this.current = this.runtime.adopt(state);
  }

  get state(): ServerState | null {
    return this.current;
  }

  aggregate(global: WeightSet, updates: ClientUpdate[], ctx: Partial<AggregateContext> = {}): WeightSet {
    const result = this.runtime.aggregate(global, updates, this.current, {
      round: ctx.round ?? this.steps + 1,
      population: ctx.population ?? updates.length,
    });
    this.current = result.state;
    this.steps++;
    return result.weights;
  }

  /** The strategy's own check of the updates (StrategyRuntime.screen) against this aggregator's current state. */
  screen(global: WeightSet, updates: ClientUpdate[]): { kept: ClientUpdate[]; dropped: { clientId: string; reason: string }[] } {
    return this.runtime.screen(global, updates, this.current);
  }

  /** Takes the state of a step aggregated elsewhere (aggregateRound, e.g. in a worker) as this one's next state. */
  commit(state: ServerState | null): void {
    this.current = state;
    this.steps++;
  }
}

export function createAggregator(config: StrategyConfig, state: ServerState | null = null): StrategyAggregator {
  return new StrategyAggregator(config, state);
}

/** The client half of the configured strategy for one round. */
export function openClientRound(config: StrategyConfig, ctx: Omit<ClientRoundContext, 'params'>): ClientRound {
  const { strategy, params } = resolveStrategy(config);
  const state = ctx.state && ctx.state.strategy === strategy.name ? ctx.state : null;
  return strategy.client({ ...ctx, params, state });
}
