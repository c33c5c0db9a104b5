/**
 * Staleness weighting for asynchronous aggregation (FedAsync, Xie et al. 2019; FedBuff, Nguyen et al. 2022).
 * tau = aggregation steps taken since the global model version an update started from.
 */
export type StalenessConfig =
  | { kind: 'constant' }
  /** s(tau) = (1 + tau)^-a */
  | { kind: 'poly'; a: number }
  /** s(tau) = 1 for tau <= b, else 1 / (a * (tau - b) + 1) */
  | { kind: 'hinge'; a: number; b: number };

export const STALENESS_KINDS = ['constant', 'poly', 'hinge'] as const;

/** The weight of an update that is tau steps stale, in (0, 1]. */
export function stalenessWeight(config: StalenessConfig, tau: number): number {
  if (!(Number.isInteger(tau) && tau >= 0)) throw new RangeError(`staleness must be a non-negative integer, got ${tau}`);
  switch (config.kind) {
    case 'constant':
      return 1;
    case 'poly':
      return Math.pow(1 + tau, -config.a);
    case 'hinge':
      return tau <= config.b ? 1 : 1 / (config.a * (tau - config.b) + 1);
  }
}

/** Checks the parameters; returns a reason, or null when the config is usable. */
export function stalenessProblem(config: StalenessConfig): string | null {
  switch (config.kind) {
    case 'constant':
      return null;
    case 'poly':
      return Number.isFinite(config.a) && config.a >= 0 ? null : `poly staleness needs a >= 0, got ${config.a}`;
    case 'hinge':
      if (!(Number.isFinite(config.a) && config.a >= 0)) return `hinge staleness needs a >= 0, got ${config.a}`;
      if (!(Number.isInteger(config.b) && config.b >= 0)) return `hinge staleness needs an integer b >= 0, got ${config.b}`;
      return null;
  }
}

/** Parses `constant`, `poly:A` or `hinge:A:B`; throws a RangeError with the reason otherwise. */
export function parseStaleness(text: string): StalenessConfig {
  const [kind, ...params] = text.trim().split(':');
  const nums = params.map((p) => (p.trim() === '' ? NaN : Number(p)));
  let config: StalenessConfig;
  if (kind === 'constant' && nums.length === 0) config = { kind };
  else if (kind === 'poly' && nums.length === 1) config = { kind, a: nums[0] };
  else if (kind === 'hinge' && nums.length === 2) config = { kind, a: nums[0], b: nums[1] };
  else throw new RangeError(`staleness must be constant, poly:A or hinge:A:B, got "${text}"`);
  const problem = stalenessProblem(config);
  if (problem) throw new RangeError(problem);
  return config;
}

export function formatStaleness(config: StalenessConfig): string {
  switch (config.kind) {
    case 'constant':
      return 'constant';
    case 'poly':
      return `poly:${config.a}`;
    case 'hinge':
      return `hinge:${config.a}:${config.b}`;
  }
}
