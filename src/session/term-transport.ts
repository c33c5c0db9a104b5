import type { Message } from '../fl/protocol';
import { isFor, routeOf, stampTerm } from '../fl/routing';
import type { Transport } from '../fl/transport';

/**
 * The engine's view of the network: only the messages the routing table gives the engine come in, and those it
 * sends that the table has stamped carry the term the engine aggregates in. The term is fixed per engine, so a round
 * that finishes after its engine was replaced goes out with the old term and is ignored as stale.
 */
export function engineTransport(face: Transport, term: number): Transport {
  // The same message to several peers stays one object (so the transport below encodes it once).
  const withTerm = new WeakMap<Message, Message>();
  const stamped = (m: Message): Message => {
    const cached = withTerm.get(m);
    if (cached) return cached;
    const out = stampTerm(m, term);
    if (out !== m) withTerm.set(m, out);
    return out;
  };
  return {
    selfId: face.selfId,
    send: (to, m) => face.send(to, stamped(m)),
    onMessage: (handler) => face.onMessage((from, m) => isFor(m, 'engine') && handler(from, m)),
    onPeerLeft: (handler) => face.onPeerLeft(handler),
  };
}

/** Who aggregates in this tab's current term (the election knows). */
export interface CurrentAggregator {
  readonly aggregatorId: string | null;
  /** Whether `from` aggregates in the current term and `term` is that term. */
  isCurrent(from: string, term: number | undefined): boolean;
}

/**
 * The gate in front of the local FL client: only what the routing table gives the client, and what the table says
 * only this term's aggregator sends only from that aggregator (and of that term, when the message carries one).
 */
export function forClient(from: string, m: Message, current: CurrentAggregator): boolean {
  if (!isFor(m, 'client')) return false;
  const route = routeOf(m.type);
  if (route.from !== 'aggregator') return true;
  if (route.term === 'none') return from === current.aggregatorId;
  return current.isCurrent(from, 'term' in m ? m.term : undefined);
}

/** A transport whose incoming messages are first checked by `accept` (the client's gate, forClient). */
export function gatedTransport(face: Transport, accept: (from: string, m: Message) => boolean): Transport {
  return {
    selfId: face.selfId,
    send: (to, m) => face.send(to, m),
    onMessage: (handler) => face.onMessage((from, m) => accept(from, m) && handler(from, m)),
    onPeerLeft: (handler) => face.onPeerLeft(handler),
  };
}
