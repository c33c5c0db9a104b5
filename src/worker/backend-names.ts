/** Names of the TensorFlow.js backends the training worker can use, and the plan of which to try. */
import { WORKER_CONFIG } from './config';

export type BackendName = (typeof WORKER_CONFIG.candidates)[number];
export type BackendPreference = 'auto' | BackendName;

export const BACKEND_NAMES: readonly BackendName[] = WORKER_CONFIG.candidates;

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

export function isBackendPreference(value: unknown): value is BackendPreference {
  return value === 'auto' || isBackendName(value);
}

export interface BackendPlan {
  /** 'probe': time every available candidate and keep the fastest; 'forced': the first available in `order`. */
  mode: 'probe' | 'forced';
  order: BackendName[];
  /** Set when the request could not be honoured as given (e.g. an unknown name). */
  notice?: string;
}

/**
 * What to try for a user's backend preference. A forced backend comes first, then the candidates after it,
 * then the ones before it, so an unavailable choice falls back to the next one in the list.
 */
export function planBackends(preference: string, candidates: readonly BackendName[] = BACKEND_NAMES): BackendPlan {
  if (preference === 'auto') return { mode: 'probe', order: [...candidates] };
  if (!isBackendName(preference) || !candidates.includes(preference)) {
    return {
      mode: 'probe',
      order: [...candidates],
      notice: `unknown backend '${preference}' (choose auto, ${candidates.join(', ')}); choosing automatically`,
    };
  }
  const at = candidates.indexOf(preference);
  return { mode: 'forced', order: [...candidates.slice(at), ...candidates.slice(0, at)] };
}
