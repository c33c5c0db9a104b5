import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './data/dataset';
import { datasetSize, labelHistogram } from './data/dataset';
import type { ModelSpec } from './models';
import { buildModel, getWeights, setWeights, weightNames } from './models';
import type { LocalMetrics, TrainConfig } from './protocol';
import { openClientRound } from './strategies/runtime';
import type { ClientState, Extras, StrategyConfig } from './strategies/types';
import type { TrainHooks } from './train';
import { evaluateModel, trainLocal } from './train';
import type { WeightSet } from './weights';
import { subtractWeights } from './weights';

export interface TrainRequest {
  round: number;
  model: ModelSpec;
  strategy: StrategyConfig;
  train: TrainConfig;
  /** The round's global weights w_g. */
  weights: WeightSet;
  /** What the server's strategy sent beside the weights. */
  extras?: Extras;
}

export interface TrainResponse {
  /** w_k - w_g */
  delta: WeightSet;
  /** What the client strategy sends beside the delta. */
  extras?: Extras;
  numSamples: number;
  metrics: LocalMetrics;
  cancelled: boolean;
}

export interface EvaluateResponse {
  /** Plain-CE loss of each weight set on this client's evaluation subset. */
  losses: number[];
  accuracies: number[];
  /** Per weight set: accuracy per class (null: no sample of that class) and predictions per class (collapse check). */
  perClassAccuracies: (number | null)[][];
  predictionCounts: number[][];
  numSamples: number;
}

export interface TrainerInfo {
  backend: string;
  numSamples: number;
  labelHistogram: number[];
}

/** Whatever trains on the local data: in-process (Node, inside the worker) or a proxy to a Web Worker. */
export interface LocalTrainer {
  train(req: TrainRequest, hooks?: TrainHooks): Promise<TrainResponse>;
  evaluate(model: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse>;
  info(): Promise<TrainerInfo>;
}

/**
 * Trains with TensorFlow.js in the current thread on a local train split, and evaluates on a fixed local
 * evaluation split E_k (never augmented), as the loss decomposition requires.
 */
export class TfLocalTrainer implements LocalTrainer {
  private model: tf.LayersModel | null = null;
  private modelKey = '';
  /** Client strategy state kept between rounds (SCAFFOLD's c_k), per strategy name. */
  private readonly strategyStates = new Map<string, ClientState>();

  constructor(
    private readonly trainData: Dataset,
    private readonly evalData: Dataset,
    private readonly backendName: () => string,
    private readonly modelSeed = 1,
  ) {}

  private modelFor(spec: ModelSpec): tf.LayersModel {
    const key = JSON.stringify(spec);
    if (!this.model || key !== this.modelKey) {
      this.model?.dispose();
      this.model = buildModel(spec, this.modelSeed);
      this.modelKey = key;
    }
    return this.model;
  }

  async train(req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResponse> {
    const model = this.modelFor(req.model);
    setWeights(model, req.weights);
    const names = weightNames(model);
    const round = openClientRound(req.strategy, {
      tf,
      global: req.weights,
      extras: req.extras ?? {},
      state: this.strategyStates.get(req.strategy.name) ?? null,
      trainableIndex: model.trainableWeights.map((w) => names.indexOf(w.originalName)),
    });
    let result;
    let delta: WeightSet;
    let extras: Extras | undefined;
    let evaluation;
    try {
      result = await trainLocal(model, this.trainData, round, req.train, hooks);
      // Asynchronous reads: synchronous ones return zeros on some WebGPU adapters.
      const local = await getWeights(model);
      evaluation = await evaluateModel(model, this.evalData);
      delta = subtractWeights(local, req.weights);
      if (!result.cancelled && round.finish) {
        const finished = round.finish({ delta, steps: result.steps, learningRate: req.train.learningRate });
        extras = finished.extras;
        if (finished.state) this.strategyStates.set(req.strategy.name, finished.state);
        else if (finished.state === null) this.strategyStates.delete(req.strategy.name);
      }
    } finally {
      round.dispose?.();
    }
    return {
      delta,
      ...(extras ? { extras } : {}),
      numSamples: result.numSamples,
      cancelled: result.cancelled,
      metrics: {
        trainLoss: result.trainLoss,
        evalLoss: evaluation.loss,
        evalAccuracy: evaluation.accuracy,
        trainMs: result.trainMs,
        samplesPerSecond: result.samplesPerSecond,
      },
    };
  }

  async evaluate(spec: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse> {
    const model = this.modelFor(spec);
    const results = [];
    for (const w of weightSets) {
      setWeights(model, w);
      results.push(await evaluateModel(model, this.evalData));
    }
    return {
      losses: results.map((r) => r.loss),
      accuracies: results.map((r) => r.accuracy),
      perClassAccuracies: results.map((r) => r.perClassAccuracy),
      predictionCounts: results.map((r) => r.predictionCounts),
      numSamples: datasetSize(this.evalData),
    };
  }

  async info(): Promise<TrainerInfo> {
    return {
      backend: this.backendName(),
      numSamples: datasetSize(this.trainData),
      labelHistogram: labelHistogram(this.trainData.labels, this.trainData.numClasses),
    };
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
