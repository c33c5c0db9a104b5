/** Names of the exported model's files (model.json refers to weights.bin by this name). No tfjs here: the page imports it. */
export const MODEL_EXPORT_FILES = { modelJson: 'model.json', weights: 'weights.bin' } as const;

export interface ModelFiles {
  /** model.json: topology and weights manifest pointing at weights.bin. */
  modelJson: string;
  weightsBin: ArrayBuffer;
}
