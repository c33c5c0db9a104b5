import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from './data/dataset';
import { datasetSize, labelHistogram } from './data/dataset';
import type { ModelSpec } from './models';
import { buildModel, getWeights, setWeights } from './models';
import type { LocalMetrics, TrainConfig } from './protocol';
import type { StrategyConfig } from './strategies/types';
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
}

export interface TrainResponse {
  /** w_k - w_g */
  delta: WeightSet;
  numSamples: number;
  metrics: LocalMetrics;
  cancelled: boolean;
}

export interface EvaluateResponse {
  /** Plain-CE loss of each weight set on this client's evaluation subset. */
  losses: number[];
  accuracies: number[];
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
    return trainOnModel(this.modelFor(req.model), this.trainData, this.evalData, req, hooks);
  }

  async evaluate(spec: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse> {
    return evaluateOnModel(this.modelFor(spec), this.evalData, weightSets);
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

/**
 * One local round on `model` (any instance of req.model: its weights are overwritten with the round's global
 * weights first, and the optimizer is fresh, so the result depends only on the request and the data).
 */
export async function trainOnModel(model: tf.LayersModel, trainData: Dataset, evalData: Dataset, req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResponse> {
  setWeights(model, req.weights);
  const result = await trainLocal(model, trainData, req.strategy, req.train, hooks);
  // Asynchronous reads: synchronous ones return zeros on some WebGPU adapters.
  const local = await getWeights(model);
  const evaluation = await evaluateModel(model, evalData);
  return {
    delta: subtractWeights(local, req.weights),
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

/** Plain-CE loss and accuracy of each weight set on `evalData`, computed on `model` (its weights are overwritten). */
export async function evaluateOnModel(model: tf.LayersModel, evalData: Dataset, weightSets: WeightSet[]): Promise<EvaluateResponse> {
  const losses: number[] = [];
  const accuracies: number[] = [];
  for (const w of weightSets) {
    setWeights(model, w);
    const r = await evaluateModel(model, evalData);
    losses.push(r.loss);
    accuracies.push(r.accuracy);
  }
  return { losses, accuracies, numSamples: datasetSize(evalData) };
}
