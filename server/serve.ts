/**
 * Production start: serves the built app (dist/) and the PeerJS signalling server on one port, and a TURN relay
 * (UDP and TCP port 3478) whose time-limited credentials tabs of live sessions fetch from the app.
 *
 *   tsx server/serve.ts [--https] [--port 5173] [--host 0.0.0.0] [--dist dist] [--relay-port 3478 | --no-relay] [--config FILE]
 *
 * The config file (server/app-config.ts) is read first, then the PORT and HOST environment variables, then the
 * flags. With --https a self-signed certificate is made (and cached) the same way @vitejs/plugin-basic-ssl does
 * for `vite --mode https`.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { getCertificate } from '@vitejs/plugin-basic-ssl';
import { attachSignalling } from '../src/net/signalling-server';
import { clientAddressResolver } from '../src/net/client-address';
import { listServerUrls, serverUrlsMiddleware } from '../src/net/server-urls';
import { securityHeadersMiddleware } from '../src/net/security-headers';
import { plainErrorHandler } from '../src/net/plain-error-handler';
import { mountRelay, type RelayMount } from '../src/net/relay-mount';
import type { ServerUrls } from '../src/net/endpoints';
import { DEFAULT_RELAY_PORT, readAppConfig, type RelaySetting } from './app-config';

export interface ServeOptions {
  port: number;
  host: string;
  https: boolean;
  /** Folder with the built app (index.html at its root). */
  distDir: string;
  /** Where the self-signed certificate is cached. */
  certDir: string;
  /** The relay tabs are offered: the embedded TURN relay by default. */
  relay: RelaySetting;
  /** Reverse proxies in front of the app, whose X-Forwarded-For names the tab (none by default). */
  trustedProxies?: string[];
}

export interface RunningServer {
  server: http.Server | https.Server;
  urls: ServerUrls;
  relay: RelayMount;
  close(): Promise<void>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_SERVE_OPTIONS: ServeOptions = {
  port: 5173,
  host: '0.0.0.0',
  https: false,
  distDir: path.join(repoRoot, 'dist'),
  // The cache folder @vitejs/plugin-basic-ssl uses by default, so dev and production share one certificate.
  certDir: path.join(repoRoot, 'node_modules/.vite/basic-ssl'),
  relay: { kind: 'embedded', port: DEFAULT_RELAY_PORT },
};

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${source}: "${text}" is not a port number (0-65535)`);
  return port;
}

/** Reads flags and environment; throws an error naming the bad argument. */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeOptions {
  const options: ServeOptions = { ...DEFAULT_SERVE_OPTIONS };
  const configAt = argv.indexOf('--config');
  if (configAt >= 0) {
    const file = argv[configAt + 1];
    if (file === undefined || file.startsWith('--')) throw new Error('--config needs a value');
    Object.assign(options, readAppConfig(path.resolve(file)));
  }
  if (env.PORT) options.port = parsePort(env.PORT, 'PORT');
  if (env.HOST) options.host = env.HOST;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--https') options.https = true;
    else if (arg === '--port') options.port = parsePort(value(), '--port');
    else if (arg === '--host') options.host = value();
    else if (arg === '--dist') options.distDir = path.resolve(value());
    else if (arg === '--relay-port') options.relay = { kind: 'embedded', port: parsePort(value(), '--relay-port') };
    else if (arg === '--no-relay') options.relay = { kind: 'none' };
    else if (arg === '--config') value(); // read above
    else throw new Error(`unknown argument "${arg}" (expected --https, --port N, --host ADDRESS, --dist DIR, --relay-port N, --no-relay, --config FILE)`);
  }
  return options;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const indexHtml = path.join(options.distDir, 'index.html');
  if (!fs.existsSync(indexHtml)) throw new Error(`${indexHtml} does not exist: build the app first (npm run build)`);

  const app = express();
  app.disable('x-powered-by');
  let server: http.Server | https.Server;
  if (options.https) {
    const pem = await getCertificate(options.certDir, 'fedtab');
    server = https.createServer({ key: pem, cert: pem }, app);
  } else {
    server = http.createServer(app);
  }
  app.use(securityHeadersMiddleware('production'));
  const signalling = attachSignalling(server, { otherUpgrades: 'refuse', ...(options.trustedProxies?.length ? { clientAddress: clientAddressResolver(options.trustedProxies) } : {}) });
  const relay = await mountRelay(server, options.relay);
  app.use(relay.middleware);
  app.use(signalling.middleware);
  app.use(serverUrlsMiddleware(server));
  // Only the built app: never dotfiles, never anything outside distDir.
  app.use(express.static(options.distDir, { index: 'index.html', dotfiles: 'deny', redirect: false }));
  // A single-page app: unknown page paths get the app, missing files (and any dot-segment path) a plain 404.
  app.get('*', (req, res, next) => {
    if (path.extname(req.path) !== '' || req.path.split('/').some((s) => s.startsWith('.')) || !req.accepts('html')) return next();
    res.sendFile(indexHtml);
  });
  // Our own 404, so it keeps the security headers (express's default replaces the CSP).
  app.use((_req: express.Request, res: express.Response) => {
    res.status(404).type('text/plain').send('not found');
  });
  // Last: a malformed URL (`/%`) gets a short plain answer, never express's page with a stack trace and paths.
  app.use(plainErrorHandler((line) => console.error(`fedtab server: ${line}`)));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await relay.close();
    throw error;
  });
  const urls = listServerUrls(server.address(), options.https ? 'https' : 'http');
  return {
    server,
    urls,
    relay,
    close: async () => {
      await relay.close();
      await new Promise<void>((resolve) => {
        signalling.close();
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}

async function main(): Promise<void> {
  const options = parseServeArgs(process.argv.slice(2));
  const running = await startServer(options);
  console.log(`fedtab serving ${options.distDir} with signalling at /peerjs`);
  for (const url of running.urls.local) console.log(`  Local:   ${url}`);
  for (const url of running.urls.urls) console.log(`  Network: ${url}`);
  console.log(`  ${running.relay.summary}`);
  if (options.https) console.log('  (self-signed certificate: each device must accept the browser warning once)');
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`fedtab server: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
