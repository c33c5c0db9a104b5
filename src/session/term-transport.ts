import type { Message } from '../fl/protocol';
import type { Transport } from '../fl/transport';

/** The messages the round engine itself handles; everything else is for the session layer. */
const ENGINE_MESSAGES: ReadonlySet<Message['type']> = new Set(['hello', 'update', 'progress', 'eval-result', 'bye', 'error']);

/**
 * The engine's view of the network: only engine messages come in, and the round messages it sends carry the term
 * the engine aggregates in. The term is fixed per engine, so a round that finishes after its engine was replaced
 * goes out with the old term and is ignored as stale.
 */
export function engineTransport(face: Transport, term: number): Transport {
  // The same message to several peers stays one object (so the transport below encodes it once).
  const withTerm = new WeakMap<Message, Message>();
  const stamped = (m: Message): Message => {
    if (m.type !== 'round-start' && m.type !== 'round-result') return m;
    let out = withTerm.get(m);
    if (!out) withTerm.set(m, (out = { ...m, term }));
    return out;
  };
  return {
    selfId: face.selfId,
    send: (to, m) => face.send(to, stamped(m)),
    onMessage: (handler) => face.onMessage((from, m) => ENGINE_MESSAGES.has(m.type) && handler(from, m)),
    onPeerLeft: (handler) => face.onPeerLeft(handler),
  };
}

/** A transport whose incoming messages are first checked by `accept` (the client's term gate). */
export function gatedTransport(face: Transport, accept: (from: string, m: Message) => boolean): Transport {
  return {
    selfId: face.selfId,
    send: (to, m) => face.send(to, m),
    onMessage: (handler) => face.onMessage((from, m) => accept(from, m) && handler(from, m)),
    onPeerLeft: (handler) => face.onPeerLeft(handler),
  };
}
