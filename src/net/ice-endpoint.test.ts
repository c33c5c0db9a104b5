import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachSignalling } from './signalling-server';
import { trackSignallingPresence } from './signalling-presence';
import { iceConfigMiddleware } from './ice-endpoint';
import { embeddedRelayOffer } from './relay-offer';
import { turnPassword } from './turn/turn-credentials';
import { ICE_CONFIG_ENDPOINT, isIceConfigResponse } from './endpoints';

const SECRET = 'shared-secret';

describe('ICE config endpoint', () => {
  let server: http.Server;
  let port: number;
  const sockets: WebSocket[] = [];

  async function start(withRelay = true) {
    server = http.createServer();
    const signalling = attachSignalling(server, { log: () => {} });
    const presence = trackSignallingPresence(server);
    const ice = iceConfigMiddleware(withRelay ? embeddedRelayOffer(SECRET, 3478) : null, presence, () => 1_700_000_000_000);
    server.on('request', (req, res) =>
      ice(req, res, () => signalling.middleware(req, res, () => {
        res.statusCode = 404;
        res.end();
      })),
    );
    server.on('close', () => signalling.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  }

  async function register(id: string, token: string): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/peerjs/peerjs?key=peerjs&id=${id}&token=${token}`);
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()); // PeerJS answers OPEN
      ws.once('error', reject);
    });
    return ws;
  }

  const post = (body: unknown, host?: string) =>
    fetch(`http://127.0.0.1:${port}${ICE_CONFIG_ENDPOINT}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(host ? { Host: host } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('mints TURN credentials for a live tab of a registered session, with URLs on the host the tab used', async () => {
    await start();
    await register('host1', 'tokH');
    await register('student1', 'tokS');
    const response = await post({ peer: 'student1', token: 'tokS', session: 'host1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body: unknown = await response.json();
    expect(isIceConfigResponse(body)).toBe(true);
    const config = body as { iceServers: { urls: string[]; username?: string; credential?: string }[]; expiresAt: number };
    expect(config.iceServers[0]).toEqual({ urls: ['stun:127.0.0.1:3478'] });
    const turn = config.iceServers[1];
    expect(turn.urls).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
    expect(turn.username).toBe(`${1_700_000_000 + 3600}:student1`);
    expect(turn.credential).toBe(turnPassword(SECRET, turn.username!));
    expect(config.expiresAt).toBe((1_700_000_000 + 3600) * 1000);
    expect(JSON.stringify(config)).not.toContain(SECRET);
  });

  it('refuses a wrong token, an unregistered session, and a tab whose socket closed', async () => {
    await start();
    await register('host1', 'tokH');
    const student = await register('student1', 'tokS');
    expect(await (await post({ peer: 'student1', token: 'guess', session: 'host1' })).json()).toEqual({ error: 'no open signalling socket holds id "student1" with that token' });
    const unknownSession = await post({ peer: 'student1', token: 'tokS', session: 'nobody' });
    expect(unknownSession.status).toBe(403);
    expect(await unknownSession.json()).toEqual({ error: 'no session is registered under "nobody"' });
    student.close();
    // Refused once the server has seen the socket close: asked again until then (the 10 s bound only stops a hang).
    let status = 0;
    for (const started = Date.now(); Date.now() - started < 10_000; await new Promise((resolve) => setTimeout(resolve, 10))) {
      status = (await post({ peer: 'student1', token: 'tokS', session: 'host1' })).status;
      if (status !== 200) break;
    }
    expect(status).toBe(403);
  });

  it('answers bad requests with what is wrong, and an empty list when the server offers no relay', async () => {
    await start(false);
    await register('host1', 'tokH');
    expect((await fetch(`http://127.0.0.1:${port}${ICE_CONFIG_ENDPOINT}`)).status).toBe(405);
    expect(await (await post('{not json')).json()).toEqual({ error: 'the body is not JSON' });
    expect((await (await post({ peer: 'host1', token: 'tokH' })).json()) as object).toEqual({ error: `"session" must be 1-128 letters, digits, '-', '_' or spaces` });
    expect((await post({ peer: 'x'.repeat(2000), token: 't', session: 's' })).status).toBe(413);
    expect(await (await post({ peer: 'host1', token: 'tokH', session: 'host1' })).json()).toEqual({ iceServers: [], expiresAt: null });
  });
});
