import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MESSAGE_TYPES } from '../fl/codec/validate';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import type { Message } from '../fl/protocol';
import { routeOf } from '../fl/routing';
import { oneSmallMessageOfEachType } from '../fl/testing/one-of-each';
import { AuthenticatedTransport } from './authenticated-transport';

const samples = oneSmallMessageOfEachType();
const HOST = 'host';

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await vi.advanceTimersByTimeAsync(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A host behind an AuthenticatedTransport and a stranger (no handshake) sending it one message. */
async function strangerSends(m: Message) {
  const sent: Array<{ from: string; message: Message }> = [];
  const network = new InMemoryNetwork({ tap: (from, _to, message) => sent.push({ from, message }) });
  const host = new AuthenticatedTransport(network.endpoint(HOST), { secret: 'the-join-secret', useWebCrypto: false });
  const delivered: Message[] = [];
  host.onMessage((_, message) => delivered.push(message));
  network.endpoint('stranger').send(HOST, m);
  await settle();
  host.close();
  return { delivered, stats: host.stats(), answers: sent.filter((s) => s.from === HOST).map((s) => s.message.type) };
}

describe('AuthenticatedTransport follows the routing table', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const type of MESSAGE_TYPES) {
    const auth = routeOf(type).handlers.includes('auth');
    it(`${type} from a peer that has not proven itself is ${auth ? "the handshake's own business" : 'dropped and counted'}, never delivered`, async () => {
      const { delivered, stats, answers } = await strangerSends(samples[type]);
      expect(delivered).toEqual([]);
      expect(stats.droppedIncoming).toBe(auth ? 0 : 1);
      if (type === 'auth-hello') expect(answers).toEqual(['auth-challenge']);
      else if (auth) expect(stats.unexpected).toBe(1); // a challenge or proof nobody asked for
    });
  }

  it("the session cannot send the handshake's messages, and sends every other type through it", () => {
    const host = new AuthenticatedTransport(new InMemoryNetwork().endpoint(HOST), { secret: 'the-join-secret', useWebCrypto: false });
    for (const type of MESSAGE_TYPES) {
      if (routeOf(type).handlers.includes('auth')) expect(() => host.send('someone', samples[type]), type).toThrow('auth messages are its own business');
      else expect(() => host.send('someone', samples[type]), type).not.toThrow();
    }
    host.close();
  });
});
