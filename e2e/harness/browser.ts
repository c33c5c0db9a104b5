/** Headless Chromium for browser tests, launched with the flags that work on a closed network (see README: browser tests). */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Without the background-networking flags Chromium hangs on a closed network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

/** `extraArgs`: more Chromium flags (e.g. --unsafely-treat-insecure-origin-as-secure=ORIGIN, as the HTTPS mode would be). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS, ...extraArgs], headless: true });
}

export interface OpenedPage {
  page: Page;
  /** console.error lines and uncaught page errors, for assertions and failure messages. */
  problems: string[];
  /** Every console line, as `type: text`. */
  console: string[];
}

/** Opens `url` in a fresh context (its own storage), recording errors the page reports. */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext();
  // These tests assert behaviour, not speed: a busy machine may need more than Playwright's default 30 s per action.
  context.setDefaultTimeout(90_000);
  const page = await context.newPage();
  const problems: string[] = [];
  const lines: string[] = [];
  page.on('console', (message) => {
    lines.push(`${message.type()}: ${message.text()}`);
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // The kernel tears down another test's namespaces, bridge and veths in the background after that test ended; the
  // browser sees the interfaces change and aborts the page's requests (ERR_NETWORK_CHANGED). Such a page is loaded
  // again once the network is quiet.
  const networkChanges = () => lines.filter((l) => l.includes('ERR_NETWORK_CHANGED')).length;
  for (let attempt = 1; ; attempt++) {
    const before = networkChanges();
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForLoadState('networkidle').catch(() => undefined);
    if (networkChanges() === before) {
      // Loaded cleanly: the aborted attempts' errors are explained, not the app's.
      if (attempt > 1) problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('ERR_NETWORK_CHANGED')));
      break;
    }
    if (attempt === 5) break;
    await page.waitForTimeout(1000);
  }
  return { page, problems, console: lines };
}

/** Polls `probe` until it returns a value that is not undefined, or fails with `what` after timeoutMs. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
