/** Starts the app's own Vite server (dev or preview, signalling included) for browser tests. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { createServer, preview, type InlineConfig, type ViteDevServer } from 'vite';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface AppServer {
  /** Origin for the browser, e.g. http://127.0.0.1:41234 */
  origin: string;
  port: number;
  close(): Promise<void>;
}

export interface AppServerOptions {
  mode?: 'dev' | 'preview';
  /** Address to bind: 0.0.0.0 (default) or the namespace address. Port is always a free one. */
  host?: string;
  /** Host name the browser uses; default 127.0.0.1 (a secure context, reachable when bound to 0.0.0.0). */
  browserHost?: string;
  /** Pages the dev server pre-scans for dependencies, so no optimisation reload happens mid-test. */
  entries?: string[];
  /** Preview: the build folder to serve (default dist/). */
  outDir?: string;
}

function baseConfig(options: AppServerOptions): InlineConfig {
  return {
    configFile: path.join(REPO_ROOT, 'vite.config.ts'),
    // Loads the TS config through Vite's module runner (no warnings about extensionless imports).
    configLoader: 'runner',
    root: REPO_ROOT,
    logLevel: 'warn',
    // Separate from the dev cache: other processes may run Vite on this tree at the same time.
    cacheDir: path.join(REPO_ROOT, 'node_modules/.vite-e2e'),
    optimizeDeps: options.entries ? { entries: options.entries } : undefined,
  };
}

export async function startAppServer(options: AppServerOptions = {}): Promise<AppServer> {
  const host = options.host ?? '0.0.0.0';
  const browserHost = options.browserHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host);
  if (options.mode === 'preview') {
    const outDir = options.outDir ?? path.join(REPO_ROOT, 'dist');
    const distIndex = path.join(outDir, 'index.html');
    if (!fs.existsSync(distIndex)) throw new Error(`${distIndex} does not exist: run npm run build before preview tests`);
    const server = await preview({ ...baseConfig(options), build: { outDir }, preview: { host, port: 0, strictPort: false, open: false } });
    const port = (server.httpServer.address() as AddressInfo).port;
    return { origin: `http://${browserHost}:${port}`, port, close: () => server.close() };
  }
  const server = await createServer({
    ...baseConfig(options),
    server: { host, port: 0, strictPort: false, open: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('Vite dev server did not report a TCP address');
  await warmUp(server, options.entries ?? []);
  return { origin: `http://${browserHost}:${address.port}`, port: address.port, close: () => server.close() };
}

/**
 * Before the first page loads: the dependency optimiser finishes its scan and bundle, and the entry modules are
 * transformed, so a test's first page does not wait for (or reload after) either on a slow machine.
 */
async function warmUp(server: ViteDevServer, entries: string[]): Promise<void> {
  const optimizer = server.environments.client.depsOptimizer;
  await optimizer?.scanProcessing;
  const modules = entries.flatMap((entry) => (entry.endsWith('.html') ? htmlModules(entry) : [`/${entry}`]));
  await Promise.all(modules.map((url) => server.warmupRequest(url).catch(() => undefined)));
  await server.waitForRequestsIdle();
}

/** The module scripts an HTML entry (a path from the repository root) loads, as URLs from the root. */
function htmlModules(entry: string): string[] {
  const html = fs.readFileSync(path.join(REPO_ROOT, entry), 'utf8');
  const dir = path.posix.dirname(`/${entry}`);
  return [...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => (m[1].startsWith('/') ? m[1] : path.posix.join(dir, m[1])));
}
