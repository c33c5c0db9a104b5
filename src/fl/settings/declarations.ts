/**
 * THE run settings, each declared once: the host form, the simulator's flags and `--help`, the wire schema's bounds
 * and the README's list are all read from here (test/settings-agreement.test.ts checks each of them).
 * Strategy hyper-parameters are declared with their strategy (src/fl/strategies), not here.
 */
import { parseStaleness } from '../async/staleness';
import type { ChoiceSetting, FlagSetting, NumberSetting, SettingDecl, TextSetting } from './types';

const FORM_AND_CLI = ['form', 'cli'] as const;

/**
 * Local learning rate per local optimizer. Adam's was chosen on a validation split, never the test set (MNIST CNN,
 * 3 clients x 2,000 IID samples, batch 64, 5 rounds of FedAvg, and the default MLP run); SGD's is the one
 * bench:strategies tuned. docs/benchmarks/local-optimizer.md has the sweep.
 */
export const LEARNING_RATE_BY_OPTIMIZER: Readonly<Record<string, number>> = { sgd: 0.05, momentum: 0.05, adam: 0.01 };

const rounds: NumberSetting = {
  name: 'rounds', kind: 'number', label: 'Rounds', help: 'rounds to run (the host can stop earlier)', cliValue: 'R',
  surfaces: FORM_AND_CLI, integer: true, min: 1, max: 1_000_000, default: 10, wire: { path: ['rounds'] },
};

const localEpochs: NumberSetting = {
  name: 'localEpochs', kind: 'number', label: 'Local epochs per round', help: 'passes over its data each client makes per round', cliValue: 'E',
  surfaces: FORM_AND_CLI, integer: true, min: 1, max: 100, default: 1, wire: { path: ['train', 'localEpochs'] },
};

const batchSize: NumberSetting = {
  name: 'batchSize', kind: 'number', label: 'Batch size', help: 'samples per local training step', cliValue: 'B', cliAliases: ['batch'],
  surfaces: FORM_AND_CLI, integer: true, min: 1, max: 4096, default: 32, wire: { path: ['train', 'batchSize'] },
};

const optimizer: ChoiceSetting = {
  name: 'optimizer', kind: 'choice', label: 'Local optimizer', help: 'how each client takes its local steps (the FedLD authors use SGD with momentum 0.5)',
  surfaces: FORM_AND_CLI, default: 'momentum', wire: { path: ['train', 'optimizer'] },
  options: [
    { value: 'sgd', label: 'SGD' },
    { value: 'momentum', label: 'SGD with momentum' },
    { value: 'adam', label: 'Adam' },
  ],
};

const learningRate: NumberSetting = {
  name: 'learningRate', kind: 'number', label: 'Learning rate', cliValue: 'LR', cliAliases: ['lr'],
  help:
    "local learning rate; its default depends on the local optimizer (Adam diverges at SGD's rate), each chosen on a validation split, never the test set (docs/benchmarks/local-optimizer.md)",
  surfaces: FORM_AND_CLI, min: 1e-6, max: 10, default: LEARNING_RATE_BY_OPTIMIZER[optimizer.default], defaultBy: { setting: 'optimizer', values: LEARNING_RATE_BY_OPTIMIZER },
  wire: { path: ['train', 'learningRate'] },
};

const momentum: NumberSetting = {
  name: 'momentum', kind: 'number', label: 'Momentum', help: 'momentum of the local SGD-with-momentum optimizer', cliValue: 'M',
  surfaces: FORM_AND_CLI, min: 0, max: 1, default: 0.5, appliesWhen: { setting: 'optimizer', oneOf: ['momentum'] }, wire: { path: ['train', 'momentum'] },
};

const minClients: NumberSetting = {
  name: 'minClients', kind: 'number', label: 'Minimum clients to start a round', help: 'a round starts, and aggregates, with at least this many clients',
  surfaces: ['form'], integer: true, min: 1, max: 256, default: 2, wire: { path: ['minClients'] },
};

const clients: NumberSetting = {
  name: 'clients', kind: 'number', label: 'Clients', help: 'simulated clients the training data is split among', cliValue: 'K',
  surfaces: ['cli'], integer: true, min: 1, max: 100_000, default: 10,
};

const fraction: NumberSetting = {
  name: 'fraction', kind: 'number', label: 'Share of clients asked per round', help: 'share of the clients asked to train each round (1 = everyone)', cliValue: 'F',
  surfaces: FORM_AND_CLI, min: 0, max: 1, minExclusive: true, default: 1, wire: { path: ['fraction'] },
};

const deadline: NumberSetting = {
  name: 'deadline', kind: 'number', label: 'Round deadline (seconds)', cliValue: 'S', cliUnsetByDefault: true,
  help: 'a round aggregates the updates that arrived within this many seconds and leaves the late ones out (simulator: simulated seconds, on the simulated clock; unset: it waits for every client)',
  surfaces: FORM_AND_CLI, min: 0, max: 3600, minExclusive: true, default: 60,
  wire: { path: ['roundDeadlineMs'], scale: 1000 },
};

/**
 * Not a setting but a fact of the task: whether the aggregating tab holds validation data for it ('aggregator': the
 * demo's test split fits the task) or not ('none': every other task). The proxy estimator measures on that data, so
 * without it proxy measures nothing; the host form says so before Start and offers exact. Exact is never the default:
 * it sends every local model to every participant, which a host opts into.
 */
export const VALIDATION_DATA = 'validationData';
export type ValidationData = 'aggregator' | 'none';

const decomposition: ChoiceSetting = {
  name: 'decomposition', kind: 'choice', label: 'Decomposition mode',
  help: 'how the loss decomposition is measured: exact (opt-in: local models travel to every peer), proxy (the aggregator estimates it on its validation data, which it holds only for the MNIST demo task) or off',
  surfaces: ['form'], default: 'proxy',
  wire: { path: ['decomposition'] },
  options: [
    { value: 'exact', label: 'exact' },
    { value: 'proxy', label: 'proxy' },
    { value: 'off', label: 'off' },
  ],
};

const decompositionEvery: NumberSetting = {
  name: 'decompositionEvery', kind: 'number', label: 'Measure every N rounds', help: 'measure the decomposition every N rounds (exact mode costs K² + K evaluations)',
  surfaces: ['form'], integer: true, min: 1, max: 1000, default: 1, appliesWhen: { setting: 'decomposition', oneOf: ['exact', 'proxy'] }, wire: { path: ['decompositionEvery'] },
};

const codec: ChoiceSetting = {
  name: 'codec', kind: 'choice', label: 'Weight encoding on the wire', cliUnsetByDefault: true,
  help: 'how weights are encoded on the wire (simulator: unset passes objects in memory; set, every message goes through the real wire format and the bytes are reported)',
  surfaces: FORM_AND_CLI, default: 'float16', wire: { path: ['codec'] },
  options: [
    { value: 'float32', label: 'float32: exact, largest' },
    { value: 'float16', label: 'float16: half the bytes' },
    { value: 'int8', label: 'int8: a quarter, lossy' },
  ],
};

const robust: ChoiceSetting = {
  name: 'robust', kind: 'choice', label: 'Defence against poisoned updates', help: "the aggregator's defence against hostile updates (src/fl/robust)",
  surfaces: FORM_AND_CLI, default: 'clip', wire: { path: ['robust'] },
  options: [
    { value: 'clip', label: 'clip (default)' },
    { value: 'trimmed-mean', label: 'trimmed mean' },
    { value: 'median', label: 'median' },
    { value: 'off', label: 'off' },
  ],
};

const partition: ChoiceSetting = {
  name: 'partition', kind: 'choice', label: 'How the demo data is split', help: 'how the training data is split among the clients (sizeskew: unequal client sizes too)',
  surfaces: FORM_AND_CLI, default: 'dirichlet', wire: { path: ['demo', 'partition', 'kind'] },
  options: [
    { value: 'iid', label: 'IID' },
    { value: 'dirichlet', label: 'Dirichlet (label skew)' },
    { value: 'shards', label: 'Shards' },
    { value: 'sizeskew', label: 'Size and label skew', surfaces: ['cli'] },
  ],
};

const alpha: NumberSetting = {
  name: 'alpha', kind: 'number', label: 'α: concentration', help: 'Dirichlet concentration: 0.1 = very skewed, 100 = almost IID', cliValue: 'A',
  surfaces: FORM_AND_CLI, min: 0, max: 10_000, minExclusive: true, default: 0.5, appliesWhen: { setting: 'partition', oneOf: ['dirichlet', 'sizeskew'] },
  wire: { path: ['demo', 'partition', 'alpha'] },
};

const shardsPerClient: NumberSetting = {
  name: 'shardsPerClient', kind: 'number', label: 'Shards per client', help: 'label-sorted shards each client gets', cliValue: 'N',
  surfaces: FORM_AND_CLI, integer: true, min: 1, max: 100, default: 2, appliesWhen: { setting: 'partition', oneOf: ['shards'] },
  wire: { path: ['demo', 'partition', 'shardsPerClient'] },
};

const sigma: NumberSetting = {
  name: 'sigma', kind: 'number', label: 'Size spread σ', help: 'spread of the log client sizes (0 = equal in expectation)', cliValue: 'S',
  surfaces: ['cli'], min: 0, max: 10, default: 1, appliesWhen: { setting: 'partition', oneOf: ['sizeskew'] },
};

const demoClients: NumberSetting = {
  name: 'demoClients', kind: 'number', label: 'Demo slots (clients the demo data is split among)', help: 'slot = join order',
  surfaces: ['form'], integer: true, min: 1, max: 1000, default: 10, wire: { path: ['demo', 'clients'] },
};

const seed: NumberSetting = {
  name: 'seed', kind: 'number', label: 'Random seed', help: 'same seed, same split and same numbers', cliValue: 'S',
  surfaces: FORM_AND_CLI, integer: true, min: 0, max: 2 ** 31 - 1, default: 1, wire: { path: ['seed'] },
};

const mode: ChoiceSetting = {
  name: 'mode', kind: 'choice', label: 'Aggregation', help: 'sync rounds, or asynchronous buffered aggregation (simulator: on the simulated clock)',
  surfaces: FORM_AND_CLI, default: 'sync', wire: { path: ['aggregation', 'mode'] },
  options: [
    { value: 'sync', label: 'synchronous rounds' },
    { value: 'async', label: 'asynchronous (mixed devices)' },
  ],
};

const ASYNC_ONLY = { setting: 'mode', oneOf: ['async'] } as const;

const bufferSize: NumberSetting = {
  name: 'bufferSize', kind: 'number', label: 'Updates per aggregation step (buffer)', help: 'async: an aggregation step every M updates, from M different clients (fewer when fewer clients can send)', cliValue: 'M', cliAliases: ['buffer'],
  surfaces: FORM_AND_CLI, integer: true, min: 1, max: 256, default: 5, appliesWhen: ASYNC_ONLY, wire: { path: ['aggregation', 'bufferSize'] },
};

const staleness: TextSetting = {
  name: 'staleness', kind: 'text', label: 'Staleness weighting', help: 'async: weight of an update τ steps stale: constant, poly:A = (1+τ)^-A, hinge:A:B',
  syntax: 'constant|poly:A|hinge:A:B', surfaces: FORM_AND_CLI, default: 'poly:0.5', appliesWhen: ASYNC_ONLY,
  problem: (text) => {
    try {
      parseStaleness(text);
      return null;
    } catch {
      return 'expected constant, poly:A (e.g. poly:0.5) or hinge:A:B (e.g. hinge:10:4)';
    }
  },
};

const maxStaleness: NumberSetting = {
  name: 'maxStaleness', kind: 'number', label: 'Maximum staleness (steps)', help: 'async: updates more than this many steps stale are dropped (empty: no maximum)', cliValue: 'T',
  surfaces: FORM_AND_CLI, integer: true, min: 0, max: 100_000, default: null, appliesWhen: ASYNC_ONLY, wire: { path: ['aggregation', 'maxStaleness'] },
};

/** The simulator's own run settings: what it trains on, how it evaluates, and its simulated clock. */
const SIMULATOR = ['cli'] as const;

const limit: NumberSetting = {
  name: 'limit', kind: 'number', label: 'Training samples', help: 'use the first N training samples (0 = all)', cliValue: 'N',
  surfaces: SIMULATOR, integer: true, min: 0, max: 10_000_000, default: 6000,
};

const testLimit: NumberSetting = {
  name: 'testLimit', kind: 'number', label: 'Test samples', help: 'evaluate on at most N test samples', cliValue: 'N',
  surfaces: SIMULATOR, integer: true, min: 1, max: 10_000_000, default: 2000,
};

const validation: NumberSetting = {
  name: 'validation', kind: 'number', label: 'Validation share', help: 'hold out this share of the training data as a validation set', cliValue: 'F',
  surfaces: SIMULATOR, min: 0, max: 1, maxExclusive: true, default: 0,
};

const evaluateOn: ChoiceSetting = {
  name: 'evaluateOn', kind: 'choice', label: 'Scored on', help: 'what the global model is scored on each round (validation needs a validation share above 0)',
  surfaces: SIMULATOR, default: 'test',
  options: [
    { value: 'test', label: 'test set' },
    { value: 'validation', label: 'validation set' },
  ],
};

const workers: NumberSetting = {
  name: 'workers', kind: 'number', label: 'Worker threads', help: "train a round's clients on N worker threads (the same numbers as 1; plain sync rounds only)", cliValue: 'N',
  surfaces: SIMULATOR, integer: true, min: 1, max: 64, default: 1,
};

const participation: ChoiceSetting = {
  name: 'participation', kind: 'choice', label: 'Participation weighting', help: "async: also weight each update by its client's time for it",
  surfaces: SIMULATOR, default: 'none', appliesWhen: ASYNC_ONLY,
  options: [
    { value: 'none', label: 'none' },
    { value: 'duration', label: "the client's time" },
  ],
};

const evalEvery: NumberSetting = {
  name: 'evalEvery', kind: 'number', label: 'Evaluate every N steps', help: 'async: evaluate the global model every N aggregation steps', cliValue: 'N',
  surfaces: SIMULATOR, integer: true, min: 1, max: 100_000, default: 1, appliesWhen: ASYNC_ONLY,
};

const simTime: NumberSetting = {
  name: 'simTime', kind: 'number', label: 'Simulated time (seconds)', help: 'stop after S simulated seconds, on the simulated clock (then rounds do not apply; unset: run the rounds)', cliValue: 'S',
  surfaces: SIMULATOR, min: 0, max: 10_000_000, minExclusive: true, default: null,
};

const intertwined: FlagSetting = {
  name: 'intertwined', kind: 'flag', label: 'Slow devices hold particular classes', help: 'the slow devices are the ones holding particular classes (on the simulated clock)',
  surfaces: SIMULATOR, default: false,
};

/** Secure aggregation and client-level privacy (src/fl/private-aggregation.ts). */
const secagg: FlagSetting = {
  name: 'secagg', kind: 'flag', label: 'Secure aggregation', help: 'secure aggregation: the aggregator learns only the sum (FedAvg, FedProx, SCAFFOLD; needs a clip norm; robust off)',
  surfaces: FORM_AND_CLI, wire: { path: ['privacy', 'secureAggregation'] }, default: false,
};

const dpClip: NumberSetting = {
  name: 'dpClip', kind: 'number', label: 'Clip norm', cliValue: 'C',
  help: "every client clips its update (delta and extras) to L2 norm C: secure aggregation's and DP's bound (unset: no private aggregation)",
  surfaces: FORM_AND_CLI, wire: { path: ['privacy', 'clipNorm'] }, min: 0, max: 1_000_000, minExclusive: true, default: null,
};

const dpNoise: NumberSetting = {
  name: 'dpNoise', kind: 'number', label: 'DP noise multiplier', help: 'client-level DP: the sum carries Gaussian noise of std S * C, each client adding its share (needs a clip norm)', cliValue: 'S',
  surfaces: FORM_AND_CLI, wire: { path: ['privacy', 'noiseMultiplier'] }, min: 0, max: 1000, default: 0,
};

const dpDelta: NumberSetting = {
  name: 'dpDelta', kind: 'number', label: 'DP delta', help: 'the delta of the (eps, delta) reported (needs DP noise)', cliValue: 'D',
  surfaces: FORM_AND_CLI, wire: { path: ['privacy', 'delta'] }, min: 0, max: 1, minExclusive: true, maxExclusive: true, default: 1e-5,
};

const dpBudget: NumberSetting = {
  name: 'dpBudget', kind: 'number', label: 'DP budget (epsilon)', help: 'stop before a round would take eps past EPS (needs DP noise; unset: no budget)', cliValue: 'EPS',
  surfaces: FORM_AND_CLI, wire: { path: ['privacy', 'budget'] }, min: 0, max: 1_000_000, minExclusive: true, default: null,
};

/** In the order the README and `--help` list them. */
export const RUN_SETTINGS: readonly SettingDecl[] = [
  rounds, localEpochs, batchSize, optimizer, learningRate, momentum, clients, minClients, fraction, seed,
  partition, alpha, shardsPerClient, sigma, demoClients,
  codec, robust, decomposition, decompositionEvery,
  mode, deadline, bufferSize, staleness, maxStaleness,
  limit, testLimit, validation, evaluateOn, workers, participation, evalEvery, simTime,
  intertwined, secagg, dpClip, dpNoise, dpDelta, dpBudget,
];
