/**
 * The messages peers exchange, defined once. src/fl/protocol.ts derives every message type from these schemas
 * (v.InferOutput) and validateMessage (./validate.ts) runs them, so a field added here is typed and checked at
 * once. Every bound comes from WireLimits; schemas are built per limits object (messageSchemas caches them).
 * A run setting's bounds (rounds, learning rate, ...) come from its declaration in src/fl/settings.
 *
 * To add a field: add it to the message's entries below (v.optional(...) when older peers may omit it). To add a
 * message: add an entry to `messageSchemas`, then `export type XMessage = MessageOf<'x'>` and the union member in
 * protocol.ts. To add a strategy parameter: declare it in the strategy (the registry checks it, see `strategy`).
 */
import * as v from 'valibot';
import type { ModelSpec } from '../model-spec';
import type { PartitionSpec } from '../data/partition';
import { isLocalOptimizerName, LOCAL_OPTIMIZERS, type LocalOptimizerName } from '../local-optimizer';
import { AUTH_NONCE_HEX_LENGTH, AUTH_PROOF_HEX_LENGTH, PROTOCOL_VERSION } from '../protocol-constants';
import { checkStrategyConfig } from '../strategies/registry';
import type { StrategyConfig } from '../strategies/types';
import type { AggregationMode } from '../async/mode';
import type { StalenessConfig } from '../async/staleness';
import { ROBUST_MODES } from '../robust/types';
import { quoteForReason } from './errors';
import { numberSettingSchema as setting } from './setting-schema';
import { WIRE_LIMITS, type WireLimits } from './limits';
import { PUBLIC_KEY_BYTES } from '../secagg/crypto';
import { DEFAULT_ORDERS } from '../dp/rdp';
import { SEALED_SHARE_BYTES } from '../secagg/secagg-client';
import { SHARE_BYTES } from '../secagg/shamir';
import {
  boolean,
  bytes,
  describe,
  finite,
  hex,
  inRange,
  integer,
  integerList,
  isRecord,
  list,
  namedMap,
  nonEmptyString,
  oneOf,
  record,
  RELATIVE,
  string,
} from './schema-primitives';
import { weightSetSchema } from './tensor-schema';

export const DECOMPOSITION_MODES = ['exact', 'proxy', 'off'] as const;
export const WEIGHT_CODEC_CHOICES = ['float32', 'float16', 'int8'] as const;
/** Where a session stands (see the session-state message). */
export const SESSION_PHASES = ['lobby', 'waiting', 'running', 'stopping', 'stopped', 'finished'] as const;

/** Longest client key a hello may carry. */
export const CLIENT_KEY_MAX_LENGTH = 64;

/** Most finished rounds a welcome carries. */
export const WELCOME_HISTORY_MAX = 1_000;

/** Strategy tensors beside the weights or the delta: at most this many named weight sets. */
export const MAX_EXTRAS_PER_MESSAGE = 4;

const EXTRAS_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** A record discriminated by `key` (default `kind`); an unknown one is reported as `${path}.kind: unknown ${what} "x"`. */
function byKind<T>(what: string, options: Record<string, v.GenericSchema<unknown, T>>, key = 'kind') {
  return v.pipe(
    v.custom<Record<string, unknown>>(isRecord, (issue) => `expected an object, got ${describe(issue.input)}`),
    v.rawTransform<Record<string, unknown>, T>(({ dataset, addIssue, NEVER }) => {
      const kind = dataset.value[key];
      const schema = typeof kind === 'string' && Object.hasOwn(options, kind) ? options[kind] : undefined;
      if (!schema) {
        addIssue({ message: `${RELATIVE}.${key}: unknown ${what} ${quoteForReason(kind)}` });
        return NEVER;
      }
      const result = v.safeParse(schema, dataset.value, { abortEarly: true });
      if (result.success) return result.output;
      for (const issue of result.issues) addIssue({ message: issue.message, path: issue.path as never });
      return NEVER;
    }),
  );
}

/** `n` dimensions exactly, as a tuple. */
const exactly =
  <N extends 2 | 3>(n: N, expected: string) =>
  (schema: v.GenericSchema<unknown, number[]>) =>
    v.pipe(
      schema,
      v.check((a) => a.length === n, (issue) => `expected ${expected}, got [${issue.input as number[]}]`),
      v.transform((a) => a as N extends 3 ? [number, number, number] : [number, number]),
    );

function modelSpec(limits: WireLimits): v.GenericSchema<unknown, ModelSpec> {
  const dim = limits.maxModelDimension;
  const numClasses = integer(2, limits.maxClasses);
  const hidden = integerList(limits.maxHiddenLayers, 1, dim);
  return byKind<ModelSpec>('model kind', {
    mlp: record({
      kind: v.literal('mlp'),
      inputShape: v.pipe(integerList(4, 1, dim), v.check((a) => a.length > 0, 'must have at least one dimension')),
      hidden,
      numClasses,
    }),
    cnn: record({
      kind: v.literal('cnn'),
      inputShape: exactly(3, '[height, width, channels]')(integerList(3, 1, dim)),
      filters: exactly(2, 'two filter counts')(integerList(2, 1, dim)),
      dense: integer(1, dim),
      numClasses,
    }),
    tabular: record({ kind: v.literal('tabular'), features: integer(1, dim), hidden, numClasses }),
  });
}

const partitionSpec = byKind<PartitionSpec>('partition', {
  iid: record({ kind: v.literal('iid') }),
  dirichlet: record({ kind: v.literal('dirichlet'), alpha: setting('alpha') }),
  shards: record({ kind: v.literal('shards'), shardsPerClient: v.optional(setting('shardsPerClient')) }),
});

const stalenessSchema = byKind<StalenessConfig>('staleness function', {
  constant: record({ kind: v.literal('constant') }),
  poly: record({ kind: v.literal('poly'), a: inRange(0, 1e6) }),
  hinge: record({ kind: v.literal('hinge'), a: inRange(0, 1e6), b: integer() }),
});

/** Synchronous rounds, or asynchronous buffered aggregation with a buffer size, a staleness function and a cut-off. */
const aggregationSchema = byKind<AggregationMode>(
  'aggregation mode',
  {
    sync: record({ mode: v.literal('sync') }),
    async: record({
      mode: v.literal('async'),
      bufferSize: setting('bufferSize'),
      staleness: stalenessSchema,
      maxStaleness: v.nullable(setting('maxStaleness')),
    }),
  },
  'mode',
);

/** Hyper-parameters checked against the strategy's declaration in the registry (names, ranges, options). */
export const strategyConfigSchema = v.pipe(
  v.custom<Record<string, unknown>>(isRecord, (issue) => `expected an object, got ${describe(issue.input)}`),
  v.rawTransform<Record<string, unknown>, StrategyConfig>(({ dataset, addIssue, NEVER }) => {
    try {
      return checkStrategyConfig(dataset.value, '');
    } catch (e) {
      addIssue({ message: RELATIVE + (e as Error).message });
      return NEVER;
    }
  }),
);

const trainEntries = {
  localEpochs: setting('localEpochs'),
  batchSize: setting('batchSize'),
  learningRate: setting('learningRate'),
  /** Local optimizer (default LOCAL_OPTIMIZER_DEFAULTS.optimizer). */
  optimizer: v.optional(
    v.custom<LocalOptimizerName>(isLocalOptimizerName, (issue) => `expected one of ${LOCAL_OPTIMIZERS.map((o) => o.name).join(', ')}, got ${quoteForReason(issue.input)}`),
  ),
  /** Momentum of the 'momentum' optimizer (default LOCAL_OPTIMIZER_DEFAULTS.momentum). */
  momentum: v.optional(setting('momentum')),
};

const localMetrics = record({
  /** Mean training loss of the last local epoch (cross-entropy + strategy terms). */
  trainLoss: finite(),
  /** L(w_k; E_k): plain CE of the trained local model on the client's evaluation subset. */
  evalLoss: finite(),
  evalAccuracy: inRange(0, 1),
  trainMs: inRange(0, Number.MAX_VALUE),
  samplesPerSecond: inRange(0, Number.MAX_VALUE),
});

function buildMessageSchemas(limits: WireLimits) {
  const text = string(limits.maxStringLength);
  const count = integer();
  const term = integer();
  const weights = weightSetSchema(limits);
  const model = modelSpec(limits);
  const header = <T extends string>(type: T) => ({ type: v.literal(type), v: v.literal(PROTOCOL_VERSION) });
  const extras = namedMap(weights, MAX_EXTRAS_PER_MESSAGE, (key) => (EXTRAS_NAME.test(key) ? null : `invalid entry name ${quoteForReason(key)}`));
  const tensorName = (key: string) =>
    key.length > limits.maxTensorNameLength ? `${RELATIVE} key: string of ${key.length} characters exceeds ${limits.maxTensorNameLength}` : null;
  const histogram = integerList(limits.maxClasses, 0);
  const lossTerms = record({ local: finite(), shift: finite(), aggregation: finite(), global: finite() });
  /** A finished round as every member may know it. */
  const roundSummary = record({
    round: count,
    accuracy: v.nullable(inRange(0, 1)),
    loss: v.nullable(finite()),
    decomposition: v.nullable(lossTerms),
    participantCount: count,
  });

  /** Everything a session runs with, chosen by the host; sent to each client on joining. */
  const sessionConfig = record({
    model,
    strategy: strategyConfigSchema,
    train: record(trainEntries),
    rounds: setting('rounds'),
    minClients: setting('minClients'),
    fraction: setting('fraction'),
    roundDeadlineMs: setting('deadline'),
    decomposition: oneOf(DECOMPOSITION_MODES),
    decompositionEvery: setting('decompositionEvery'),
    codec: oneOf(WEIGHT_CODEC_CHOICES),
    seed: setting('seed'),
    /** The aggregator's defence against hostile updates (src/fl/robust); absent means the default, 'clip'. */
    robust: v.optional(oneOf(ROBUST_MODES)),
    /** How the built-in demo data is split: client slot k gets part k of this partition. */
    demo: record({ partition: partitionSpec, clients: setting('demoClients') }),
    /** Synchronous rounds (also when absent) or asynchronous buffered aggregation. */
    aggregation: v.optional(aggregationSchema),
    /** The host's key commitment (src/session/host-key.ts): what lets the host tab take control back after a reload. */
    hostCommitment: v.optional(hex(64)),
    /** Private aggregation (src/fl/private-aggregation.ts): clients clip (and noise) their own updates; absent: off. */
    privacy: v.optional(
      record({
        secureAggregation: boolean(),
        clipNorm: setting('dpClip'),
        noiseMultiplier: setting('dpNoise'),
        delta: setting('dpDelta'),
        budget: v.nullable(setting('dpBudget')),
      }),
    ),
  });

  const publicKeys = { channelKey: bytes(PUBLIC_KEY_BYTES), maskKey: bytes(PUBLIC_KEY_BYTES) };
  const revealed = list(record({ of: text, y: bytes(SHARE_BYTES) }), limits.maxPeers);
  /** A client's side of one secure-aggregation round, step by step (src/fl/secagg): all for the assignment it answers. */
  const secaggSteps = {
    keys: record({ ...header('secagg'), assignment: count, step: v.literal('keys'), ...publicKeys }),
    shares: record({ ...header('secagg'), assignment: count, step: v.literal('shares'), shares: list(record({ to: text, box: bytes(SEALED_SHARE_BYTES) }), limits.maxPeers) }),
    /** The masked contribution: uint32 values, little-endian; its length is checked against the round's. */
    masked: record({ ...header('secagg'), assignment: count, step: v.literal('masked'), masked: bytes(4, limits.maxMessageBytes), metrics: localMetrics }),
    reveal: record({ ...header('secagg'), assignment: count, step: v.literal('reveal'), selfMaskShares: revealed, maskKeyShares: revealed }),
  };
  /** The aggregator's side: the round's setup, the shares routed to this client, the unmask request. */
  const secaggRoundSteps = {
    setup: record({
      ...header('secagg-round'),
      assignment: count,
      step: v.literal('setup'),
      /** The receiver's id as the aggregator knows it (its place in the graph). */
      you: text,
      clients: list(text, limits.maxPeers),
      graphSeed: integer(0, 2 ** 32 - 1),
      degree: integer(1, limits.maxPeers),
      threshold: integer(1, limits.maxPeers),
      neighbourKeys: list(record({ clientId: text, ...publicKeys }), limits.maxPeers),
    }),
    inbox: record({ ...header('secagg-round'), assignment: count, step: v.literal('inbox'), shares: list(record({ from: text, box: bytes(SEALED_SHARE_BYTES) }), limits.maxPeers) }),
    unmask: record({ ...header('secagg-round'), assignment: count, step: v.literal('unmask'), survivors: list(text, limits.maxPeers), dropped: list(text, limits.maxPeers) }),
  };

  const messages = {
    hello: record({
      ...header('hello'),
      clientName: text,
      backend: text,
      numSamples: count,
      labelHistogram: histogram,
      /** The tab's random per-session key, kept across reloads: the aggregator gives the same key the same slot again. */
      clientKey: v.optional(string(CLIENT_KEY_MAX_LENGTH)),
    }),
    'round-start': record({
      ...header('round-start'),
      /** The aggregation term (see src/session/election.ts); stamped by the session layer. */
      term: v.optional(term),
      /** The global model version the weights are (0: the initial model); the work goes into round version + 1 or later. */
      version: count,
      /** This piece of work's number, unique and increasing per aggregator: the update and progress echo it. */
      assignment: count,
      model,
      strategy: strategyConfigSchema,
      train: record({ ...trainEntries, seed: integer(Number.MIN_SAFE_INTEGER) }),
      weights,
      /** Weight-shaped tensors the strategy sends beside the weights (SCAFFOLD's server control variate c). */
      extras: v.optional(extras),
      /**
       * Private aggregation: how the client builds its contribution (clip to clipNorm, add noise of std noiseStd to
       * each value, weigh by its sample count up to maxWeight, or by 1 when uniform) and whether it goes through
       * secure aggregation (the secagg messages) instead of a plain update.
       */
      privacy: v.optional(record({ clipNorm: setting('dpClip'), noiseStd: inRange(0, 1e9), maxWeight: integer(1), uniform: boolean(), secure: boolean() })),
    }),
    update: record({
      ...header('update'),
      /** The round-start's assignment this update answers. */
      assignment: count,
      /** w_k - w_g */
      delta: weights,
      numSamples: count,
      metrics: localMetrics,
      /** Weight-shaped tensors the client strategy sends beside the delta (SCAFFOLD's delta-c). */
      extras: v.optional(extras),
    }),
    /** Asks a client for plain-CE losses of the given models on its own evaluation subset. */
    /**
     * A selected client's share of its local training done (0..1), sent to its aggregator only, a few times a second
     * at most: the host's peers table shows it. Carries no data; the aggregator drops one that is not about the assignment
     * it has open for this client.
     */
    progress: record({ ...header('progress'), assignment: count, fraction: inRange(0, 1) }),
    'eval-request': record({
      ...header('eval-request'),
      round: count,
      requestId: nonEmptyString(limits.maxStringLength, 'empty request id'),
      model,
      models: list(weights, limits.maxModelsPerEvalRequest),
    }),
    'eval-result': record({
      ...header('eval-result'),
      round: count,
      requestId: nonEmptyString(limits.maxStringLength, 'empty request id'),
      /** losses[m] = L(models[m]; E_this_client) */
      losses: list(finite(), limits.maxModelsPerEvalRequest),
      numSamples: count,
    }),
    'round-result': record({
      ...header('round-result'),
      term: v.optional(term),
      round: count,
      participants: count,
      accuracy: v.nullable(inRange(0, 1)),
      loss: v.nullable(finite()),
      /** The round's loss decomposition, when it was measured. */
      decomposition: v.optional(v.nullable(lossTerms)),
      /** A private session's round: what it spent (epsilon so far, null without DP noise) and whom its sum covers. */
      privacy: v.optional(
        record({
          secure: boolean(),
          epsilon: v.nullable(inRange(0, Number.MAX_VALUE)),
          delta: inRange(0, 1),
          budget: v.nullable(inRange(0, Number.MAX_VALUE)),
          noiseMultiplier: inRange(0, Number.MAX_VALUE),
          samplingRate: inRange(0, 1),
          survivors: count,
        }),
      ),
    }),
    /** `term`: set when the client leaves this aggregator to follow the aggregator of this later term. */
    bye: record({ ...header('bye'), reason: text, term: v.optional(term) }),
    error: record({ ...header('error'), reason: text }),
    /** The aggregator's answer to an admitted hello; `slot` is the client's place in join order. */
    welcome: record({
      ...header('welcome'),
      term,
      slot: count,
      round: count,
      config: sessionConfig,
      /** The session's finished rounds (metrics only, the latest WELCOME_HISTORY_MAX), so a late joiner sees the whole run. */
      history: v.optional(list(roundSummary, WELCOME_HISTORY_MAX)),
    }),
    /**
     * Sent, after the join handshake, by a lobby: a tab that holds the session's well-known host id for an aggregator
     * that took over under another id. The joiner says hello to `aggregatorId` instead.
     */
    redirect: record({ ...header('redirect'), term, aggregatorId: text }),
    /** Who is in the session, in join order, and who aggregates in which term (see RosterMessage). */
    roster: record({
      ...header('roster'),
      term,
      aggregatorId: text,
      round: count,
      peers: list(
        record({ id: text, name: text, slot: count, backend: text, numSamples: count, labelHistogram: histogram }),
        limits.maxPeers,
      ),
    }),
    /** The latest global model and the strategy's server state, for the clients next in line to aggregate. */
    checkpoint: record({
      ...header('checkpoint'),
      term,
      round: count,
      weights,
      serverState: v.nullable(
        record({
          strategy: text,
          steps: count,
          tensors: namedMap(weights, limits.maxMapEntries, tensorName),
          values: namedMap(finite(), limits.maxMapEntries, tensorName),
        }),
      ),
      /** A private session's privacy ledger so far (src/fl/dp/accountant.ts): the successor's goes on from it. */
      privacyLedger: v.optional(
        v.nullable(record({ rounds: count, rdp: v.pipe(list(inRange(0, Number.MAX_VALUE), DEFAULT_ORDERS.length), v.check((a) => a.length === DEFAULT_ORDERS.length, `expected ${DEFAULT_ORDERS.length} RDP orders`)) })),
      ),
    }),
    /**
     * Where the session stands, as the aggregator of `term` keeps it; sent to every member on each change and with
     * each heartbeat. `seq` orders the records of one term. `round`: rounds finished; `runningRound`: the one in
     * progress; `reason`: why no round can run now (e.g. "1 of 2 clients have data"); `inRound`: who trains in it.
     */
    'session-state': record({
      ...header('session-state'),
      term,
      seq: count,
      phase: oneOf(SESSION_PHASES),
      round: count,
      runningRound: v.nullable(count),
      totalRounds: integer(1),
      reason: v.nullable(text),
      aggregatorId: text,
      withData: count,
      needed: count,
      inRound: list(text, limits.maxPeers),
    }),
    /** The host tab, back as a client of `term`'s aggregator, asks for control: `proof` opens the config's hostCommitment. */
    reclaim: record({ ...header('reclaim'), term, proof: hex(64) }),
    /**
     * The aggregator hands control to the host that reclaimed it: the receiver aggregates in `term` from the checkpoint
     * sent just before, and runs on when `run` (the session was running).
     */
    handback: record({ ...header('handback'), term, run: boolean() }),
    /** The deterministic successor asks to aggregate in `term`, replacing the silent aggregator `previous`. */
    'vote-request': record({ ...header('vote-request'), term, previous: text }),
    /** Granted only when this peer also lost the previous aggregator. */
    vote: record({ ...header('vote'), term, granted: boolean() }),
    /** A client's step of a secure-aggregation round (private sessions only). */
    secagg: byKind<v.InferOutput<(typeof secaggSteps)[keyof typeof secaggSteps]>>('secure-aggregation step', secaggSteps, 'step'),
    /** The aggregator's step of a secure-aggregation round, to one client. */
    'secagg-round': byKind<v.InferOutput<(typeof secaggRoundSteps)[keyof typeof secaggRoundSteps]>>('secure-aggregation step', secaggRoundSteps, 'step'),
    /** The connecting side's opening: its fresh nonce. */
    'auth-hello': record({ ...header('auth-hello'), nonce: hex(AUTH_NONCE_HEX_LENGTH) }),
    /** The answering side's fresh nonce and its proof (role 'host') over both nonces and both peer ids. */
    'auth-challenge': record({ ...header('auth-challenge'), nonce: hex(AUTH_NONCE_HEX_LENGTH), proof: hex(AUTH_PROOF_HEX_LENGTH) }),
    /** The connecting side's proof (role 'client') over both nonces and both peer ids. */
    'auth-proof': record({ ...header('auth-proof'), proof: hex(AUTH_PROOF_HEX_LENGTH) }),
  };
  return { messages, sessionConfig, modelSpec: model };
}

export type MessageSchemas = ReturnType<typeof buildMessageSchemas>;
/** The message of each type, as its schema outputs it. */
export type MessageOf<T extends keyof MessageSchemas['messages']> = v.InferOutput<MessageSchemas['messages'][T]>;
/** Everything a session runs with, chosen by the host; sent to each client inside `welcome`. */
export type SessionConfigOf = v.InferOutput<MessageSchemas['sessionConfig']>;

const cache = new WeakMap<WireLimits, MessageSchemas>();

/** The schemas for these limits (built once per limits object). */
export function messageSchemas(limits: WireLimits = WIRE_LIMITS): MessageSchemas {
  let schemas = cache.get(limits);
  if (!schemas) cache.set(limits, (schemas = buildMessageSchemas(limits)));
  return schemas;
}
