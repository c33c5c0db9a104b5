/** The session test page (e2e/pages/session.html): the app's BrowserSessionController exposed as window.fedtab. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { assertInsideNetns } from './netns';
import { startAppServer, type AppServer } from './app-server';
import { launchChromium } from './browser';
import type { BrowserSessionController } from '../../src/session/controller';
import type { SessionSettings, SessionState } from '../../src/session/types';
import { openPage, waitUntil, type OpenedPage } from './browser';

export const SESSION_PAGE = 'e2e/pages/session.html';
export type SessionPageApi = { fedtab: BrowserSessionController };

export const stateOf = (tab: OpenedPage): Promise<SessionState> => tab.page.evaluate(() => (window as unknown as SessionPageApi).fedtab.getState());

/** `count` fresh tabs (each its own storage) on the session page, once each has loaded its controller. */
export async function openSessionTabs(browser: Browser, origin: string, count: number): Promise<OpenedPage[]> {
  const tabs = await Promise.all(Array.from({ length: count }, () => openPage(browser, `${origin}/${SESSION_PAGE}`)));
  for (const tab of tabs) await tab.page.waitForSelector('body[data-ready="true"]');
  return tabs;
}

/**
 * The first tab hosts a session with `settings`; the others join it one after the other (so the join order, and the
 * successor, is known), under the names `names(i)`. Resolves with the host's state once every tab holds data there.
 */
export async function hostAndJoin(tabs: OpenedPage[], settings: SessionSettings, names: (i: number) => string = (i) => `student ${i + 1}`, hostName = 'teacher'): Promise<SessionState> {
  const [host, ...clients] = tabs;
  await host.page.evaluate(({ s, name }) => (window as unknown as SessionPageApi).fedtab.host(s, name), { s: settings, name: hostName });
  const hosted = await stateOf(host);
  const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
  for (const [i, c] of clients.entries()) {
    await c.page.evaluate(({ code, secret, name }) => (window as unknown as SessionPageApi).fedtab.join(code, secret, name), { code: hosted.code!, secret, name: names(i) });
  }
  await waitUntil(`${tabs.length} tabs with data at the host`, async () => ((await stateOf(host)).peers.filter((p) => p.numSamples > 0).length === tabs.length ? true : undefined), 60_000);
  return stateOf(host);
}

/**
 * For a test file: before its tests, the dev server (serving the session page and the training worker), one Chromium
 * and `count` session tabs; after them, both closed. Read the fields inside the tests (they are set by then).
 */
export function sessionTabsForFile(count: number): { server: AppServer; browser: Browser; tabs: OpenedPage[] } {
  const fixture = {} as { server: AppServer; browser: Browser; tabs: OpenedPage[] };
  beforeAll(async () => {
    assertInsideNetns();
    fixture.server = await startAppServer({ mode: 'dev', host: '0.0.0.0', entries: [SESSION_PAGE, 'src/worker/training.worker.ts'] });
    fixture.browser = await launchChromium();
    fixture.tabs = await openSessionTabs(fixture.browser, fixture.server.origin, count);
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.server?.close();
  });
  return fixture;
}
