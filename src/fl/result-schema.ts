/**
 * The schema of a run's metrics file, defined once (valibot) and used by both producers: the simulator's
 * `--out FILE.json` (SimResult) and the browser's "metrics as JSON" download. A browser run knows less than a
 * simulation (no accuracy without test data, rounds without a measured decomposition), so those fields are
 * nullable; the simulator's result is a special case and validates as it is.
 */
import * as v from 'valibot';
import { ROBUST_MODES } from './robust/types';

const finite = v.pipe(v.number(), v.finite());
const nonNegative = v.pipe(v.number(), v.finite(), v.minValue(0));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

export const DecompositionSchema = v.object({ local: finite, shift: finite, aggregation: finite, global: finite });

export const ModelSpecSchema = v.variant('kind', [
  v.object({ kind: v.literal('mlp'), inputShape: v.array(positiveInt), hidden: v.array(positiveInt), numClasses: positiveInt }),
  v.object({
    kind: v.literal('cnn'),
    inputShape: v.tuple([positiveInt, positiveInt, positiveInt]),
    filters: v.tuple([positiveInt, positiveInt]),
    dense: positiveInt,
    numClasses: positiveInt,
  }),
  v.object({ kind: v.literal('tabular'), features: positiveInt, hidden: v.array(positiveInt), numClasses: positiveInt }),
]);

/**
 * A strategy with its hyper-parameters (src/fl/strategies/types.ts StrategyConfig): strategies are plug-ins
 * (src/fl/strategies/registry.ts), so the file keeps any name and any number or string parameters.
 */
export const StrategySchema = v.objectWithRest({ name: v.pipe(v.string(), v.minLength(1)) }, v.union([finite, v.string()]));

export const PartitionSpecSchema = v.variant('kind', [
  v.object({ kind: v.literal('iid') }),
  v.object({ kind: v.literal('dirichlet'), alpha: nonNegative, minPerClient: v.optional(count) }),
  v.object({ kind: v.literal('shards'), shardsPerClient: v.optional(positiveInt) }),
  v.object({ kind: v.literal('sizeskew'), alpha: nonNegative, sigma: v.optional(nonNegative), minPerClient: v.optional(count) }),
]);

const epsilon = v.nullable(nonNegative);
const delta = v.pipe(v.number(), v.gtValue(0), v.maxValue(1));

/**
 * Private rounds: what the round spent ((eps, delta) so far, towards model observers and the aggregator) and cost.
 * A browser run records what its aggregating tab reported: no eps towards the aggregator, no client-side facts
 * (clipping), no secure-aggregation cost; it says whether the round's sum was secure instead.
 */
export const RoundPrivacySchema = v.object({
  epsilon,
  epsilonAggregator: v.optional(epsilon),
  delta,
  samplingRate: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
  noiseMultiplier: nonNegative,
  survivors: count,
  secure: v.optional(v.boolean()),
  clientsClipped: v.optional(count),
  clamped: v.optional(count),
  secagg: v.optional(v.nullable(v.object({ maxClientBytes: nonNegative, meanClientMs: nonNegative, serverMs: nonNegative, degree: count, threshold: count }))),
});

export const PrivacySettingsSchema = v.object({ secureAggregation: v.boolean(), clipNorm: v.pipe(v.number(), v.gtValue(0)), noiseMultiplier: nonNegative, delta, budget: v.nullable(v.pipe(v.number(), v.gtValue(0))) });

export const RunRoundSchema = v.object({
  round: positiveInt,
  /** Test accuracy of the global model in [0, 1]; null when the aggregator held no test data. */
  accuracy: v.nullable(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  loss: v.nullable(nonNegative),
  /** Null when the decomposition was not measured in this round. */
  decomposition: v.nullable(DecompositionSchema),
  participants: count,
  /** What the robust aggregation did to each update it left out, clipped or capped, with the reason. */
  screening: v.optional(v.array(v.object({ clientId: v.string(), action: v.picklist(['left-out', 'clipped', 'capped']), reason: v.string() }))),
  /** Bytes on the wire this round, all peers together. */
  bytes: nonNegative,
  trainMs: nonNegative,
  aggregateMs: nonNegative,
  evalMs: nonNegative,
  /** Browser runs: how the decomposition was measured ('exact' | 'proxy' | 'off'); absent in simulations. */
  decompositionMode: v.optional(v.nullable(v.picklist(['exact', 'proxy', 'off']))),
  /** Which strategy variant ran (simulations). */
  strategy: v.optional(v.string()),
  /** The global model's accuracy per class (null: no test sample of that class), when measured. */
  perClassAccuracy: v.optional(v.array(v.nullable(v.pipe(v.number(), v.minValue(0), v.maxValue(1))))),
  /** Share of test samples assigned to the most predicted class, when measured. */
  predictedShare: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  /** Collapse warning, or null. */
  collapse: v.optional(v.nullable(v.string())),
  privacy: v.optional(RoundPrivacySchema),
});

export const RunConfigSchema = v.object({
  /** 'mnist', a file path, or for a browser run "browser session CODE". */
  data: v.string(),
  model: v.picklist(['mlp', 'cnn', 'tabular']),
  clients: count,
  partition: PartitionSpecSchema,
  strategy: StrategySchema,
  rounds: positiveInt,
  localEpochs: positiveInt,
  batchSize: positiveInt,
  learningRate: v.pipe(v.number(), v.finite(), v.gtValue(0)),
  optimizer: v.optional(v.picklist(['sgd', 'momentum', 'adam'])),
  momentum: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  fraction: v.pipe(v.number(), v.gtValue(0), v.maxValue(1)),
  seed: v.pipe(v.number(), v.integer()),
  codec: v.optional(v.nullable(v.picklist(['float32', 'float16', 'int8']))),
  // Simulator-only settings (a browser run has no such knobs).
  limit: v.optional(count),
  testLimit: v.optional(count),
  backend: v.optional(v.string()),
  evalFraction: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  evalMax: v.optional(count),
  validation: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  evaluateOn: v.optional(v.picklist(['test', 'validation'])),
  workers: v.optional(positiveInt),
  /** The aggregator's defence (a mode name, or detailed robust settings). */
  robust: v.optional(v.union([v.picklist(ROBUST_MODES), v.record(v.string(), v.unknown())])),
  /** Simulated attackers, when any. */
  attack: v.optional(
    v.nullable(
      v.object({
        attackers: count,
        attacks: v.array(v.object({ kind: v.picklist(['scale', 'signflip', 'nan', 'max-float', 'inflate-samples', 'label-flip', 'scaffold-c', 'pose-minority', 'fast']), factor: v.optional(v.number()), samples: v.optional(v.number()), label: v.optional(v.number()) })),
      }),
    ),
  ),
  /** Secure aggregation and client-level DP, when on. */
  privacy: v.optional(v.nullable(PrivacySettingsSchema)),
});

export const PartitionSummarySchema = v.object({
  numClients: count,
  totalSamples: count,
  minClientSize: count,
  maxClientSize: count,
  meanLabelTv: nonNegative,
  maxLabelTv: nonNegative,
  meanClassesPerClient: nonNegative,
});

export const RunResultSchema = v.object({
  /** Who produced the file; absent in simulator files written before this field existed. */
  source: v.optional(v.picklist(['simulator', 'browser'])),
  config: RunConfigSchema,
  backend: v.object({ name: v.string(), reason: v.string() }),
  model: ModelSpecSchema,
  partition: v.object({
    histograms: v.array(v.array(count)),
    summary: v.nullable(PartitionSummarySchema),
    /** Browser runs: the peer each histogram belongs to (same order). */
    peers: v.optional(v.array(v.object({ id: v.string(), name: v.string() }))),
  }),
  rounds: v.array(RunRoundSchema),
  final: v.object({ accuracy: v.nullable(finite), bestAccuracy: v.nullable(finite) }),
  /**
   * Private runs: (eps, delta) spent towards model observers and towards the aggregator, and why the run stopped
   * early (simulations; a browser run records the settings and the eps of its last private round).
   */
  privacy: v.optional(v.object({ settings: PrivacySettingsSchema, epsilon, epsilonAggregator: v.optional(epsilon), delta, stopped: v.optional(v.nullable(v.string())) })),
  /** Simulations: measured, not reproducible (memory, where clients ran, time). */
  resources: v.optional(v.object({ peakRssMb: nonNegative, runner: v.string(), wallMs: nonNegative, cpuMs: nonNegative })),
});

export type RunResult = v.InferOutput<typeof RunResultSchema>;
export type RunRound = v.InferOutput<typeof RunRoundSchema>;

/** Validates a parsed metrics file; throws with every problem and its path. */
export function parseRunResult(value: unknown): RunResult {
  const result = v.safeParse(RunResultSchema, value);
  if (result.success) return result.output;
  const problems = result.issues.map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`);
  throw new Error(`not a fedtab run result: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? ` (+${problems.length - 8} more)` : ''}`);
}
