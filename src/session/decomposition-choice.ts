/**
 * Whether the host form's decomposition mode measures anything for the task it defines, and what to choose when it
 * cannot. The proxy estimator scores on the aggregating tab's validation data, which exists only where the demo's
 * test split fits the task; asynchronous aggregation always uses the proxy estimator (src/fl/async/async-engine.ts).
 */
import type { DecompositionMode } from '../fl/protocol';
import type { ValidationData } from '../fl/settings';
import type { AggregationMode } from '../fl/async/mode';
import { demoFits, modelSpecForSettings } from './session-controller';
import { SESSION_TIMING } from './session-timing';
import type { SessionTask } from './types';

/** The task fields of the host form, as typed. */
export interface TaskFields {
  task: SessionTask['kind'];
  imageHeight: string;
  imageWidth: string;
  imageChannels: '1' | '3';
  classes: string;
  features: string;
}

/** Whether the aggregating tab holds validation data for this task: the controller's rule (demoFits) on it. */
export function validationDataOf(task: SessionTask | undefined): ValidationData {
  return demoFits(modelSpecForSettings({ task, model: 'mlp' })) ? 'aggregator' : 'none';
}

/** validationDataOf the task the form's fields define. */
export function validationDataFor(f: TaskFields): ValidationData {
  if (f.task === 'tabular') return 'none';
  return validationDataOf(f.task === 'mnist' ? { kind: 'mnist' } : { kind: 'images', height: Number(f.imageHeight), width: Number(f.imageWidth), channels: f.imageChannels === '3' ? 3 : 1, classes: Number(f.classes) });
}

/**
 * What the form says next to the decomposition field when the choice would measure nothing, and the choice that
 * would; or (no fix) where the choice stops measuring.
 */
export interface DecompositionAdvice {
  problem: string;
  fix?: { decomposition: DecompositionMode; mode?: AggregationMode['mode'] };
  fixLabel?: string;
}

const NO_VALIDATION = 'the aggregating tab holds no validation data for this task (only the MNIST demo task has a test split)';

/** Null when the choice measures the decomposition however many join (or the host turned it off). */
export function decompositionAdvice(decomposition: DecompositionMode, mode: AggregationMode['mode'], validation: ValidationData): DecompositionAdvice | null {
  if (decomposition === 'off' || validation === 'aggregator') return null;
  if (mode === 'async') {
    return {
      problem: `Not measured in any step: asynchronous aggregation estimates the decomposition with the proxy estimator only, and ${NO_VALIDATION}.`,
      fix: { mode: 'sync', decomposition: 'exact' },
      fixLabel: 'Use synchronous rounds with exact',
    };
  }
  if (decomposition === 'proxy') {
    return {
      problem: `Not measured in any round: the proxy estimator needs validation data, and ${NO_VALIDATION}. Exact mode measures it on the clients' own data, but sends every client's local model to every participant.`,
      fix: { decomposition: 'exact' },
      fixLabel: 'Use exact',
    };
  }
  const cap = SESSION_TIMING.exactDecompositionMaxParticipants;
  return { problem: `Measured while at most ${cap} clients take part: with more, local models stop travelling to every peer and the aggregator falls back to proxy, which measures nothing for this task.` };
}
