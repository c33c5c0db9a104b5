import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import WebSocket from 'ws';
import basicSsl from '@vitejs/plugin-basic-ssl';
import { fedtabSignalling } from './signalling-plugin';
import { SERVER_URLS_ENDPOINT, SIGNALLING_ENDPOINT, isServerUrls } from './endpoints';

type Frame = Record<string, unknown>;

/** Opens a socket and collects its JSON messages; resolves once the upgrade succeeded or failed. */
function openSocket(url: string, protocol?: string) {
  const ws = new WebSocket(url, protocol);
  const messages: Frame[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Frame);
    for (const w of waiters.splice(0)) w();
  });
  const upgraded = new Promise<{ ok: true } | { ok: false; status: number | string }>((resolve) => {
    ws.once('open', () => resolve({ ok: true }));
    ws.once('unexpected-response', (_req, res) => resolve({ ok: false, status: res.statusCode ?? 'none' }));
    ws.once('error', (e) => resolve({ ok: false, status: e.message }));
  });
  /** Waits for a matching message; the 10 s bound only stops a hang, whatever the machine's load. */
  async function nextMessage(predicate: (m: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message on ${url}; got ${JSON.stringify(messages)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  return { ws, upgraded, nextMessage };
}

function signallingUrl(port: number, id: string, key: string = SIGNALLING_ENDPOINT.key) {
  return `ws://127.0.0.1:${port}${SIGNALLING_ENDPOINT.path}/peerjs?key=${key}&id=${id}&token=t-${id}`;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-signalling-'));
fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');

describe('signalling plugin in the Vite dev server', () => {
  let server: ViteDevServer;
  let port: number;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    server = await createServer({
      configFile: false,
      root,
      logLevel: 'silent',
      plugins: [fedtabSignalling()],
      server: { host: '127.0.0.1', port: 0 },
      optimizeDeps: { noDiscovery: true },
    });
    await server.listen();
    port = (server.httpServer!.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await server?.close();
  });

  it('accepts a PeerJS client on /peerjs/peerjs and answers OPEN', async () => {
    const client = openSocket(signallingUrl(port, 'x'));
    sockets.push(client.ws);
    expect(await client.upgraded).toEqual({ ok: true });
    expect(await client.nextMessage((m) => m.type === 'OPEN')).toEqual({ type: 'OPEN' });
  });

  it('relays signalling messages between two registered peers', async () => {
    const a = openSocket(signallingUrl(port, 'alice'));
    const b = openSocket(signallingUrl(port, 'bob'));
    sockets.push(a.ws, b.ws);
    await a.nextMessage((m) => m.type === 'OPEN');
    await b.nextMessage((m) => m.type === 'OPEN');
    a.ws.send(JSON.stringify({ type: 'OFFER', dst: 'bob', payload: { sdp: 'test-sdp' } }));
    const offer = await b.nextMessage((m) => m.type === 'OFFER');
    expect(offer).toMatchObject({ type: 'OFFER', src: 'alice', payload: { sdp: 'test-sdp' } });
  });

  it('rejects a wrong API key with an ERROR message', async () => {
    const client = openSocket(signallingUrl(port, 'mallory', 'not-the-key'));
    sockets.push(client.ws);
    const error = await client.nextMessage((m) => m.type === 'ERROR');
    expect(error.payload).toMatchObject({ msg: 'Invalid key provided' });
  });

  it("leaves Vite's HMR socket working (not answered 400)", async () => {
    const hmr = openSocket(`ws://127.0.0.1:${port}/`, 'vite-hmr');
    sockets.push(hmr.ws);
    expect(await hmr.upgraded).toEqual({ ok: true });
    expect(await hmr.nextMessage((m) => m.type === 'connected')).toMatchObject({ type: 'connected' });
    // The socket must stay usable, not be torn down after the handshake by another upgrade handler.
    const pong = new Promise<boolean>((resolve) => {
      hmr.ws.once('pong', () => resolve(true));
      hmr.ws.once('close', () => resolve(false));
      setTimeout(() => resolve(false), 10_000);
    });
    hmr.ws.ping();
    expect(await pong).toBe(true);
    expect(hmr.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('serves the PeerJS HTTP API and still serves the app', async () => {
    const id = await fetch(`http://127.0.0.1:${port}${SIGNALLING_ENDPOINT.path}/${SIGNALLING_ENDPOINT.key}/id`);
    expect(id.status).toBe(200);
    expect((await id.text()).length).toBeGreaterThan(8);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toContain('<title>t</title>');
  });

  it('answers a malformed signalling URL with a short plain message, not the error page with a stack trace', async () => {
    for (const p of [`${SIGNALLING_ENDPOINT.path}/%`, `${SIGNALLING_ENDPOINT.path}/%E0%A4%A/id`]) {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      expect([res.status, await res.text()], p).toEqual([400, '400 Bad Request\n']);
    }
  });

  it('sends the security headers on the app and the signalling API, and no CORS for a foreign origin', async () => {
    for (const p of ['/', `${SIGNALLING_ENDPOINT.path}/${SIGNALLING_ENDPOINT.key}/id`, SERVER_URLS_ENDPOINT]) {
      const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { origin: 'http://evil.example' } });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, p).toContain("frame-ancestors 'none'");
      // Dev needs the inline React refresh preamble; wasm needs wasm-unsafe-eval.
      expect(csp, p).toContain("script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'");
      expect(res.headers.get('referrer-policy'), p).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
      expect(res.headers.get('access-control-allow-origin'), p).toBeNull();
    }
  });

  it(`answers ${SERVER_URLS_ENDPOINT} with the server's URLs`, async () => {
    const body: unknown = await (await fetch(`http://127.0.0.1:${port}${SERVER_URLS_ENDPOINT}`)).json();
    expect(isServerUrls(body)).toBe(true);
    expect(body).toEqual({ urls: [], local: [`http://127.0.0.1:${port}/`] });
  });
});

describe('signalling plugin in the Vite preview server', () => {
  let server: PreviewServer;

  beforeAll(async () => {
    server = await preview({
      configFile: false,
      root,
      logLevel: 'silent',
      plugins: [fedtabSignalling()],
      build: { outDir: root },
      preview: { host: '127.0.0.1', port: 0 },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('accepts a PeerJS client and answers OPEN', async () => {
    const port = (server.httpServer.address() as AddressInfo).port;
    const client = openSocket(signallingUrl(port, 'y'));
    try {
      expect(await client.nextMessage((m) => m.type === 'OPEN')).toEqual({ type: 'OPEN' });
    } finally {
      client.ws.terminate();
    }
  });
});

describe('signalling plugin in the HTTPS (HTTP/2) dev server', () => {
  let server: ViteDevServer;
  let port: number;

  beforeAll(async () => {
    server = await createServer({
      configFile: false,
      root,
      logLevel: 'silent',
      plugins: [fedtabSignalling(), basicSsl({ certDir: path.join(root, 'cert') })],
      server: { host: '127.0.0.1', port: 0 },
      optimizeDeps: { noDiscovery: true },
    });
    await server.listen();
    port = (server.httpServer!.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await server?.close();
  });

  function http2Get(pathname: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      session.on('error', reject);
      const request = session.request({ ':path': pathname });
      let status = 0;
      let body = '';
      request.on('response', (headers) => (status = Number(headers[':status'])));
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        session.close();
        resolve({ status, body });
      });
      request.on('error', reject);
    });
  }

  it('answers the PeerJS id route over HTTP/2 without crashing the server', async () => {
    const id = await http2Get(`${SIGNALLING_ENDPOINT.path}/${SIGNALLING_ENDPOINT.key}/id`);
    expect(id.status).toBe(200);
    expect(id.body).toMatch(/^[0-9a-f-]{36}$/);
    const urls = await http2Get(SERVER_URLS_ENDPOINT);
    expect(JSON.parse(urls.body)).toEqual({ urls: [], local: [`https://127.0.0.1:${port}/`] });
  });

  it('accepts a PeerJS client over wss and answers OPEN', async () => {
    const ws = new WebSocket(
      `wss://127.0.0.1:${port}${SIGNALLING_ENDPOINT.path}/peerjs?key=${SIGNALLING_ENDPOINT.key}&id=z&token=t`,
      { rejectUnauthorized: false },
    );
    try {
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(String(data)));
        ws.once('error', reject);
      });
      expect(JSON.parse(first)).toEqual({ type: 'OPEN' });
    } finally {
      ws.terminate();
    }
  });
});
