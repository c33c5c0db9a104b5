/**
 * Mutual authentication of session peers without ever sending the join secret.
 *
 * Wraps a SessionTransport. No application message reaches or leaves a peer until a challenge-response has
 * succeeded on that peer:
 *
 *   connecting side (client role)            answering side (host role)
 *   auth-hello {nonceC}                 ->
 *                                       <-   auth-challenge {nonceH, proofH}
 *   checks proofH, then
 *   auth-proof {proofC}                 ->   checks proofC, then admits
 *
 * WebCrypto (crypto.subtle) where the page has it; plain-http LAN pages have not, and use src/session/sha256.ts.
 * proofX = HMAC-SHA-256(key = join secret, "fedtab-auth-v1" | role X | clientId | hostId | nonceC | nonceH).
 * Both nonces are fresh per handshake and both peer ids are bound in, so a proof replayed to another handshake,
 * another peer or the other role fails. The connecting side checks the answering side first, so a stranger who
 * squats on the host's peer id learns nothing but a nonce: connect() rejects and no hello, update or secret is
 * ever sent to it. The answering side's proof is an HMAC under a 96-bit random secret: no help for guessing it.
 *
 * Hostile input is bounded: per-peer queues (outgoing while a handshake runs, incoming while a proof is being
 * checked), a cap on concurrent handshakes, on tracked peers, on unauthenticated messages before disconnect,
 * and a per-peer limit on failed handshakes per window. Failures are counted, never logged one by one.
 */
import {
  AUTH_NONCE_HEX_LENGTH,
  PROTOCOL_VERSION,
  type AuthChallengeMessage,
  type AuthHelloMessage,
  type AuthProofMessage,
  type Message,
} from '../fl/protocol';
import { assertNever } from '../fl/exhaustive';
import { isFor, type MessageFor } from '../fl/routing';
import type { SessionTransport } from './session-transport';
import { hmacSha256Key, type HmacKey } from './sha256';

export const AUTH_CONFIG = {
  /** A handshake (either side) that has not succeeded within this time fails. */
  handshakeTimeoutMs: 10_000,
  /** Application messages held for a peer while its handshake runs; more are dropped. */
  maxQueuedOutgoing: 64,
  /** Application messages held from a peer while its proof is being checked; more are dropped. */
  maxQueuedIncoming: 64,
  /** Answering handshakes in progress at once; further auth-hellos are refused. */
  maxPendingHandshakes: 64,
  /** Peers whose state is kept at once (handshakes, counters); beyond it unknown peers are disconnected. */
  maxTrackedPeers: 1024,
  /** Non-auth messages an unauthenticated peer may send before it is disconnected. */
  maxUnauthenticatedMessages: 8,
  /** Failed handshakes allowed per peer within failureWindowMs; then its auth-hellos are refused. */
  maxFailuresPerWindow: 3,
  failureWindowMs: 60_000,
  /** At most one summary of refused peers is reported per this interval. */
  summaryIntervalMs: 60_000,
} as const;

export type AuthConfig = { -readonly [K in keyof typeof AUTH_CONFIG]: number };

export interface AuthStats {
  /** Handshakes that succeeded (either side). */
  admitted: number;
  /** Proofs that did not verify (answering or connecting side). */
  rejectedProofs: number;
  /** Handshakes that ran out of time. */
  timedOut: number;
  /** auth-hellos refused for too many failures, too many concurrent handshakes or too many tracked peers. */
  rateLimited: number;
  /** Non-auth messages received from peers that had not proven themselves. */
  droppedIncoming: number;
  /** Application messages not sent because the peer had not proven itself (or its queue was full). */
  droppedOutgoing: number;
  /** Auth messages that made no sense in the peer's state (unexpected challenge or proof). */
  unexpected: number;
}

export interface AuthenticatedTransportOptions {
  /** The join secret. Used only as an HMAC key; never sent. */
  secret: string;
  config?: Partial<AuthConfig>;
  /** A throttled summary of refused peers (at most one per summaryIntervalMs). */
  onSummary?: (text: string) => void;
  /** Default: whether the page has crypto.subtle (plain-http LAN pages have not). */
  useWebCrypto?: boolean;
}

type Handler = (from: string, message: Message) => void;
type LeftHandler = (peerId: string) => void;

interface Outgoing {
  nonce: string;
  resolve(): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Set while the challenge's proof is being checked. */
  checking: boolean;
  promise: Promise<void>;
}

interface Incoming {
  clientNonce: string;
  hostNonce: string;
  timer: ReturnType<typeof setTimeout>;
  /** Set while the client's proof is being checked: its next messages wait in the incoming queue. */
  checking: boolean;
}

interface PeerState {
  proven: boolean;
  outgoing: Outgoing | null;
  incoming: Incoming | null;
  outQueue: Message[];
  inQueue: Message[];
  unauthenticated: number;
}

const ENCODER = new TextEncoder();
function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function randomNonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(AUTH_NONCE_HEX_LENGTH / 2)));
}

type Role = 'host' | 'client';

/** The bytes a proof covers. Ids are length-prefixed so no two different tuples give the same bytes. */
function proofInput(role: Role, clientId: string, hostId: string, clientNonce: string, hostNonce: string): Uint8Array<ArrayBuffer> {
  const parts = ['fedtab-auth-v1', role, clientId, hostId, clientNonce, hostNonce];
  return ENCODER.encode(parts.map((p) => `${p.length}:${p}`).join('|')) as Uint8Array<ArrayBuffer>;
}

export class AuthenticatedTransport implements SessionTransport {
  readonly selfId: string;
  private readonly config: AuthConfig;
  private readonly key: HmacKey;
  private readonly peers = new Map<string, PeerState>();
  private readonly failures = new Map<string, number[]>();
  private readonly handlers = new Set<Handler>();
  private readonly leftHandlers = new Set<LeftHandler>();
  private readonly unsubscribe: Array<() => void>;
  private readonly counters: AuthStats = { admitted: 0, rejectedProofs: 0, timedOut: 0, rateLimited: 0, droppedIncoming: 0, droppedOutgoing: 0, unexpected: 0 };
  private lastSummaryAt = -Infinity;
  private reportedRefusals = 0;
  private closed = false;

  constructor(
    private readonly inner: SessionTransport,
    private readonly options: AuthenticatedTransportOptions,
  ) {
    if (!options.secret) throw new Error('AuthenticatedTransport: the join secret is empty');
    this.selfId = inner.selfId;
    this.config = { ...AUTH_CONFIG, ...options.config };
    this.key = hmacSha256Key(options.secret, options.useWebCrypto);
    this.unsubscribe = [inner.onMessage((from, m) => this.receive(from, m)), inner.onPeerLeft((peer) => this.peerLeft(peer))];
  }

  /** Whether the peer has proven it knows the join secret (and not left since). */
  isProven(peerId: string): boolean {
    return this.peers.get(peerId)?.proven ?? false;
  }

  stats(): AuthStats {
    return { ...this.counters };
  }

  /**
   * Connects and authenticates. Resolves once the peer has proven it knows the secret (at once if it has);
   * rejects, and disconnects, if it cannot prove it in time. Nothing but auth-hello and auth-proof is sent before.
   */
  connect(peerId: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('AuthenticatedTransport is closed'));
    const state = this.stateOf(peerId, true);
    if (!state) return Promise.reject(new Error(`cannot authenticate ${peerId}: too many peers at once`));
    if (state.proven) return Promise.resolve();
    if (state.outgoing) return state.outgoing.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const nonce = randomNonce();
    // The clock runs from now: the connection and the handshake together get handshakeTimeoutMs.
    const timer = setTimeout(() => {
      this.counters.timedOut++;
      this.failOutgoing(peerId, `${peerId} did not prove within ${this.config.handshakeTimeoutMs / 1000} s that it knows the session secret`);
    }, this.config.handshakeTimeoutMs);
    const outgoing: Outgoing = { nonce, resolve, reject, timer, checking: false, promise };
    state.outgoing = outgoing;
    this.inner.connect(peerId).then(
      () => {
        if (this.peers.get(peerId)?.outgoing !== outgoing) return;
        this.inner.send(peerId, { type: 'auth-hello', v: PROTOCOL_VERSION, nonce } satisfies AuthHelloMessage);
      },
      (error: unknown) => {
        if (this.peers.get(peerId)?.outgoing !== outgoing) return;
        this.forget(peerId, error instanceof Error ? error.message : String(error));
      },
    );
    return promise;
  }

  send(to: string, message: Message): void {
    if (this.closed) return;
    if (isFor(message, 'auth')) throw new Error('AuthenticatedTransport: auth messages are its own business');
    const state = this.peers.get(to);
    if (state?.proven) {
      this.inner.send(to, message);
      return;
    }
    // Not (or no longer, e.g. after a link dropped) authenticated with this peer: authenticate first, deliver after.
    // The message waits in the bounded queue and is dropped if the peer cannot prove it knows the secret.
    if (!state || !(state.outgoing || state.incoming)) this.connect(to).catch(() => undefined);
    const pending = this.peers.get(to);
    if (pending && (pending.outgoing || pending.incoming) && pending.outQueue.length < this.config.maxQueuedOutgoing) {
      pending.outQueue.push(message);
      return;
    }
    this.counters.droppedOutgoing++;
  }

  onMessage(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onPeerLeft(handler: LeftHandler): () => void {
    this.leftHandlers.add(handler);
    return () => this.leftHandlers.delete(handler);
  }

  trafficTotals(): { bytesSent: number; bytesReceived: number } {
    return this.inner.trafficTotals();
  }

  /** Admission is this wrapper's own decision; calling it from outside is a mistake. */
  admit(peerId: string): void {
    throw new Error(`AuthenticatedTransport admits peers only after their proof (asked to admit ${peerId})`);
  }

  setMessageLimit(bytes: number, objects?: number): void {
    this.inner.setMessageLimit(bytes, objects);
  }

  disconnect(peerId: string): void {
    this.inner.disconnect(peerId);
  }

  /** Stops listening and fails pending handshakes. The inner transport stays open (its owner closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe.forEach((u) => u());
    for (const peerId of [...this.peers.keys()]) this.forget(peerId, 'the transport was closed');
  }

  // ---- internals ---------------------------------------------------------------------------------

  private stateOf(peerId: string, create: boolean): PeerState | null {
    let state = this.peers.get(peerId);
    if (!state && create) {
      if (this.peers.size >= this.config.maxTrackedPeers) return null;
      state = { proven: false, outgoing: null, incoming: null, outQueue: [], inQueue: [], unauthenticated: 0 };
      this.peers.set(peerId, state);
    }
    return state ?? null;
  }

  private receive(from: string, message: Message): void {
    if (this.closed) return;
    if (isFor(message, 'auth')) {
      void this.onAuth(from, message);
      return;
    }
    const state = this.peers.get(from);
    if (state?.proven) {
      this.deliver(from, message);
      return;
    }
    // The proof before this message is still being checked: hold it (bounded), in order.
    if (state && (state.incoming?.checking || state.outgoing?.checking)) {
      if (state.inQueue.length < this.config.maxQueuedIncoming) state.inQueue.push(message);
      else this.counters.droppedIncoming++;
      return;
    }
    this.counters.droppedIncoming++;
    this.strike(from);
  }

  /** One more message out of place from a peer that has not proven itself; too many and it is disconnected. */
  private strike(from: string): void {
    const state = this.peers.get(from) ?? this.stateOf(from, true);
    if (state?.proven) return;
    if (!state || ++state.unauthenticated > this.config.maxUnauthenticatedMessages) {
      this.refuse(from, `${from} sent messages without proving that it knows the session secret`);
    }
  }

  private deliver(from: string, message: Message): void {
    for (const h of [...this.handlers]) h(from, message);
  }

  private async onAuth(from: string, message: MessageFor<'auth'>): Promise<void> {
    switch (message.type) {
      case 'auth-hello':
        return this.onHello(from, message);
      case 'auth-challenge':
        return this.onChallenge(from, message);
      case 'auth-proof':
        return this.onProof(from, message);
      default:
        return assertNever(message, 'auth message');
    }
  }

  /** Answering side: a peer wants in. */
  private async onHello(from: string, message: AuthHelloMessage): Promise<void> {
    if (this.recentFailures(from) >= this.config.maxFailuresPerWindow || this.pendingIncoming() >= this.config.maxPendingHandshakes) {
      this.counters.rateLimited++;
      this.refuse(from, `${from} is refused for now: too many handshakes`);
      return;
    }
    const state = this.stateOf(from, true);
    if (!state) {
      this.counters.rateLimited++;
      this.refuse(from, `${from} is refused for now: too many peers`);
      return;
    }
    if (state.incoming) {
      // One answering handshake per peer at a time.
      this.counters.unexpected++;
      this.strike(from);
      return;
    }
    // A new hello from a proven peer starts over: it is no longer trusted until it proves itself again.
    state.proven = false;
    const hostNonce = randomNonce();
    const timer = setTimeout(() => {
      this.counters.timedOut++;
      this.failIncoming(from);
    }, this.config.handshakeTimeoutMs);
    state.incoming = { clientNonce: message.nonce, hostNonce, timer, checking: false };
    const incoming = state.incoming;
    const proof = await this.sign(proofInput('host', from, this.selfId, message.nonce, hostNonce));
    if (this.peers.get(from)?.incoming !== incoming) return; // gone or restarted meanwhile
    this.inner.send(from, { type: 'auth-challenge', v: PROTOCOL_VERSION, nonce: hostNonce, proof } satisfies AuthChallengeMessage);
  }

  /** Connecting side: the peer answered; it must prove it knows the secret before we prove anything. */
  private async onChallenge(from: string, message: AuthChallengeMessage): Promise<void> {
    const state = this.peers.get(from);
    const outgoing = state?.outgoing;
    if (!state || !outgoing || outgoing.checking) {
      this.counters.unexpected++;
      this.strike(from);
      return;
    }
    outgoing.checking = true;
    const ok = await this.verify(message.proof, proofInput('host', this.selfId, from, outgoing.nonce, message.nonce));
    if (this.peers.get(from)?.outgoing !== outgoing) return;
    if (!ok) {
      this.counters.rejectedProofs++;
      this.failOutgoing(from, `${from} could not prove that it knows the session secret: it is not this session's tab (or the secret is wrong); nothing was sent to it`);
      return;
    }
    const proof = await this.sign(proofInput('client', this.selfId, from, outgoing.nonce, message.nonce));
    if (this.peers.get(from)?.outgoing !== outgoing) return;
    this.inner.send(from, { type: 'auth-proof', v: PROTOCOL_VERSION, proof } satisfies AuthProofMessage);
    clearTimeout(outgoing.timer);
    state.outgoing = null;
    this.succeed(from, state);
    outgoing.resolve();
  }

  /** Answering side: the connecting peer's proof. */
  private async onProof(from: string, message: AuthProofMessage): Promise<void> {
    const state = this.peers.get(from);
    const incoming = state?.incoming;
    if (!state || !incoming || incoming.checking) {
      this.counters.unexpected++;
      this.strike(from);
      return;
    }
    incoming.checking = true;
    const ok = await this.verify(message.proof, proofInput('client', from, this.selfId, incoming.clientNonce, incoming.hostNonce));
    if (this.peers.get(from)?.incoming !== incoming) return;
    if (!ok) {
      this.counters.rejectedProofs++;
      this.failIncoming(from);
      return;
    }
    clearTimeout(incoming.timer);
    state.incoming = null;
    this.succeed(from, state);
  }

  private succeed(peerId: string, state: PeerState): void {
    state.proven = true;
    state.unauthenticated = 0;
    this.counters.admitted++;
    this.inner.admit(peerId);
    const out = state.outQueue.splice(0);
    for (const m of out) this.inner.send(peerId, m);
    const held = state.inQueue.splice(0);
    for (const m of held) this.deliver(peerId, m);
  }

  private failOutgoing(peerId: string, reason: string): void {
    const outgoing = this.peers.get(peerId)?.outgoing;
    if (!outgoing) return;
    this.forget(peerId, reason);
    this.inner.disconnect(peerId);
  }

  private failIncoming(peerId: string): void {
    this.recordFailure(peerId);
    this.forget(peerId, 'authentication failed');
    this.inner.disconnect(peerId);
    this.summarise();
  }

  /** Refuses a peer without a handshake: disconnect, counted; no log line of its own. */
  private refuse(peerId: string, reason: string): void {
    const state = this.peers.get(peerId);
    if (state?.proven) return;
    this.forget(peerId, reason);
    this.inner.disconnect(peerId);
    this.summarise();
  }

  /** Drops everything known about a peer; pending connect() calls reject with `reason`. */
  private forget(peerId: string, reason: string): void {
    const state = this.peers.get(peerId);
    if (!state) return;
    this.peers.delete(peerId);
    this.counters.droppedOutgoing += state.outQueue.length;
    this.counters.droppedIncoming += state.inQueue.length;
    if (state.incoming) clearTimeout(state.incoming.timer);
    if (state.outgoing) {
      clearTimeout(state.outgoing.timer);
      state.outgoing.reject(new Error(reason));
    }
  }

  private peerLeft(peerId: string): void {
    const wasProven = this.peers.get(peerId)?.proven ?? false;
    this.forget(peerId, `connection with ${peerId} closed before it proved that it knows the session secret`);
    if (wasProven && !this.closed) for (const h of [...this.leftHandlers]) h(peerId);
  }

  private pendingIncoming(): number {
    let n = 0;
    for (const s of this.peers.values()) if (s.incoming) n++;
    return n;
  }

  private recentFailures(peerId: string): number {
    const now = Date.now();
    const list = (this.failures.get(peerId) ?? []).filter((t) => now - t < this.config.failureWindowMs);
    if (list.length) this.failures.set(peerId, list);
    else this.failures.delete(peerId);
    return list.length;
  }

  private recordFailure(peerId: string): void {
    const list = [...(this.failures.get(peerId) ?? []), Date.now()].slice(-this.config.maxFailuresPerWindow);
    this.failures.delete(peerId); // re-insert: the map's order is the order of last failure
    this.failures.set(peerId, list);
    while (this.failures.size > this.config.maxTrackedPeers) this.failures.delete(this.failures.keys().next().value!);
  }

  private summarise(): void {
    const now = Date.now();
    if (!this.options.onSummary || now - this.lastSummaryAt < this.config.summaryIntervalMs) return;
    const refused = this.counters.rejectedProofs + this.counters.rateLimited + this.counters.timedOut;
    if (refused === this.reportedRefusals) return;
    this.lastSummaryAt = now;
    const text = `refused ${refused - this.reportedRefusals} connection(s) that could not prove they know the session secret`;
    this.reportedRefusals = refused;
    this.options.onSummary(text);
  }

  private async sign(data: Uint8Array<ArrayBuffer>): Promise<string> {
    return toHex(await this.key.sign(data));
  }

  /** Constant-time comparison (WebCrypto's verify, or equalBytes); the proof must be well-formed hex. */
  private async verify(proofHex: string, data: Uint8Array<ArrayBuffer>): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(proofHex)) return false;
    return this.key.verify(fromHex(proofHex), data);
  }
}
