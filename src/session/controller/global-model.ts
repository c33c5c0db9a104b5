/**
 * The newest global model this tab has seen (from a round-start, a checkpoint, or its own node), and what a user can
 * do with it: try it on an input, see its confusion matrix (on the aggregating tab's test set), download it.
 */
import type { ModelSpec } from '../../fl/model-spec';
import type { WeightSet } from '../../fl/weights';
import type { PredictInput } from '../../worker/api';
import type { ConfusionResult, Prediction, SamplePrediction } from '../../worker/inspect';
import type { ControllerTrainer } from './tab-workers';

export class GlobalModel {
  private latest: { round: number; weights: WeightSet } | null = null;

  /** Keeps the model of `round` if it is newer than the one held; true when it was. */
  remember(round: number, weights: WeightSet): boolean {
    if (round < 0 || (this.latest && this.latest.round >= round)) return false;
    this.latest = { round, weights };
    return true;
  }

  clear(): void {
    this.latest = null;
  }

  private held(what: string): { round: number; weights: WeightSet } {
    if (!this.latest) throw new Error(what);
    return this.latest;
  }

  /** Class probabilities for a drawn input or one of this tab's held-out samples (in the training worker). */
  async predict(trainer: ControllerTrainer, spec: ModelSpec, input: PredictInput, hasData: boolean): Promise<(Prediction | SamplePrediction) & { round: number }> {
    const { round, weights } = this.held('this tab has not received a global model yet (it arrives with the first round)');
    if (input.kind === 'sample' && !hasData) throw new Error('this device holds no data: load some first');
    return { round, ...(await trainer.predict(spec, weights, input)) };
  }

  /** Per-class accuracy and the confusion matrix on the aggregating tab's test set (its validation worker). */
  async confusion(validation: Promise<ControllerTrainer> | null, spec: ModelSpec): Promise<ConfusionResult & { round: number }> {
    if (!validation) throw new Error('this tab holds no test set for this task');
    const { round, weights } = this.held('no global model yet');
    return { round, ...(await (await validation).confusion(spec, weights)) };
  }

  /** The model as TensorFlow.js files (model.json + weights.bin), written by the training worker. */
  async export(trainer: ControllerTrainer, spec: ModelSpec, session: string): Promise<{ round: number; modelJson: string; weightsBin: ArrayBuffer }> {
    const { round, weights } = this.held('this tab has not received a global model yet (it arrives with the first round)');
    return { round, ...(await trainer.exportModel(spec, weights, { round, session })) };
  }
}
