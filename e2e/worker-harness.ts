/**
 * Node side of the worker e2e test and the browser benchmark: the app's Vite dev server (e2e/harness) on
 * 127.0.0.1, headless Chromium with or without WebGPU, and the worker test page.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { DATA_CONFIG } from '../src/data/config';
import { DEFAULT_DEMO_DIR, prepareDemoData } from '../scripts/prepare-data';
import { startAppServer, type AppServer } from './harness/app-server';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './harness/browser';

export const WORKER_TEST_PAGE = 'e2e/pages/worker-test.html';
/** Scanned up front so every dependency of the page and the worker is pre-bundled before the page loads. */
const DEP_SCAN_ENTRIES = [WORKER_TEST_PAGE, 'src/worker/training.worker.ts'];
const WEBGPU_FLAG = '--enable-unsafe-webgpu';
const PAGE_READY_TIMEOUT_MS = 120_000;

/** Writes public/data/ (npm run data) when it is missing. */
export function ensureDemoData(): void {
  if (!existsSync(join(DEFAULT_DEMO_DIR, DATA_CONFIG.demo.manifestFile))) prepareDemoData();
}

export function startWorkerTestServer(): Promise<AppServer> {
  return startAppServer({ host: '127.0.0.1', entries: DEP_SCAN_ENTRIES });
}

/** Chromium with the browser-test flags (e2e/harness/browser.ts); `webgpu: false` leaves out --enable-unsafe-webgpu (no WebGPU adapter then). */
export function launchChromium(opts: { webgpu: boolean }): Promise<Browser> {
  const args = CHROMIUM_FLAGS.filter((f) => f !== WEBGPU_FLAG);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: opts.webgpu ? [...args, WEBGPU_FLAG] : args });
}

/** Opens the worker test page in a fresh context and waits for window.workerTest. Page errors go to `log`. */
export async function openWorkerTestPage(browser: Browser, origin: string, log: (line: string) => void = () => {}): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`[page error] ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') log(`[console.error] ${msg.text()}`);
  });
  await page.goto(`${origin}/${WORKER_TEST_PAGE}`);
  await page.waitForFunction(() => 'workerTest' in window, undefined, { timeout: PAGE_READY_TIMEOUT_MS });
  return page;
}
