/**
 * Time in PeerTransport tests: fake timers for the transport's own timeouts and heartbeats, but not setImmediate,
 * which PeerTransport uses to spread large sends over event-loop turns (see paced-sender.ts).
 */
import { vi } from 'vitest';
import type { PeerTransport } from '../peer-transport';

export const FAKED_TIMERS: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] };

/** Fake time to now, then a few real event-loop turns for the sends PeerTransport spread over tasks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Connects `client` to `host` and admits both ways (what the session does after the handshake). */
export async function connectAndAdmit(host: { transport: PeerTransport }, client: { transport: PeerTransport }): Promise<void> {
  const connected = client.transport.connect(host.transport.selfId);
  await settle();
  await connected;
  host.transport.admit(client.transport.selfId);
  client.transport.admit(host.transport.selfId);
}
