/**
 * Typed guards for everything a peer can send. validateMessage checks shape, types and bounds and returns a
 * fresh message holding only the known fields. Round staleness and the current model's layout are the round
 * engine's job (checkUpdateAgainstLayout helps with the latter).
 */
import type { ModelSpec } from '../models';
import { AUTH_NONCE_HEX_LENGTH, AUTH_PROOF_HEX_LENGTH, CLIENT_KEY_MAX_LENGTH, PROTOCOL_VERSION, WELCOME_HISTORY_MAX } from '../protocol';
import type {
  RedirectMessage,
  RoundSummary,
  AuthChallengeMessage,
  AuthHelloMessage,
  AuthProofMessage,
  ByeMessage,
  CheckpointMessage,
  DecompositionMode,
  ErrorMessage,
  RosterMessage,
  SessionConfig,
  WeightCodecChoice,
  WelcomeMessage,
  EvalRequestMessage,
  EvalResultMessage,
  HelloMessage,
  LocalMetrics,
  Message,
  MessageType,
  RoundResultMessage,
  RoundStartMessage,
  TrainConfig,
  UpdateMessage,
  VoteMessage,
  VoteRequestMessage,
} from '../protocol';
import { isLocalOptimizerName, LOCAL_OPTIMIZERS } from '../local-optimizer';
import { checkStrategyConfig } from '../strategies/registry';
import type { Extras, ServerState, StrategyConfig } from '../strategies/types';
import type { PartitionSpec } from '../data/partition';
import type { NamedTensor, TensorLayout, WeightSet } from '../weights';
import { quoteForReason } from './errors';
import { WIRE_LIMITS, type WireLimits } from './limits';

export type ValidationResult = { ok: true; message: Message } | { ok: false; reason: string };

export const MESSAGE_TYPES: readonly MessageType[] = [
  'hello',
  'round-start',
  'update',
  'eval-request',
  'eval-result',
  'round-result',
  'bye',
  'error',
  'welcome',
  'roster',
  'checkpoint',
  'vote-request',
  'vote',
  'redirect',
  'auth-hello',
  'auth-challenge',
  'auth-proof',
];

export function isMessageType(x: unknown): x is MessageType {
  return typeof x === 'string' && (MESSAGE_TYPES as readonly string[]).includes(x);
}

/** Thrown inside this module only; validateMessage turns it into { ok: false, reason }. */
class Invalid extends Error {}

function fail(path: string, problem: string): never {
  throw new Invalid(`${path}: ${problem}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Uint8Array) return 'binary data';
  if (typeof x === 'string') return `a string`;
  if (typeof x === 'number') return `${x}`;
  return `a value of type ${typeof x}`;
}

function record(x: unknown, path: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || ArrayBuffer.isView(x)) {
    fail(path, `expected an object, got ${describe(x)}`);
  }
  return x as Record<string, unknown>;
}

function finite(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(path, `expected a finite number, got ${describe(x)}`);
  return x;
}

function inRange(x: unknown, path: string, lo: number, hi: number): number {
  const n = finite(x, path);
  if (n < lo || n > hi) fail(path, `${n} is outside [${lo}, ${hi}]`);
  return n;
}

function integer(x: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) fail(path, `expected an integer, got ${describe(x)}`);
  if (x < min || x > max) fail(path, `${x} is outside [${min}, ${max}]`);
  return x;
}

function string(x: unknown, path: string, limits: WireLimits, maxLength = limits.maxStringLength): string {
  if (typeof x !== 'string') fail(path, `expected a string, got ${describe(x)}`);
  if (x.length > maxLength) fail(path, `string of ${x.length} characters exceeds ${maxLength}`);
  return x;
}

/** Exactly `length` lowercase hex characters (auth nonces and proofs). */
function hex(x: unknown, path: string, length: number): string {
  if (typeof x !== 'string') fail(path, `expected a string, got ${describe(x)}`);
  if (x.length !== length || !/^[0-9a-f]*$/.test(x)) fail(path, `expected ${length} lowercase hex characters`);
  return x;
}

function array(x: unknown, path: string, maxLength: number): unknown[] {
  if (!Array.isArray(x)) fail(path, `expected an array, got ${describe(x)}`);
  if (x.length > maxLength) fail(path, `array of ${x.length} entries exceeds ${maxLength}`);
  return x;
}

function integerArray(x: unknown, path: string, maxLength: number, min: number, max: number): number[] {
  return array(x, path, maxLength).map((d, i) => integer(d, `${path}[${i}]`, min, max));
}

function boolean(x: unknown, path: string): boolean {
  if (typeof x !== 'boolean') fail(path, `expected true or false, got ${describe(x)}`);
  return x;
}

function nullableFinite(x: unknown, path: string): number | null {
  return x === null ? null : finite(x, path);
}

export function validateShape(x: unknown, path: string, limits: WireLimits = WIRE_LIMITS): number[] {
  const shape = integerArray(x, path, limits.maxTensorRank, 0, Number.MAX_SAFE_INTEGER);
  let size = 1;
  for (const d of shape) {
    size *= d;
    if (!Number.isSafeInteger(size)) fail(path, `shape [${shape}] is too large`);
  }
  return shape;
}

function tensor(x: unknown, path: string, limits: WireLimits): NamedTensor {
  const t = record(x, path);
  const name = string(t.name, `${path}.name`, limits, limits.maxTensorNameLength);
  if (name.length === 0) fail(`${path}.name`, 'empty tensor name');
  const where = `${path} "${name}"`;
  const shape = validateShape(t.shape, `${where}.shape`, limits);
  if (!(t.values instanceof Float32Array)) fail(`${where}.values`, `expected a Float32Array, got ${describe(t.values)}`);
  const values = t.values;
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) fail(where, `shape [${shape}] holds ${size} values but ${values.length} were sent`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) fail(where, `non-finite value ${values[i]} at index ${i}`);
  }
  return { name, shape, values };
}

export function validateWeightSet(x: unknown, path: string, limits: WireLimits = WIRE_LIMITS): WeightSet {
  const tensors = array(x, path, limits.maxTensorsPerWeightSet).map((t, i) => tensor(t, `${path}[${i}]`, limits));
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) fail(path, `tensor name "${t.name}" appears twice`);
    seen.add(t.name);
  }
  return tensors;
}

function serverState(x: unknown, path: string, limits: WireLimits): ServerState | null {
  if (x === null) return null;
  const s = record(x, path);
  const tensors = record(s.tensors, `${path}.tensors`);
  const values = record(s.values, `${path}.values`);
  const names = (r: Record<string, unknown>, where: string) => {
    const keys = Object.keys(r);
    if (keys.length > limits.maxMapEntries) fail(where, `${keys.length} entries exceed ${limits.maxMapEntries}`);
    keys.forEach((k) => string(k, `${where} key`, limits, limits.maxTensorNameLength));
    return keys;
  };
  return {
    strategy: string(s.strategy, `${path}.strategy`, limits),
    steps: integer(s.steps, `${path}.steps`),
    tensors: Object.fromEntries(names(tensors, `${path}.tensors`).map((k) => [k, validateWeightSet(tensors[k], `${path}.tensors.${k}`, limits)])),
    values: Object.fromEntries(names(values, `${path}.values`).map((k) => [k, finite(values[k], `${path}.values.${k}`)])),
  };
}

export function validateModelSpec(x: unknown, path: string, limits: WireLimits = WIRE_LIMITS): ModelSpec {
  const m = record(x, path);
  const dim = limits.maxModelDimension;
  const numClasses = integer(m.numClasses, `${path}.numClasses`, 2, limits.maxClasses);
  const hidden = () => integerArray(m.hidden, `${path}.hidden`, limits.maxHiddenLayers, 1, dim);
  switch (m.kind) {
    case 'mlp': {
      const inputShape = integerArray(m.inputShape, `${path}.inputShape`, 4, 1, dim);
      if (inputShape.length === 0) fail(`${path}.inputShape`, 'must have at least one dimension');
      return { kind: 'mlp', inputShape, hidden: hidden(), numClasses };
    }
    case 'cnn': {
      const inputShape = integerArray(m.inputShape, `${path}.inputShape`, 3, 1, dim);
      if (inputShape.length !== 3) fail(`${path}.inputShape`, `expected [height, width, channels], got [${inputShape}]`);
      const filters = integerArray(m.filters, `${path}.filters`, 2, 1, dim);
      if (filters.length !== 2) fail(`${path}.filters`, `expected two filter counts, got [${filters}]`);
      const dense = integer(m.dense, `${path}.dense`, 1, dim);
      return {
        kind: 'cnn',
        inputShape: [inputShape[0], inputShape[1], inputShape[2]],
        filters: [filters[0], filters[1]],
        dense,
        numClasses,
      };
    }
    case 'tabular':
      return { kind: 'tabular', features: integer(m.features, `${path}.features`, 1, dim), hidden: hidden(), numClasses };
    default:
      fail(`${path}.kind`, `unknown model kind ${quoteForReason(m.kind)}`);
  }
}

/** Hyper-parameters checked against the strategy's declaration in the registry (names, ranges, options). */
export function validateStrategyConfig(x: unknown, path: string): StrategyConfig {
  const s = record(x, path);
  try {
    return checkStrategyConfig(s, path);
  } catch (e) {
    throw new Invalid((e as Error).message);
  }
}

/** Strategy tensors beside the weights or the delta: at most this many named weight sets. */
export const MAX_EXTRAS_PER_MESSAGE = 4;

function extras(x: unknown, path: string, limits: WireLimits): Extras {
  const r = record(x, path);
  const keys = Object.keys(r);
  if (keys.length > MAX_EXTRAS_PER_MESSAGE) fail(path, `${keys.length} entries exceed ${MAX_EXTRAS_PER_MESSAGE}`);
  const out: Extras = {};
  for (const key of keys) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(key)) fail(path, `invalid entry name ${quoteForReason(key)}`);
    out[key] = validateWeightSet(r[key], `${path}.${key}`, limits);
  }
  return out;
}

/** The optional local-optimizer fields of a train config. */
function optimizerFields(t: Record<string, unknown>, path: string): Pick<TrainConfig, 'optimizer' | 'momentum'> {
  const out: Pick<TrainConfig, 'optimizer' | 'momentum'> = {};
  if (t.optimizer !== undefined) {
    if (!isLocalOptimizerName(t.optimizer)) fail(`${path}.optimizer`, `expected one of ${LOCAL_OPTIMIZERS.map((o) => o.name).join(', ')}, got ${quoteForReason(t.optimizer)}`);
    out.optimizer = t.optimizer;
  }
  if (t.momentum !== undefined) out.momentum = inRange(t.momentum, `${path}.momentum`, 0, 1);
  return out;
}

function trainConfig(x: unknown, path: string): TrainConfig {
  const t = record(x, path);
  return {
    localEpochs: integer(t.localEpochs, `${path}.localEpochs`, 1),
    batchSize: integer(t.batchSize, `${path}.batchSize`, 1),
    learningRate: inRange(t.learningRate, `${path}.learningRate`, Number.MIN_VALUE, Number.MAX_VALUE),
    ...optimizerFields(t, path),
    seed: integer(t.seed, `${path}.seed`, Number.MIN_SAFE_INTEGER),
  };
}

const DECOMPOSITION_MODES: readonly DecompositionMode[] = ['exact', 'proxy', 'off'];
const CODEC_CHOICES: readonly WeightCodecChoice[] = ['float32', 'float16', 'int8'];

function oneOf<T extends string>(x: unknown, options: readonly T[], path: string): T {
  if (typeof x !== 'string' || !(options as readonly string[]).includes(x)) fail(path, `expected one of ${options.join(', ')}, got ${quoteForReason(x)}`);
  return x as T;
}

function partitionSpec(x: unknown, path: string): PartitionSpec {
  const p = record(x, path);
  switch (p.kind) {
    case 'iid':
      return { kind: 'iid' };
    case 'dirichlet':
      return { kind: 'dirichlet', alpha: inRange(p.alpha, `${path}.alpha`, Number.MIN_VALUE, Number.MAX_VALUE) };
    case 'shards':
      return { kind: 'shards' };
    default:
      fail(`${path}.kind`, `unknown partition ${quoteForReason(p.kind)}`);
  }
}

function sessionConfig(x: unknown, path: string, limits: WireLimits): SessionConfig {
  const c = record(x, path);
  const train = record(c.train, `${path}.train`);
  const demo = record(c.demo, `${path}.demo`);
  return {
    model: validateModelSpec(c.model, `${path}.model`, limits),
    strategy: validateStrategyConfig(c.strategy, `${path}.strategy`),
    train: {
      localEpochs: integer(train.localEpochs, `${path}.train.localEpochs`, 1),
      batchSize: integer(train.batchSize, `${path}.train.batchSize`, 1),
      learningRate: inRange(train.learningRate, `${path}.train.learningRate`, Number.MIN_VALUE, Number.MAX_VALUE),
      ...optimizerFields(train, `${path}.train`),
    },
    rounds: integer(c.rounds, `${path}.rounds`, 1),
    minClients: integer(c.minClients, `${path}.minClients`, 1),
    fraction: inRange(c.fraction, `${path}.fraction`, Number.MIN_VALUE, 1),
    roundDeadlineMs: integer(c.roundDeadlineMs, `${path}.roundDeadlineMs`, 1),
    decomposition: oneOf(c.decomposition, DECOMPOSITION_MODES, `${path}.decomposition`),
    decompositionEvery: integer(c.decompositionEvery, `${path}.decompositionEvery`, 1),
    codec: oneOf(c.codec, CODEC_CHOICES, `${path}.codec`),
    seed: integer(c.seed, `${path}.seed`),
    demo: { partition: partitionSpec(demo.partition, `${path}.demo.partition`), clients: integer(demo.clients, `${path}.demo.clients`, 1) },
  };
}

function localMetrics(x: unknown, path: string): LocalMetrics {
  const m = record(x, path);
  return {
    trainLoss: finite(m.trainLoss, `${path}.trainLoss`),
    evalLoss: finite(m.evalLoss, `${path}.evalLoss`),
    evalAccuracy: inRange(m.evalAccuracy, `${path}.evalAccuracy`, 0, 1),
    trainMs: inRange(m.trainMs, `${path}.trainMs`, 0, Number.MAX_VALUE),
    samplesPerSecond: inRange(m.samplesPerSecond, `${path}.samplesPerSecond`, 0, Number.MAX_VALUE),
  };
}

/**
 * Checks the parts every message shares: an object with a known `type` and `v === PROTOCOL_VERSION`.
 * Returns a reason, or null when fine.
 */
export function checkEnvelope(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || ArrayBuffer.isView(x)) {
    return `message: expected an object, got ${describe(x)}`;
  }
  const m = x as Record<string, unknown>;
  if (!isMessageType(m.type)) return `message.type: unknown message type ${quoteForReason(m.type)}`;
  if (m.v !== PROTOCOL_VERSION) {
    return `${m.type}.v: unsupported protocol version ${quoteForReason(m.v)} (this build speaks ${PROTOCOL_VERSION})`;
  }
  return null;
}

function decomposition(x: unknown, path: string): RoundSummary['decomposition'] {
  if (x === null) return null;
  const d = record(x, path);
  return { local: finite(d.local, `${path}.local`), shift: finite(d.shift, `${path}.shift`), aggregation: finite(d.aggregation, `${path}.aggregation`), global: finite(d.global, `${path}.global`) };
}

function roundSummary(x: unknown, path: string): RoundSummary {
  const r = record(x, path);
  const accuracy = nullableFinite(r.accuracy, `${path}.accuracy`);
  if (accuracy !== null) inRange(accuracy, `${path}.accuracy`, 0, 1);
  return {
    round: integer(r.round, `${path}.round`),
    accuracy,
    loss: nullableFinite(r.loss, `${path}.loss`),
    decomposition: decomposition(r.decomposition, `${path}.decomposition`),
    participantCount: integer(r.participantCount, `${path}.participantCount`),
  };
}

function validateBody(m: Record<string, unknown>, limits: WireLimits): Message {
  const v = PROTOCOL_VERSION;
  const type = m.type as MessageType;
  const round = () => integer(m.round, `${type}.round`);
  const term = () => integer(m.term, `${type}.term`);
  /** Round messages built by the engine get their term from the session layer; the engine alone sends none. */
  const optionalTerm = (message: RoundStartMessage | RoundResultMessage) => {
    if (m.term !== undefined) message.term = term();
    return message;
  };
  const numSamples = () => integer(m.numSamples, `${type}.numSamples`);
  const text = (field: string) => string(m[field], `${type}.${field}`, limits);
  switch (type) {
    case 'hello': {
      const hello: HelloMessage = {
        type,
        v,
        clientName: text('clientName'),
        backend: text('backend'),
        numSamples: numSamples(),
        labelHistogram: integerArray(m.labelHistogram, 'hello.labelHistogram', limits.maxClasses, 0, Number.MAX_SAFE_INTEGER),
      };
      if (m.clientKey !== undefined) hello.clientKey = string(m.clientKey, 'hello.clientKey', limits, CLIENT_KEY_MAX_LENGTH);
      return hello;
    }
    case 'round-start': {
      const start: RoundStartMessage = {
        type,
        v,
        round: round(),
        model: validateModelSpec(m.model, 'round-start.model', limits),
        strategy: validateStrategyConfig(m.strategy, 'round-start.strategy'),
        train: trainConfig(m.train, 'round-start.train'),
        weights: validateWeightSet(m.weights, 'round-start.weights', limits),
      };
      if (m.extras !== undefined) start.extras = extras(m.extras, 'round-start.extras', limits);
      return optionalTerm(start);
    }
    case 'update': {
      const update: UpdateMessage = {
        type,
        v,
        round: round(),
        delta: validateWeightSet(m.delta, 'update.delta', limits),
        numSamples: numSamples(),
        metrics: localMetrics(m.metrics, 'update.metrics'),
      };
      if (m.extras !== undefined) update.extras = extras(m.extras, 'update.extras', limits);
      return update;
    }
    case 'eval-request': {
      const requestId = text('requestId');
      if (requestId.length === 0) fail('eval-request.requestId', 'empty request id');
      return {
        type,
        v,
        round: round(),
        requestId,
        model: validateModelSpec(m.model, 'eval-request.model', limits),
        models: array(m.models, 'eval-request.models', limits.maxModelsPerEvalRequest).map((w, i) =>
          validateWeightSet(w, `eval-request.models[${i}]`, limits),
        ),
      } satisfies EvalRequestMessage;
    }
    case 'eval-result': {
      const requestId = text('requestId');
      if (requestId.length === 0) fail('eval-result.requestId', 'empty request id');
      return {
        type,
        v,
        round: round(),
        requestId,
        losses: array(m.losses, 'eval-result.losses', limits.maxModelsPerEvalRequest).map((l, i) =>
          finite(l, `eval-result.losses[${i}]`),
        ),
        numSamples: numSamples(),
      } satisfies EvalResultMessage;
    }
    case 'round-result': {
      const accuracy = nullableFinite(m.accuracy, 'round-result.accuracy');
      if (accuracy !== null) inRange(accuracy, 'round-result.accuracy', 0, 1);
      const result: RoundResultMessage = {
        type,
        v,
        round: round(),
        participants: integer(m.participants, 'round-result.participants'),
        accuracy,
        loss: nullableFinite(m.loss, 'round-result.loss'),
      };
      if (m.decomposition === null) result.decomposition = null;
      else if (m.decomposition !== undefined) {
        const d = record(m.decomposition, 'round-result.decomposition');
        result.decomposition = {
          local: finite(d.local, 'round-result.decomposition.local'),
          shift: finite(d.shift, 'round-result.decomposition.shift'),
          aggregation: finite(d.aggregation, 'round-result.decomposition.aggregation'),
          global: finite(d.global, 'round-result.decomposition.global'),
        };
      }
      return optionalTerm(result);
    }
    case 'welcome': {
      const welcome: WelcomeMessage = { type, v, term: term(), slot: integer(m.slot, 'welcome.slot'), round: round(), config: sessionConfig(m.config, 'welcome.config', limits) };
      if (m.history !== undefined) welcome.history = array(m.history, 'welcome.history', WELCOME_HISTORY_MAX).map((x, i) => roundSummary(x, `welcome.history[${i}]`));
      return welcome;
    }
    case 'redirect':
      return { type, v, term: term(), aggregatorId: text('aggregatorId') } satisfies RedirectMessage;
    case 'roster': {
      const aggregatorId = text('aggregatorId');
      return {
        type,
        v,
        term: term(),
        aggregatorId,
        round: round(),
        peers: array(m.peers, 'roster.peers', limits.maxPeers).map((x, i) => {
          const e = record(x, `roster.peers[${i}]`);
          return {
            id: string(e.id, `roster.peers[${i}].id`, limits),
            name: string(e.name, `roster.peers[${i}].name`, limits),
            slot: integer(e.slot, `roster.peers[${i}].slot`),
            backend: string(e.backend, `roster.peers[${i}].backend`, limits),
            numSamples: integer(e.numSamples, `roster.peers[${i}].numSamples`),
            labelHistogram: integerArray(e.labelHistogram, `roster.peers[${i}].labelHistogram`, limits.maxClasses, 0, Number.MAX_SAFE_INTEGER),
          };
        }),
      } satisfies RosterMessage;
    }
    case 'checkpoint':
      return {
        type,
        v,
        term: term(),
        round: round(),
        weights: validateWeightSet(m.weights, 'checkpoint.weights', limits),
        serverState: serverState(m.serverState, 'checkpoint.serverState', limits),
      } satisfies CheckpointMessage;
    case 'vote-request':
      return { type, v, term: term(), previous: text('previous') } satisfies VoteRequestMessage;
    case 'vote':
      return { type, v, term: term(), granted: boolean(m.granted, 'vote.granted') } satisfies VoteMessage;
    case 'bye': {
      const bye: ByeMessage = { type, v, reason: text('reason') };
      if (m.term !== undefined) bye.term = term();
      return bye;
    }
    case 'error':
      return { type, v, reason: text('reason') } satisfies ErrorMessage;
    case 'auth-hello':
      return { type, v, nonce: hex(m.nonce, 'auth-hello.nonce', AUTH_NONCE_HEX_LENGTH) } satisfies AuthHelloMessage;
    case 'auth-challenge':
      return {
        type,
        v,
        nonce: hex(m.nonce, 'auth-challenge.nonce', AUTH_NONCE_HEX_LENGTH),
        proof: hex(m.proof, 'auth-challenge.proof', AUTH_PROOF_HEX_LENGTH),
      } satisfies AuthChallengeMessage;
    case 'auth-proof':
      return { type, v, proof: hex(m.proof, 'auth-proof.proof', AUTH_PROOF_HEX_LENGTH) } satisfies AuthProofMessage;
  }
}

/**
 * Validates anything claiming to be a Message. On success the returned message is a fresh object with only
 * the known fields (tensor values are shared, not copied).
 */
export function validateMessage(x: unknown, limits: WireLimits = WIRE_LIMITS): ValidationResult {
  const envelope = checkEnvelope(x);
  if (envelope) return { ok: false, reason: envelope };
  try {
    return { ok: true, message: validateBody(x as Record<string, unknown>, limits) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message };
    throw e;
  }
}

/**
 * Reason why an update's delta does not fit the current model layout (names, order, shapes), or null.
 * Meant for the round engine, after validateMessage.
 */
export function checkUpdateAgainstLayout(update: Pick<UpdateMessage, 'delta'>, layout: readonly TensorLayout[]): string | null {
  const delta = update.delta;
  if (delta.length !== layout.length) return `update.delta: expected ${layout.length} tensors, got ${delta.length}`;
  for (let i = 0; i < layout.length; i++) {
    const want = layout[i];
    const got = delta[i];
    if (got.name !== want.name) return `update.delta[${i}]: tensor is named "${got.name}", expected "${want.name}"`;
    if (got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k])) {
      return `update.delta[${i}] "${want.name}": shape [${got.shape}], expected [${want.shape}]`;
    }
    const size = want.shape.reduce((a, b) => a * b, 1);
    if (got.values.length !== size) return `update.delta[${i}] "${want.name}": ${got.values.length} values, expected ${size}`;
  }
  return null;
}
