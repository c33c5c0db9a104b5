/**
 * Building blocks for a simulated client: where its work runs (a ParticipantRunner: this thread, or a pool of
 * worker threads) and the LocalTrainer the FL client talks to. Nothing of a client but its index lists lives
 * between rounds: its samples are copied out of the shared dataset for each job, on a model lent for that job.
 */
import type { Dataset } from '../fl/data/dataset';
import { subsetDataset } from '../fl/data/dataset';
import type { EvaluateResponse, LocalTrainer, TrainerInfo, TrainRequest, TrainResponse } from '../fl/local-trainer';
import { evaluateOnModel, trainOnModel } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import type { ClientState } from '../fl/strategies/types';
import type { TrainHooks } from '../fl/train';
import type { WeightSet } from '../fl/weights';
import type { ClientShard } from './client-shards';
import { materializeShard } from './client-shards';
import { ModelSlot } from './model-slot';

/** Executes clients' jobs; results depend only on the shard and the request, never on where they ran. */
export interface ParticipantRunner {
  readonly kind: string;
  train(shard: ClientShard, req: TrainRequest, hooks?: TrainHooks): Promise<TrainResponse>;
  /**
   * Plain-CE losses of the weight sets on the client's E_k. Runners may cache `weightSets` by identity for the
   * round (every participant of an exact decomposition gets the same K + 1 models), so never mutate it.
   */
  evaluate(shard: ClientShard, spec: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse>;
  dispose(): Promise<void>;
}

/** Runs every job in this thread, one at a time, on one shared model. */
export class InProcessRunner implements ParticipantRunner {
  readonly kind = 'in-process';
  private readonly slot: ModelSlot;

  constructor(
    private readonly data: Dataset,
    modelSeed = 1,
  ) {
    this.slot = new ModelSlot(modelSeed);
  }

  train(shard: ClientShard, req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResponse> {
    return this.slot.run(req.model, (model) => {
      const local = materializeShard(this.data, shard);
      return trainOnModel(model, local.train, local.eval, req, hooks);
    });
  }

  evaluate(shard: ClientShard, spec: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse> {
    return this.slot.run(spec, (model) => evaluateOnModel(model, subsetDataset(this.data, shard.eval), weightSets));
  }

  dispose(): Promise<void> {
    return this.slot.dispose();
  }
}

export interface ParticipantContext {
  shards: readonly ClientShard[];
  runner: ParticipantRunner;
  /** Backend name the client reports in its hello. */
  backendName: string;
  /**
   * Client strategy state (SCAFFOLD's c_k) per client index and strategy name. Jobs are stateless, so the state
   * lives here, in the simulator's main thread, and goes in and out with each training job.
   */
  clientStates: Map<number, Map<string, ClientState>>;
}

/** The LocalTrainer of client `clientIndex`: stateless between jobs, so it serves any round (and any simulation mode). */
export function buildParticipantTrainer(ctx: ParticipantContext, clientIndex: number): LocalTrainer {
  const shard = ctx.shards[clientIndex];
  if (!shard) throw new RangeError(`no client ${clientIndex} (the simulation has ${ctx.shards.length})`);
  return {
    train: async (req, hooks) => {
      const states = ctx.clientStates.get(clientIndex);
      const response = await ctx.runner.train(shard, { ...req, clientState: states?.get(req.strategy.name) ?? null }, hooks);
      if (response.clientState) {
        if (states) states.set(req.strategy.name, response.clientState);
        else ctx.clientStates.set(clientIndex, new Map([[req.strategy.name, response.clientState]]));
      } else if (response.clientState === null) states?.delete(req.strategy.name);
      return response;
    },
    evaluate: (spec, weightSets) => ctx.runner.evaluate(shard, spec, weightSets),
    info: async (): Promise<TrainerInfo> => ({ backend: ctx.backendName, numSamples: shard.train.length, labelHistogram: shard.labelHistogram }),
  };
}
