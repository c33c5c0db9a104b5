/** A stand-in for the training worker, shared by the controller's unit tests: records what the controller asks of it. */
import type { LocalFile } from '../../data/pickers';
import type { TrainHooks } from '../../fl/train';
import type { WeightSet } from '../../fl/weights';
import { LocalPrivateParty } from '../../fl/private-party';
import type { LocalDataInfo, PredictInput, WorkerImportResult } from '../../worker/api';

const tinyWeights = (): WeightSet => [{ name: 'w', shape: [3], values: new Float32Array(3) }];

/** Stands in for the training worker: records what the controller asks of it. */
export class FakeWorker {
  readonly calls: string[] = [];
  /** Private sessions' work, in-process (the real worker runs the same class). */
  readonly party = new LocalPrivateParty();
  private data: LocalDataInfo | null = null;
  /** What importFiles answers (the real worker decodes, checks against the task, stores and loads). */
  importResult: WorkerImportResult = { info: null, problems: ['nothing usable'], refused: [] };
  /** The weights exportModel / predict were asked about. */
  readonly seenWeights: WeightSet[] = [];

  private info_(name: string, histogram: number[]): LocalDataInfo {
    return { source: 'demo', name, trainSamples: 40, evalSamples: 10, numClasses: 2, labelHistogram: histogram, inputShape: [28, 28, 1] };
  }

  /** How long choosing the backend and loading data take (fake time): a real worker probes and decodes meanwhile. */
  loadMs = 0;

  private async loading(): Promise<void> {
    if (this.loadMs > 0) await new Promise((r) => setTimeout(r, this.loadMs));
  }

  async selectBackend(preference: string) {
    this.calls.push(`backend ${preference}`);
    await this.loading();
    return { backend: 'cpu' as const, preference, reason: 'fake probe', notices: [], probes: [{ backend: 'cpu' as const, ok: true, samplesPerSecond: 100 }], adapter: null, selectionMs: 1 };
  }
  async loadDemoShard(shard: { slot: number }) {
    this.calls.push(`demo shard ${shard.slot}`);
    await this.loading();
    return (this.data = this.info_(`demo shard ${shard.slot}`, [30, 10]));
  }
  async loadStoredData() {
    this.calls.push('stored data');
    return (this.data = this.info_('my files', [5, 35]));
  }
  async loadDatasets(name: string) {
    this.calls.push(`datasets ${name}`);
    return (this.data = this.info_(name, [1, 1]));
  }
  async initialWeights() {
    return tinyWeights();
  }
  /** How long a round of training takes (fake time); progress is reported after each quarter of it. */
  trainMs = 20;

  async train(req: { round: number; weights: WeightSet }, hooks?: TrainHooks) {
    this.calls.push(`train ${req.round}`);
    for (let batch = 1; batch <= 4; batch++) {
      await new Promise((r) => setTimeout(r, this.trainMs / 4));
      hooks?.onProgress?.({ epoch: 0, batch, batchesPerEpoch: 4, loss: 1, samplesPerSecond: 2000 });
    }
    const delta = req.weights.map((t) => ({ ...t, values: new Float32Array(t.values.length).fill(0.5) }));
    return { delta, numSamples: 40, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 20, samplesPerSecond: 2000 }, cancelled: false, backend: 'cpu' as const, backendSwitches: [] };
  }
  async evaluate(_spec: unknown, ws: WeightSet[]) {
    return { losses: ws.map(() => 0.7), accuracies: ws.map(() => 0.8), numSamples: 10, backend: 'cpu' as const, backendSwitches: [] };
  }
  async info() {
    return { backend: 'cpu', numSamples: this.data?.trainSamples ?? 0, labelHistogram: this.data?.labelHistogram ?? [] };
  }
  async importFiles(files: LocalFile[], model: { kind: string } | null) {
    this.calls.push(`import ${files.map((f) => f.path).join(',')} for ${model?.kind ?? 'no session'}`);
    if (this.importResult.info) this.data = this.importResult.info;
    return this.importResult;
  }
  async exportModel(_spec: unknown, weights: WeightSet, info: { round: number; session: string }) {
    this.calls.push(`export round ${info.round} of ${info.session}`);
    this.seenWeights.push(weights);
    return { modelJson: JSON.stringify({ round: info.round }), weightsBin: new ArrayBuffer(12) };
  }
  async predict(_spec: unknown, weights: WeightSet, input: PredictInput) {
    this.calls.push(`predict ${input.kind}`);
    this.seenWeights.push(weights);
    return { probabilities: [0.25, 0.75], predicted: 1 };
  }
  async confusion() {
    this.calls.push('confusion');
    return { matrix: [[1, 0], [0, 1]], perClassAccuracy: [1, 1], accuracy: 1, numSamples: 2 };
  }
  async cancel() {
    this.calls.push('cancel');
  }
  terminate() {
    this.calls.push('terminate');
  }
  async memory() {
    return { numTensors: 0, numBytes: 0 };
  }
}
