import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './data/dataset';
import { datasetSize, labelHistogram } from './data/dataset';
import type { ModelSpec } from './models';
import { buildModel, getWeights, setWeights, weightNames } from './models';
import { LOCAL_OPTIMIZER_DEFAULTS } from './local-optimizer';
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
  /** The client strategy's local state from earlier rounds (e.g. SCAFFOLD's c_k); never sent on the wire. */
  clientState?: ClientState | null;
}

export interface TrainResponse {
  /** w_k - w_g */
  delta: WeightSet;
  /** What the client strategy sends beside the delta. */
  extras?: Extras;
  /** The client strategy's new local state: absent means unchanged, null means cleared. Stays on this client. */
  clientState?: ClientState | null;
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
    const response = await trainOnModel(this.modelFor(req.model), this.trainData, this.evalData, { ...req, clientState: this.strategyStates.get(req.strategy.name) ?? null }, hooks);
    if (response.clientState) this.strategyStates.set(req.strategy.name, response.clientState);
    else if (response.clientState === null) this.strategyStates.delete(req.strategy.name);
    return response;
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
 * weights first, and the optimizer is fresh, so the result depends only on the request, its client state and the
 * data). The strategy's client state goes in with the request and comes back with the response, so whoever owns
 * the client (a TfLocalTrainer, or the simulator for a client that trains on a borrowed model) keeps it.
 */
export async function trainOnModel(model: tf.LayersModel, trainData: Dataset, evalData: Dataset, req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResponse> {
  setWeights(model, req.weights);
  const names = weightNames(model);
  const round = openClientRound(req.strategy, {
    tf,
    global: req.weights,
    extras: req.extras ?? {},
    state: req.clientState ?? null,
    trainableIndex: model.trainableWeights.map((w) => names.indexOf(w.originalName)),
  });
  try {
    const result = await trainLocal(model, trainData, round, req.train, hooks);
    // Asynchronous reads: synchronous ones return zeros on some WebGPU adapters.
    const local = await getWeights(model);
    const evaluation = await evaluateModel(model, evalData);
    const delta = subtractWeights(local, req.weights);
    const finished = !result.cancelled && round.finish
      ? round.finish({ delta, steps: result.steps, learningRate: req.train.learningRate, optimizer: req.train.optimizer ?? LOCAL_OPTIMIZER_DEFAULTS.optimizer, momentum: req.train.momentum ?? LOCAL_OPTIMIZER_DEFAULTS.momentum })
      : null;
    return {
      delta,
      ...(finished?.extras ? { extras: finished.extras } : {}),
      ...(finished && finished.state !== undefined ? { clientState: finished.state } : {}),
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
  } finally {
    round.dispose?.();
  }
}

/** Plain-CE loss, accuracy and per-class figures of each weight set on `evalData`, computed on `model` (its weights are overwritten). */
export async function evaluateOnModel(model: tf.LayersModel, evalData: Dataset, weightSets: WeightSet[]): Promise<EvaluateResponse> {
  const results = [];
  for (const w of weightSets) {
    setWeights(model, w);
    results.push(await evaluateModel(model, evalData));
  }
  return {
    losses: results.map((r) => r.loss),
    accuracies: results.map((r) => r.accuracy),
    perClassAccuracies: results.map((r) => r.perClassAccuracy),
    predictionCounts: results.map((r) => r.predictionCounts),
    numSamples: datasetSize(evalData),
  };
}
