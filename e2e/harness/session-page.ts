/** The session test page (e2e/pages/session.html): the app's BrowserSessionController exposed as window.fedtab. */
import type { Browser } from 'playwright-core';
import type { BrowserSessionController } from '../../src/session/controller';
import type { SessionState } from '../../src/session/types';
import { openPage, type OpenedPage } from './browser';

export const SESSION_PAGE = 'e2e/pages/session.html';
export type SessionPageApi = { fedtab: BrowserSessionController };

export const stateOf = (tab: OpenedPage): Promise<SessionState> => tab.page.evaluate(() => (window as unknown as SessionPageApi).fedtab.getState());

/** `count` fresh tabs (each its own storage) on the session page, once each has loaded its controller. */
export async function openSessionTabs(browser: Browser, origin: string, count: number): Promise<OpenedPage[]> {
  const tabs = await Promise.all(Array.from({ length: count }, () => openPage(browser, `${origin}/${SESSION_PAGE}`)));
  for (const tab of tabs) await tab.page.waitForSelector('body[data-ready="true"]');
  return tabs;
}
