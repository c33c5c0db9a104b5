/**
 * Does this device's data fit the session's task? Checked at import, before anything is stored, so the data panel
 * can say exactly what does not fit. The same rules as the worker's assertDataFitsModel, in words for people.
 */
import type { ModelSpec } from '../fl/model-spec';
import { modelInputShape } from '../fl/model-spec';
import type { Dataset } from '../fl/data/dataset';
import type { ImageShape } from './resize';

export type DataShape = { kind: 'image'; shape: [number, number, number] } | { kind: 'tabular'; features: number };

function channelsText(c: number): string {
  return c === 1 ? '1 channel (grayscale)' : c === 3 ? '3 channels (colour)' : `${c} channels`;
}

/** "28×28 images with 1 channel (grayscale), 10 classes" / "table rows of 4 features, 3 classes". */
export function describeTask(spec: ModelSpec): string {
  const classes = `${spec.numClasses} classes`;
  if (spec.kind === 'tabular') return `table rows of ${spec.features} features, ${classes}`;
  const shape = modelInputShape(spec);
  if (shape.length === 3) return `${shape[0]}×${shape[1]} images with ${channelsText(shape[2])}, ${classes}`;
  return `inputs of shape [${shape.join(', ')}], ${classes}`;
}

/** The image size imported images are scaled to for this task (null: the task is not about images). */
export function imageTargetShape(spec: ModelSpec): ImageShape | null {
  if (spec.kind === 'tabular') return null;
  const shape = modelInputShape(spec);
  return shape.length === 3 ? [shape[0], shape[1], shape[2]] : null;
}

export function dataShapeOf(ds: Dataset): DataShape {
  return ds.kind === 'image' ? { kind: 'image', shape: ds.shape } : { kind: 'tabular', features: ds.features };
}

/** Everything that keeps this data from training the session's model (empty: it fits). */
export function dataFitProblems(spec: ModelSpec, data: DataShape, numClasses: number): string[] {
  const problems: string[] = [];
  const task = describeTask(spec);
  if (data.kind === 'tabular') {
    if (spec.kind !== 'tabular') {
      problems.push(`this session's task is ${task}, but your file holds table rows of ${data.features} features: import a folder of images (one sub-folder per class) or an .npz file instead`);
    } else if (spec.features !== data.features) {
      problems.push(`this session's model takes ${spec.features} features per row, but your rows have ${data.features}`);
    }
  } else {
    const want = imageTargetShape(spec);
    if (!want) problems.push(`this session's task is ${task}, but you imported ${data.shape[0]}×${data.shape[1]} images: import a CSV file with ${spec.kind === 'tabular' ? spec.features : '?'} feature columns and a label column`);
    else if (want.some((d, i) => d !== data.shape[i])) {
      problems.push(`this session's model takes ${want[0]}×${want[1]} images with ${channelsText(want[2])}, but yours are ${data.shape[0]}×${data.shape[1]} with ${channelsText(data.shape[2])}`);
    }
  }
  if (numClasses > spec.numClasses) {
    problems.push(`your data has ${numClasses} classes, but this session's model tells apart only ${spec.numClasses}`);
  }
  return problems;
}

/** The built-in demo: MNIST digits. */
export const DEMO_TASK = { shape: [28, 28, 1] as [number, number, number], classes: 10 } as const;

/** Whether the demo data (and its test split) fits this model: the MNIST task exactly. */
export function demoDataFits(spec: ModelSpec): boolean {
  return spec.numClasses === DEMO_TASK.classes && dataFitProblems(spec, { kind: 'image', shape: DEMO_TASK.shape }, DEMO_TASK.classes).length === 0;
}
