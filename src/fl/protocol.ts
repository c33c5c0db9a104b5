/**
 * The protocol's messages. Their shapes are defined once, as valibot schemas in ./codec/schema.ts; the types here
 * are derived from those schemas (and validateMessage runs the same schemas), so a message or field is added there.
 */
import type { TrainOverrides } from './strategies/types';
import type { DECOMPOSITION_MODES, MessageOf, SESSION_PHASES, SessionConfigOf, WEIGHT_CODEC_CHOICES } from './codec/schema';

export { AUTH_NONCE_HEX_LENGTH, AUTH_PROOF_HEX_LENGTH, PROTOCOL_VERSION } from './protocol-constants';

export type HelloMessage = MessageOf<'hello'>;
export type RoundStartMessage = MessageOf<'round-start'>;
export type UpdateMessage = MessageOf<'update'>;
/** A selected client's share of its local training done, for the aggregator's peers table. */
export type ProgressMessage = MessageOf<'progress'>;
/** Asks a client for plain-CE losses of the given models on its own evaluation subset. */
export type EvalRequestMessage = MessageOf<'eval-request'>;
export type EvalResultMessage = MessageOf<'eval-result'>;
export type RoundResultMessage = MessageOf<'round-result'>;
export type ByeMessage = MessageOf<'bye'>;
export type ErrorMessage = MessageOf<'error'>;
/** The connecting side's opening: its fresh nonce. */
export type AuthHelloMessage = MessageOf<'auth-hello'>;
/** The answering side's fresh nonce and its proof (role 'host') over both nonces and both peer ids. */
export type AuthChallengeMessage = MessageOf<'auth-challenge'>;
/** The connecting side's proof (role 'client') over both nonces and both peer ids. */
export type AuthProofMessage = MessageOf<'auth-proof'>;
/** The aggregator's answer to an admitted hello. */
export type WelcomeMessage = MessageOf<'welcome'>;

export type RedirectMessage = MessageOf<'redirect'>;

/** A finished round as every member may know it (late joiners get these in their welcome). */
export type RoundSummary = NonNullable<WelcomeMessage['history']>[number];

export { CLIENT_KEY_MAX_LENGTH, WELCOME_HISTORY_MAX } from './codec/schema';
/**
 * Who is in the session, in join order, and who aggregates in which term. Broadcast on every change and as the
 * aggregator's heartbeat. Sent by the current aggregator with another aggregatorId and a higher term, it says
 * "I stepped down: follow that one".
 */
export type RosterMessage = MessageOf<'roster'>;
/** Counts only, and only in the aggregator's own view: rosters sent to peers carry an empty labelHistogram. */
export type RosterEntry = RosterMessage['peers'][number];
/** The latest global model and the strategy's server state, sent after each round to the clients next in line to aggregate. */
export type CheckpointMessage = MessageOf<'checkpoint'>;
/** The deterministic successor asks to aggregate in `term` because the aggregator of the term before went silent. */
export type VoteRequestMessage = MessageOf<'vote-request'>;
/** Answer to a vote-request: granted only when this peer also lost the previous aggregator. */
export type VoteMessage = MessageOf<'vote'>;

/** Where the session stands, replicated by the aggregator of a term to every member (src/session/session-record.ts). */
export type SessionStateMessage = MessageOf<'session-state'>;
export type SessionPhase = (typeof SESSION_PHASES)[number];
/** The host tab, back after a reload, asks the aggregator for control with the next link of its key (src/session/host-key.ts). */
export type ReclaimMessage = MessageOf<'reclaim'>;
/** The aggregator hands control to the host that reclaimed it. */
export type HandbackMessage = MessageOf<'handback'>;

/** A client's step of a secure-aggregation round: its keys, its sealed shares, its masked input, its revealed shares. */
export type SecAggMessage = MessageOf<'secagg'>;
/** The aggregator's step of a secure-aggregation round: the setup, the shares routed to the client, the unmask request. */
export type SecAggRoundMessage = MessageOf<'secagg-round'>;
/** How a client builds its contribution in a private session (round-start). */
export type ContributionSpecWire = NonNullable<RoundStartMessage['privacy']>;

/** Hyper-parameters of one round of local training. */
export type TrainConfig = RoundStartMessage['train'];

/** A strategy's training overrides are exactly the train config less its seed (a compile-time check, both ways). */
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const trainOverridesMatch: SameKeys<TrainOverrides, Partial<Omit<TrainConfig, 'seed'>>> = true;
void trainOverridesMatch;
export type LocalMetrics = UpdateMessage['metrics'];
export type DecompositionMode = (typeof DECOMPOSITION_MODES)[number];
export type WeightCodecChoice = (typeof WEIGHT_CODEC_CHOICES)[number];
/** Everything a session runs with, chosen by the host; sent to each client on joining. */
export type SessionConfig = SessionConfigOf;

export type Message =
  | HelloMessage
  | WelcomeMessage
  | RedirectMessage
  | RosterMessage
  | CheckpointMessage
  | VoteRequestMessage
  | VoteMessage
  | SessionStateMessage
  | ReclaimMessage
  | HandbackMessage
  | RoundStartMessage
  | UpdateMessage
  | ProgressMessage
  | EvalRequestMessage
  | EvalResultMessage
  | SecAggMessage
  | SecAggRoundMessage
  | RoundResultMessage
  | ByeMessage
  | ErrorMessage
  | AuthHelloMessage
  | AuthChallengeMessage
  | AuthProofMessage;

export type MessageType = Message['type'];
