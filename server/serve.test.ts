import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { parseServeArgs, startServer, DEFAULT_SERVE_OPTIONS, type RunningServer } from './serve';

const distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-dist-'));
fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>fedtab test build</title>');
fs.writeFileSync(path.join(distDir, 'app.js'), 'console.log(1)');

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
    running = await startServer({ ...DEFAULT_SERVE_OPTIONS, host: '127.0.0.1', port: 0, distDir });
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
    running = await startServer({ ...DEFAULT_SERVE_OPTIONS, host: '127.0.0.1', port: 0, distDir, https: true, certDir });
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

  it('refuses to start without a build, saying what to do', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-empty-'));
    await expect(startServer({ ...DEFAULT_SERVE_OPTIONS, port: 0, distDir: empty })).rejects.toThrow('build the app first');
  });
});
