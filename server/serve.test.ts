import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { parseServeArgs, startServer, DEFAULT_SERVE_OPTIONS, type RunningServer } from './serve';
import { MessageClass, Method, StunWriter, parseStun } from '../src/net/turn/stun-message';

// A project folder with the build in dist/ next to the things that must never be served.
const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-project-'));
const distDir = path.join(projectDir, 'dist');
fs.mkdirSync(distDir);
fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>fedtab test build</title>');
fs.writeFileSync(path.join(distDir, 'app.js'), 'console.log(1)');
fs.writeFileSync(path.join(distDir, '.env'), 'TOKEN=dist-dotfile');
fs.writeFileSync(path.join(projectDir, 'package.json'), '{"name":"project-package-json"}');
fs.mkdirSync(path.join(projectDir, '.git'));
fs.writeFileSync(path.join(projectDir, '.git/config'), '[core] project-git-config');
fs.mkdirSync(path.join(projectDir, 'src/fl'), { recursive: true });
fs.writeFileSync(path.join(projectDir, 'src/fl/engine.ts'), 'export const projectSource = 1;');

function firstSocketMessage(url: string): Promise<unknown> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => {
      ws.terminate();
      resolve(JSON.parse(String(data)));
    });
    ws.once('error', reject);
  });
}

describe('production server (http)', () => {
  let running: RunningServer;
  let base: string;
  beforeAll(async () => {
    running = await startServer({ ...DEFAULT_SERVE_OPTIONS, host: '127.0.0.1', port: 0, distDir, relay: { kind: 'embedded', port: 0 } });
    base = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
  });
  afterAll(() => running?.close());

  it('serves the build, falls back to index.html for page paths, and 404s missing files', async () => {
    expect(await (await fetch(`${base}/`)).text()).toContain('fedtab test build');
    expect(await (await fetch(`${base}/app.js`)).text()).toBe('console.log(1)');
    const page = await fetch(`${base}/session/abc`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('fedtab test build');
    expect((await fetch(`${base}/missing.js`)).status).toBe(404);
  });

  it('runs the signalling server on the same port', async () => {
    const url = `${base.replace('http', 'ws')}/peerjs/peerjs?key=peerjs&id=prod1&token=t`;
    expect(await firstSocketMessage(url)).toEqual({ type: 'OPEN' });
  });

  it('runs a TURN relay beside the app and hands its credentials to live signalling tabs only', async () => {
    const relayPort = running.relay.turn!.port;
    const ws = new WebSocket(`${base.replace('http', 'ws')}/peerjs/peerjs?key=peerjs&id=prodhost&token=secret1`);
    await new Promise((resolve) => ws.once('message', resolve));
    const ask = (token: string) =>
      fetch(`${base}/fedtab/ice`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ peer: 'prodhost', token, session: 'prodhost' }) });
    expect((await ask('guessed')).status).toBe(403);
    const config = (await (await ask('secret1')).json()) as { iceServers: { urls: string[]; username?: string }[] };
    ws.terminate();
    expect(config.iceServers.flatMap((s) => s.urls)).toContain(`turn:127.0.0.1:${relayPort}?transport=tcp`);
    expect(config.iceServers[1].username).toMatch(/^\d+:prodhost$/);
    // The relay answers STUN on its UDP port.
    const socket = dgram.createSocket('udp4');
    const answer = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(new StunWriter(Method.Binding, MessageClass.Request, randomBytes(12)).build(), relayPort, '127.0.0.1');
    expect(parseStun(await answer).cls).toBe(MessageClass.Success);
    socket.close();
  });

  it('never serves the project folder: no package.json, .git, sources or dotfiles, however asked', async () => {
    const paths = [
      '/package.json',
      '/.git/config',
      '/src/fl/engine.ts',
      '/.env',
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/%2e%2e%2f.git%2fconfig',
      '/@fs' + path.join(projectDir, 'package.json'),
    ];
    for (const p of paths) {
      const res = await fetch(`${base}${p}`);
      const body = await res.text();
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      for (const secret of ['project-package-json', 'project-git-config', 'projectSource', 'dist-dotfile']) expect(body, p).not.toContain(secret);
    }
  });

  it('answers malformed URLs with a short plain message: no stack trace, no path', async () => {
    for (const p of ['/%', '/%E0%A4%A', '/a%zz.js', '/peerjs/%', '/peerjs/%E0%A4%A/id']) {
      const res = await fetch(`${base}${p}`, { headers: { accept: 'text/html' } });
      const body = await res.text();
      expect([res.status, body], p).toEqual([400, '400 Bad Request\n']);
      expect(res.headers.get('content-type'), p).toMatch(/^text\/plain/);
      expect(res.headers.get('content-security-policy'), p).toContain("frame-ancestors 'none'");
    }
  });

  it('sends the security headers on the app and on the signalling API', async () => {
    for (const p of ['/', '/app.js', `/peerjs/peerjs/id`, '/missing.js']) {
      const res = await fetch(`${base}${p}`, { headers: { origin: 'http://evil.example' } });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, p).toContain("frame-ancestors 'none'");
      expect(csp, p).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
      expect(csp, p).not.toMatch(/script-src[^;]*unsafe-inline/); // production: no inline scripts
      expect(res.headers.get('referrer-policy'), p).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
      expect(res.headers.get('access-control-allow-origin'), p).toBeNull();
    }
  });

  it('tells the page its URLs', async () => {
    expect(await (await fetch(`${base}/fedtab/urls`)).json()).toEqual({ urls: [], local: [`${base}/`] });
    expect(running.urls.local).toEqual([`${base}/`]);
  });
});

describe('production server (--https)', () => {
  let running: RunningServer;
  let port: number;
  beforeAll(async () => {
    const certDir = path.join(distDir, 'cert');
    running = await startServer({ ...DEFAULT_SERVE_OPTIONS, host: '127.0.0.1', port: 0, distDir, https: true, certDir, relay: { kind: 'none' } });
    port = (running.server.address() as AddressInfo).port;
  });
  afterAll(() => running?.close());

  it('serves over TLS with a self-signed certificate, signalling included', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`https://127.0.0.1:${port}/`, { rejectUnauthorized: false }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toContain('fedtab test build');
    expect(running.urls.local).toEqual([`https://127.0.0.1:${port}/`]);
    expect(await firstSocketMessage(`wss://127.0.0.1:${port}/peerjs/peerjs?key=peerjs&id=prod2&token=t`)).toEqual({ type: 'OPEN' });
  });
});

describe('npm scripts', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../package.json'), 'utf8')) as { scripts: Record<string, string> };

  it('npm start builds and serves the production bundle; the dev server never listens on the network', () => {
    expect(pkg.scripts.start).toMatch(/npm run build && npm run serve$/);
    expect(pkg.scripts['start:https']).toMatch(/npm run build && npm run serve:https$/);
    for (const name of ['dev', 'dev:https']) expect(pkg.scripts[name], name).not.toMatch(/--host/);
    const viteConfig = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../vite.config.ts'), 'utf8');
    expect(viteConfig).toMatch(/server: \{ host: '127\.0\.0\.1'/);
  });
});

describe('serve arguments', () => {
  it('reads flags over environment and rejects bad ones by name', () => {
    expect(parseServeArgs(['--https', '--port', '8443'], { PORT: '9000', HOST: '10.0.0.2' })).toMatchObject({
      https: true,
      port: 8443,
      host: '10.0.0.2',
    });
    expect(parseServeArgs([], {})).toMatchObject({ port: 5173, host: '0.0.0.0', https: false });
    expect(() => parseServeArgs(['--port', 'http'], {})).toThrow('--port: "http" is not a port number');
    expect(() => parseServeArgs(['--verbose'], {})).toThrow('unknown argument "--verbose"');
    expect(() => parseServeArgs([], { PORT: '-3' })).toThrow('PORT: "-3"');
  });

  it('runs the embedded relay on 3478 unless told another port, none, or a relay from the config file', () => {
    expect(parseServeArgs([], {}).relay).toEqual({ kind: 'embedded', port: 3478 });
    expect(parseServeArgs(['--relay-port', '443'], {}).relay).toEqual({ kind: 'embedded', port: 443 });
    expect(parseServeArgs(['--no-relay'], {}).relay).toEqual({ kind: 'none' });
    const file = path.join(projectDir, 'fedtab.config.json');
    const relay = { kind: 'external', secret: 'a-long-shared-secret', urls: ['turn:turn.example.org:3478?transport=udp'] };
    fs.writeFileSync(file, JSON.stringify({ port: 8080, host: '127.0.0.1', relay }));
    expect(parseServeArgs(['--config', file, '--port', '9090'], {})).toMatchObject({ port: 9090, host: '127.0.0.1', relay });
    fs.writeFileSync(file, JSON.stringify({ relay: { kind: 'external', secret: 'short', urls: [] } }));
    expect(() => parseServeArgs(['--config', file], {})).toThrow(`${file}: relay.secret must be the TURN server's shared secret`);
    expect(() => parseServeArgs(['--config', path.join(projectDir, 'missing.json')], {})).toThrow('missing.json: cannot be read');
  });

  it('refuses to start without a build, saying what to do', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-empty-'));
    await expect(startServer({ ...DEFAULT_SERVE_OPTIONS, port: 0, distDir: empty })).rejects.toThrow('build the app first');
  });
});
