/**
 * Where each protocol message goes: one row per message type (the types come from the schemas, see ./protocol.ts).
 * The transport's admission gate, the authenticated transport, the session's term check, the engine's and the
 * client's views of the network all read this table instead of keeping their own lists. A message type without a
 * row does not compile (`satisfies Record<MessageType, Route>`), and neither does a switch that misses a type the
 * table gives its handler (MessageFor and assertNever).
 */
import type { Message, MessageType } from './protocol';

/** Which way a message goes: from the aggregator to its clients, from a client to its aggregator, or either way. */
export type Direction = 'aggregator->client' | 'client->aggregator' | 'any';

/**
 * Who may send it. 'aggregator': an aggregator, of the receiver's current term for what the FL client gets (forClient
 * in src/session drops the rest); the session node checks its own ones case by case, since a roster or welcome of a
 * later term is how a new aggregator makes itself known. 'member': a peer the session admitted (it proved it knows
 * the join secret). 'stranger': any peer, admitted or not.
 */
export type Sender = 'aggregator' | 'member' | 'stranger';

/**
 * The term a message carries. 'none': no term. 'sender': the term its sender is in; the receiver drops it when that
 * term is older than its own. 'stamped': the same, but the round engine sends it without one and the session stamps
 * the term that engine aggregates in. 'election': the term a vote is about; the election judges it, so it is never
 * dropped as stale.
 */
export type TermRule = 'none' | 'sender' | 'stamped' | 'election';

/**
 * Who handles it on the receiving tab. 'auth': the authenticated transport (the join handshake); 'session': the
 * session node (membership, election, records); 'engine': the round engine of the aggregating tab; 'client': the
 * tab's FL client (trains and evaluates).
 */
export type Handler = 'auth' | 'session' | 'engine' | 'client';

export interface Route {
  direction: Direction;
  from: Sender;
  /**
   * May cross a connection whose peer the transport has not admitted yet (both ways). The handshake's messages must;
   * hello, bye and error may, because the answering side gets the joiner's first messages right behind its proof,
   * while it still checks that proof (the authenticated transport holds them until the proof is checked).
   */
  beforeAdmission: boolean;
  term: TermRule;
  handlers: readonly Handler[];
}

export const ROUTES = {
  'auth-hello': { direction: 'any', from: 'stranger', beforeAdmission: true, term: 'none', handlers: ['auth'] },
  'auth-challenge': { direction: 'any', from: 'stranger', beforeAdmission: true, term: 'none', handlers: ['auth'] },
  'auth-proof': { direction: 'any', from: 'stranger', beforeAdmission: true, term: 'none', handlers: ['auth'] },
  hello: { direction: 'client->aggregator', from: 'member', beforeAdmission: true, term: 'none', handlers: ['session', 'engine'] },
  welcome: { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  redirect: { direction: 'aggregator->client', from: 'member', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  roster: { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  checkpoint: { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  'session-state': { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  reclaim: { direction: 'client->aggregator', from: 'member', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  handback: { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'sender', handlers: ['session'] },
  'vote-request': { direction: 'any', from: 'member', beforeAdmission: false, term: 'election', handlers: ['session'] },
  vote: { direction: 'any', from: 'member', beforeAdmission: false, term: 'election', handlers: ['session'] },
  'round-start': { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'stamped', handlers: ['session', 'client'] },
  'eval-request': { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'none', handlers: ['session', 'client'] },
  'round-result': { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'stamped', handlers: ['session', 'client'] },
  update: { direction: 'client->aggregator', from: 'member', beforeAdmission: false, term: 'none', handlers: ['engine'] },
  progress: { direction: 'client->aggregator', from: 'member', beforeAdmission: false, term: 'none', handlers: ['engine'] },
  'eval-result': { direction: 'client->aggregator', from: 'member', beforeAdmission: false, term: 'none', handlers: ['engine'] },
  secagg: { direction: 'client->aggregator', from: 'member', beforeAdmission: false, term: 'none', handlers: ['engine'] },
  'secagg-round': { direction: 'aggregator->client', from: 'aggregator', beforeAdmission: false, term: 'none', handlers: ['client'] },
  bye: { direction: 'any', from: 'member', beforeAdmission: true, term: 'sender', handlers: ['session', 'engine'] },
  error: { direction: 'any', from: 'member', beforeAdmission: true, term: 'none', handlers: ['session', 'engine', 'client'] },
} as const satisfies Record<MessageType, Route>;

type Routes = typeof ROUTES;

/** The message types a handler gets. */
export type TypesFor<H extends Handler> = { [T in MessageType]: H extends Routes[T]['handlers'][number] ? T : never }[MessageType];
/** The messages a handler gets: a switch over them ending in assertNever must have a case for each. */
export type MessageFor<H extends Handler> = Extract<Message, { type: TypesFor<H> }>;

export function routeOf(type: MessageType): Route {
  return ROUTES[type];
}

/** Whether the table gives this message to `handler`. */
export function isFor<H extends Handler>(message: Message, handler: H): message is MessageFor<H> {
  return routeOf(message.type).handlers.includes(handler);
}

/** Whether a message of this type may cross a connection whose peer is not admitted (unknown types may not). */
export function allowedBeforeAdmission(type: string): boolean {
  return Object.hasOwn(ROUTES, type) && ROUTES[type as MessageType].beforeAdmission;
}

/** The term a receiver compares with its own (and drops the message when it is older), or undefined when none. */
export function termToCheck(message: Message): number | undefined {
  const rule = routeOf(message.type).term;
  if (rule !== 'sender' && rule !== 'stamped') return undefined;
  return 'term' in message ? message.term : undefined;
}

/** The message as it leaves an engine aggregating in `term`: stamped when the table says so, else unchanged. */
export function stampTerm(message: Message, term: number): Message {
  // Every stamped type has a term field: the routing test checks the table against the schemas.
  return routeOf(message.type).term === 'stamped' ? ({ ...message, term } as Message) : message;
}
