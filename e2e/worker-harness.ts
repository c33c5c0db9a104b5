/**
 * Node side of the worker e2e test and the browser benchmark: a Vite dev server on 127.0.0.1 with the
 * repo's vite.config.ts, and headless Chromium (playwright-core, /usr/bin/chromium) on the test page.
 */
import { existsSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { DATA_CONFIG } from '../src/data/config';
import { DEFAULT_DEMO_DIR, prepareDemoData } from '../scripts/prepare-data';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKER_TEST_PAGE = '/e2e/pages/worker-test.html';

export const HARNESS_CONFIG = {
  chromiumPath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  /** Flags measured to work headless on a closed network (stack-notes). */
  chromiumArgs: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  webgpuArg: '--enable-unsafe-webgpu',
  pageReadyTimeoutMs: 120_000,
} as const;

/** Dependencies the page and the worker import, pre-bundled up front so Vite never reloads mid-test. */
const PREBUNDLED = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', 'comlink', 'idb', 'fflate'];

export function ensureDemoData(): void {
  if (!existsSync(join(DEFAULT_DEMO_DIR, DATA_CONFIG.demo.manifestFile))) prepareDemoData();
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface DevServer {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startDevServer(): Promise<DevServer> {
  const port = await freePort();
  const server: ViteDevServer = await createServer({
    configFile: join(REPO_ROOT, 'vite.config.ts'),
    root: REPO_ROOT,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
    optimizeDeps: { entries: [WORKER_TEST_PAGE.slice(1)], include: PREBUNDLED },
  });
  await server.listen();
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export function launchChromium(opts: { webgpu: boolean }): Promise<Browser> {
  return chromium.launch({
    executablePath: HARNESS_CONFIG.chromiumPath,
    headless: true,
    args: [...HARNESS_CONFIG.chromiumArgs, ...(opts.webgpu ? [HARNESS_CONFIG.webgpuArg] : [])],
  });
}

/** Opens the worker test page in a fresh context and waits until window.workerTest exists. Page errors go to `log`. */
export async function openWorkerTestPage(browser: Browser, baseUrl: string, log: (line: string) => void = () => {}): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`[page error] ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') log(`[console.${msg.type()}] ${msg.text()}`);
  });
  page.on('worker', (w) => log(`[worker started] ${w.url()}`));
  await page.goto(`${baseUrl}${WORKER_TEST_PAGE}`);
  await page.waitForFunction(() => 'workerTest' in window, undefined, { timeout: HARNESS_CONFIG.pageReadyTimeoutMs });
  return page;
}
