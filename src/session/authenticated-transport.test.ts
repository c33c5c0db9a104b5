import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec } from '../fl/codec';
import { InMemoryNetwork, type InMemoryEndpoint } from '../fl/in-memory-transport';
import { PROTOCOL_VERSION, type AuthChallengeMessage, type AuthProofMessage, type Message } from '../fl/protocol';
import { AUTH_CONFIG, AuthenticatedTransport } from './authenticated-transport';
import { hostPeerId } from './session-code';
import { SessionNode } from './session-node';

const SECRET = '5e5510n5ecret0f24hex';
const HOST = 'fedtab-0123456789abcdef0123';

interface Sent {
  from: string;
  to: string;
  message: Message;
}

/** An in-memory network with real wire frames that records every message sent on it. */
function makeNetwork() {
  const sent: Sent[] = [];
  const network = new InMemoryNetwork({ codec: createWireCodec('float32'), tap: (from, to, message) => sent.push({ from, to, message }) });
  return { network, sent };
}

/** Lets timers (message delivery) and WebCrypto (which runs off the event loop) make progress. */
async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await vi.advanceTimersByTimeAsync(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Real timers, taken before the tests fake them: waiting for WebCrypto (off the event loop) takes real time. */
const realSetTimeout = globalThis.setTimeout;
const realNow = () => performance.now();

/**
 * Settles until `condition` holds, for at most 20 s of real time. Fake time advances 1 ms per 2 ms of real
 * waiting, so a slow machine cannot push it past the 10 s handshake timeout while a proof is being computed.
 */
async function until(condition: () => boolean, what: string): Promise<void> {
  const started = realNow();
  while (realNow() - started < 20_000) {
    if (condition()) return;
    await vi.advanceTimersByTimeAsync(1);
    await new Promise<void>((resolve) => realSetTimeout(resolve, 2));
  }
  throw new Error(`never happened: ${what}`);
}

/** Settles until the promise settles (bounded), then returns it. */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await until(() => done, 'the promise to settle');
  return promise;
}

function received(endpoint: AuthenticatedTransport | InMemoryEndpoint): Array<{ from: string; message: Message }> {
  const got: Array<{ from: string; message: Message }> = [];
  endpoint.onMessage((from, message) => got.push({ from, message }));
  return got;
}

const hello = (name: string): Message => ({ type: 'hello', v: PROTOCOL_VERSION, clientName: name, backend: 'cpu', numSamples: 1, labelHistogram: [1] });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('AuthenticatedTransport', () => {
  it('happy path: both sides prove themselves, are admitted both ways, then messages flow both ways', async () => {
    const { network, sent } = makeNetwork();
    const hostInner = network.endpoint(HOST);
    const clientInner = network.endpoint('client-1');
    const host = new AuthenticatedTransport(hostInner, { secret: SECRET });
    const client = new AuthenticatedTransport(clientInner, { secret: SECRET });
    const atHost = received(host);
    const atClient = received(client);

    const connected = client.connect(HOST);
    // Queued until the host has proven itself, then sent after the proof.
    client.send(HOST, hello('ann'));
    await settled(connected);
    await until(() => atHost.length > 0, 'the hello');

    expect(client.isProven(HOST)).toBe(true);
    expect(host.isProven('client-1')).toBe(true);
    expect(clientInner.admitted.has(HOST)).toBe(true);
    expect(hostInner.admitted.has('client-1')).toBe(true);
    expect(atHost).toEqual([{ from: 'client-1', message: hello('ann') }]);
    host.send('client-1', { type: 'error', v: PROTOCOL_VERSION, reason: 'hi' });
    await until(() => atClient.length > 0, 'the answer');
    expect(atClient.map((m) => m.message.type)).toEqual(['error']);
    expect(sent.map((s) => s.message.type)).toEqual(['auth-hello', 'auth-challenge', 'auth-proof', 'hello', 'error']);
    // The secret is never on the wire, in any form the tap can see.
    expect(JSON.stringify(sent)).not.toContain(SECRET);
    expect(host.stats()).toMatchObject({ admitted: 1, rejectedProofs: 0, droppedIncoming: 0 });
  });

  it('a page without WebCrypto (plain-http LAN) authenticates with one that has it, both ways round', async () => {
    const { network } = makeNetwork();
    const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET, useWebCrypto: false });
    const client = new AuthenticatedTransport(network.endpoint('client-1'), { secret: SECRET, useWebCrypto: true });
    await settled(client.connect(HOST));
    await until(() => host.isProven('client-1'), 'the host admits the client');
    const other = new AuthenticatedTransport(network.endpoint('client-2'), { secret: 'wrong', useWebCrypto: false });
    await expect(settled(other.connect(HOST))).rejects.toThrow(/could not prove/);
    expect(host.isProven('client-2')).toBe(false);
  });

  it("a squatter on the host's id, not knowing the secret, gets no hello, no update and no secret; the joiner says why", async () => {
    const { network, sent } = makeNetwork();
    const hostId = await hostPeerId('ABCDEF', SECRET);
    // The real host's signalling socket dropped and a stranger registered its id. It runs the protocol with a guess.
    const squatter = new AuthenticatedTransport(network.endpoint(hostId), { secret: 'guessed-secret' });
    const squatterRaw = received(squatter);
    const joiner = new SessionNode({
      transport: new AuthenticatedTransport(network.endpoint('joiner'), { secret: SECRET }),
      name: 'joiner',
      trainer: () => ({
        info: async () => ({ backend: 'cpu', numSamples: 10, labelHistogram: [10] }),
        train: async () => {
          throw new Error('never trains here');
        },
        evaluate: async () => ({ losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 }),
      }),
    });
    const outcome = joiner.join(hostId).then(
      () => 'joined',
      (e: Error) => e.message,
    );
    expect(await settled(outcome)).toMatch(new RegExp(`${hostId} could not prove that it knows the session secret.*nothing was sent to it`));

    const toSquatter = sent.filter((s) => s.to === hostId);
    expect(toSquatter.map((s) => s.message.type)).toEqual(['auth-hello']);
    expect(JSON.stringify(toSquatter)).not.toContain(SECRET);
    expect(squatterRaw).toEqual([]);
    // The joiner hung up on it.
    expect(network.isCut('joiner', hostId)).toBe(true);
    joiner.leave();
  });

  it('a squatter that never answers times the joiner out, and gets nothing but auth-hellos', async () => {
    const { network, sent } = makeNetwork();
    const squatter = network.endpoint(HOST); // raw: answers nothing
    const client = new AuthenticatedTransport(network.endpoint('client-1'), { secret: SECRET });
    const outcome = client.connect(HOST).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    client.send(HOST, hello('ann'));
    await settle();
    await vi.advanceTimersByTimeAsync(AUTH_CONFIG.handshakeTimeoutMs);
    expect(await outcome).toMatch(/did not prove within 10 s that it knows the session secret/);
    // A later send starts a fresh handshake (the link may have come back) and waits for its proof: still only nonces go out.
    client.send(HOST, hello('ann'));
    await settle();
    expect(sent.filter((s) => s.to === squatter.selfId).map((s) => s.message.type)).toEqual(['auth-hello', 'auth-hello']);
    expect(client.stats()).toMatchObject({ timedOut: 1, droppedOutgoing: 1 });
    await vi.advanceTimersByTimeAsync(AUTH_CONFIG.handshakeTimeoutMs);
    expect(sent.filter((s) => s.to === squatter.selfId).map((s) => s.message.type)).toEqual(['auth-hello', 'auth-hello']);
    expect(client.stats()).toMatchObject({ timedOut: 2, droppedOutgoing: 2 });
  });

  it('a client with the wrong secret is never admitted: it cannot prove itself, and a made-up proof is refused', async () => {
    const { network } = makeNetwork();
    const hostInner = network.endpoint(HOST);
    const host = new AuthenticatedTransport(hostInner, { secret: SECRET });
    const atHost = received(host);

    // Runs the protocol honestly with a wrong secret: the host's proof does not verify for it, so it stops there.
    const wrong = new AuthenticatedTransport(network.endpoint('wrong'), { secret: 'not-the-secret' });
    await expect(settled(wrong.connect(HOST))).rejects.toThrow(/could not prove/);

    // A raw attacker sends a made-up proof, then a hello.
    const attacker = network.endpoint('attacker');
    const atAttacker = received(attacker);
    attacker.send(HOST, { type: 'auth-hello', v: PROTOCOL_VERSION, nonce: 'a'.repeat(32) });
    await until(() => atAttacker.length > 0, 'a challenge');
    expect(atAttacker.map((m) => m.message.type)).toEqual(['auth-challenge']);
    attacker.send(HOST, { type: 'auth-proof', v: PROTOCOL_VERSION, proof: 'b'.repeat(64) });
    attacker.send(HOST, hello('attacker'));
    await until(() => host.stats().rejectedProofs === 1, 'the made-up proof refused');
    await settle();

    // The wrong-secret client's half-open handshake times out on the host.
    await vi.advanceTimersByTimeAsync(AUTH_CONFIG.handshakeTimeoutMs);
    await settle();
    expect(host.isProven('wrong')).toBe(false);
    expect(host.isProven('attacker')).toBe(false);
    expect(hostInner.admitted.size).toBe(0);
    expect(atHost).toEqual([]);
    expect(network.isCut('attacker', HOST)).toBe(true);
    // The wrong-secret client hung up itself, so the host forgot it without waiting for the timeout.
    expect(host.stats()).toMatchObject({ admitted: 0, rejectedProofs: 1 });
  });

  it('replayed proofs fail: to another peer, in another handshake and in the other role', async () => {
    const { network, sent } = makeNetwork();
    const hostInner = network.endpoint(HOST);
    const host = new AuthenticatedTransport(hostInner, { secret: SECRET });
    const atHost = received(host);
    const client = new AuthenticatedTransport(network.endpoint('client-1'), { secret: SECRET });
    await settled(client.connect(HOST));
    await until(() => host.isProven('client-1'), 'the host admits the client');
    const legitProof = sent.find((s) => s.message.type === 'auth-proof')!.message as AuthProofMessage;
    const legitChallenge = sent.find((s) => s.message.type === 'auth-challenge')!.message as AuthChallengeMessage;
    const legitHello = sent.find((s) => s.message.type === 'auth-hello')!.message;

    // 1. Another peer replays the client's hello and proof: the host's new nonce and the other id make it fail.
    const thief = network.endpoint('thief');
    thief.send(HOST, legitHello);
    await settle();
    thief.send(HOST, legitProof);
    await until(() => host.stats().rejectedProofs === 1, 'the stolen proof refused');
    expect(host.isProven('thief')).toBe(false);

    // 2. The host's recorded challenge, replayed by a squatter to a new joiner, does not verify (fresh client nonce).
    const { network: network2 } = makeNetwork();
    const squatter = network2.endpoint(HOST);
    squatter.onMessage((from, m) => {
      if (m.type === 'auth-hello') squatter.send(from, legitChallenge);
    });
    const joiner = new AuthenticatedTransport(network2.endpoint('client-1'), { secret: SECRET });
    await expect(settled(joiner.connect(HOST))).rejects.toThrow(/could not prove/);

    // 3. The other role: a peer reflects the host's own proof back as its client proof.
    const mirror = network.endpoint('mirror');
    const atMirror = received(mirror);
    mirror.send(HOST, { type: 'auth-hello', v: PROTOCOL_VERSION, nonce: 'c'.repeat(32) });
    await settle();
    await until(() => atMirror.length > 0, 'a challenge');
    const challenge = atMirror.find((m) => m.message.type === 'auth-challenge')!.message as AuthChallengeMessage;
    mirror.send(HOST, { type: 'auth-proof', v: PROTOCOL_VERSION, proof: challenge.proof });
    await until(() => host.stats().rejectedProofs === 2, 'the mirrored proof refused');
    expect(host.isProven('mirror')).toBe(false);

    expect(host.stats().rejectedProofs).toBe(2);
    expect(atHost).toEqual([]);
    expect(host.isProven('client-1')).toBe(true);
  });

  it('drops and counts messages from an unproven peer, disconnects it after a few, and sends it nothing', async () => {
    const { network } = makeNetwork();
    const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET });
    const atHost = received(host);
    const pushy = network.endpoint('pushy');
    const atPushy = received(pushy);
    for (let i = 0; i < 20; i++) pushy.send(HOST, hello(`pushy ${i}`));
    host.send('pushy', { type: 'error', v: PROTOCOL_VERSION, reason: 'no' });
    await settle();
    expect(atHost).toEqual([]);
    expect(atPushy).toEqual([]);
    expect(network.isCut('pushy', HOST)).toBe(true);
    expect(host.stats().droppedIncoming).toBe(AUTH_CONFIG.maxUnauthenticatedMessages + 1);
    expect(host.stats().droppedOutgoing).toBe(1);
  });

  it('rate-limits failed handshakes per peer: after the limit no challenge is answered until the window passes', async () => {
    const { network } = makeNetwork();
    const summaries: string[] = [];
    const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET, onSummary: (t) => summaries.push(t) });
    const guesser = network.endpoint('guesser');
    const atGuesser = received(guesser);
    const attempt = async () => {
      await guesser.connect(HOST); // re-open the link the host cut
      const before = host.stats();
      const challenges = atGuesser.length;
      guesser.send(HOST, { type: 'auth-hello', v: PROTOCOL_VERSION, nonce: 'd'.repeat(32) });
      await until(() => atGuesser.length > challenges || host.stats().rateLimited > before.rateLimited, 'an answer to the hello');
      if (atGuesser.length === challenges) return;
      guesser.send(HOST, { type: 'auth-proof', v: PROTOCOL_VERSION, proof: 'e'.repeat(64) });
      await until(() => host.stats().rejectedProofs > before.rejectedProofs, 'the proof refused');
      await settle();
    };
    for (let i = 0; i < AUTH_CONFIG.maxFailuresPerWindow + 3; i++) await attempt();
    expect(atGuesser.filter((m) => m.message.type === 'auth-challenge')).toHaveLength(AUTH_CONFIG.maxFailuresPerWindow);
    expect(host.stats()).toMatchObject({ rejectedProofs: AUTH_CONFIG.maxFailuresPerWindow, rateLimited: 3 });
    // One summary line for the lot, not one per attempt.
    expect(summaries).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(AUTH_CONFIG.failureWindowMs);
    await attempt();
    expect(atGuesser.filter((m) => m.message.type === 'auth-challenge')).toHaveLength(AUTH_CONFIG.maxFailuresPerWindow + 1);
  });

  it('bounds the messages queued for a peer whose handshake is running', async () => {
    const { network, sent } = makeNetwork();
    const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET });
    const atHost = received(host);
    const client = new AuthenticatedTransport(network.endpoint('client-1'), { secret: SECRET, config: { maxQueuedOutgoing: 3 } });
    const connected = client.connect(HOST);
    for (let i = 0; i < 10; i++) client.send(HOST, hello(`m${i}`));
    await settled(connected);
    await until(() => atHost.length === 3, 'three hellos');
    await settle();
    expect(atHost.map((m) => (m.message as { clientName: string }).clientName)).toEqual(['m0', 'm1', 'm2']);
    expect(client.stats().droppedOutgoing).toBe(7);
    expect(sent.filter((s) => s.message.type === 'hello')).toHaveLength(3);
  });

  it('forgets a proven peer when it leaves: it must prove itself again, and the session hears it left', async () => {
    const { network } = makeNetwork();
    const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET });
    const left: string[] = [];
    host.onPeerLeft((p) => left.push(p));
    const clientInner = network.endpoint('client-1');
    const client = new AuthenticatedTransport(clientInner, { secret: SECRET });
    await settled(client.connect(HOST));
    await until(() => host.isProven('client-1'), 'the host admits the client');
    // An unproven peer that leaves is nobody the session knows.
    network.endpoint('stranger').send(HOST, hello('x'));
    network.disconnect('stranger');
    network.disconnect('client-1');
    await settle();
    expect(left).toEqual(['client-1']);
    expect(host.isProven('client-1')).toBe(false);
  });

  it('after a link drops, sending to the peer again authenticates anew and then delivers (election traffic after a flap)', async () => {
    const { network } = makeNetwork();
    const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET });
    const received: string[] = [];
    host.onMessage((from, m) => received.push(`${from}:${m.type}`));
    const client = new AuthenticatedTransport(network.endpoint('client-1'), { secret: SECRET });
    await settled(client.connect(HOST));
    network.cutLink('client-1', HOST);
    await settle();
    expect(client.isProven(HOST)).toBe(false);
    network.restoreLink('client-1', HOST);
    client.send(HOST, hello('ann'));
    await until(() => received.includes('client-1:hello'), 'the host receives the hello sent after the link came back');
    expect(client.isProven(HOST)).toBe(true);
  });
});
