/**
 * A classroom through the app's own screens over WebRTC: Stop reaches a student on a phone-sized tab, and a host that
 * reloads mid-session gets aggregation and its Start/Stop back, whoever aggregated meanwhile.
 * Run inside the network namespace (npm run test:e2e). Screenshots go to e2e/screenshots/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from './harness/netns';
import { REPO_ROOT, startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil, type OpenedPage } from './harness/browser';

const SHOTS = `${REPO_ROOT}/e2e/screenshots`;

describe('a classroom through the app', () => {
  let server: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    assertInsideNetns();
    mkdirSync(SHOTS, { recursive: true });
    server = await startAppServer({ mode: 'dev', host: '0.0.0.0', entries: ['index.html', 'src/worker/training.worker.ts'] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const badge = (tab: OpenedPage) => tab.page.getByTestId('status-badge').innerText();

  async function hostSession(rounds: number): Promise<{ host: OpenedPage; joinUrl: string }> {
    const host = await openPage(browser, `${server.origin}/#/host`);
    await host.page.setViewportSize({ width: 1280, height: 800 });
    await host.page.getByLabel('Your name (shown to the others)').fill('Teacher').catch(async (e) => {
      await host.page.screenshot({ path: `${SHOTS}/classroom-host-form-failed.png`, fullPage: true });
      throw new Error(`${(e as Error).message}\nhost console:\n${host.console.slice(-40).join('\n')}`);
    });
    await host.page.getByLabel('Rounds', { exact: true }).fill(String(rounds));
    await host.page.getByLabel('Minimum clients to start a round').fill('2');
    await host.page.getByRole('button', { name: 'Create session' }).click();
    await host.page.waitForURL(/#\/session/, { timeout: 60_000 });
    const joinUrl = await host.page.locator('#join-url').inputValue({ timeout: 60_000 });
    // The dashboard opens at its top, not where the form was scrolled to.
    expect(await host.page.evaluate(() => window.scrollY)).toBe(0);
    return { host, joinUrl };
  }

  async function joinAs(joinUrl: string, name: string, viewport: { width: number; height: number }): Promise<OpenedPage> {
    const tab = await openPage(browser, joinUrl);
    await tab.page.setViewportSize(viewport);
    await tab.page.getByLabel('Your name (shown to the others)').fill(name);
    await tab.page.getByRole('button', { name: /join/i }).click();
    await tab.page.waitForURL(/#\/session/, { timeout: 60_000 }).catch(async (e) => {
      await tab.page.screenshot({ path: `${SHOTS}/classroom-join-failed-${name}.png`, fullPage: true });
      throw new Error(`${(e as Error).message}\n${tab.console.slice(-20).join('\n')}`);
    });
    return tab;
  }

  const start = async (host: OpenedPage) => {
    const button = host.page.getByRole('button', { name: /^(Start|Resume)$/ });
    await waitUntil('Start to be enabled', async () => ((await button.isEnabled()) ? true : undefined), 60_000);
    await button.click();
  };

  it('Stop reaches a student on a phone: "Stopped after round N" within a second of the host', async () => {
    const { host, joinUrl } = await hostSession(50);
    // Alone, the host's Start waits and says why; so does the student's badge once it is in (before its data loads).
    await waitUntil('the reason beside Start', async () => (/clients have data/.test(await host.page.getByTestId('start-waiting').innerText().catch(() => '')) ? true : undefined), 60_000);
    const phone = await joinAs(joinUrl, 'Phone', { width: 390, height: 844 });
    await start(host);
    await waitUntil('round 2 on the phone', async () => (/^Round [2-9]/.test(await phone.page.getByTestId('round-progress').innerText()) ? true : undefined), 120_000);
    await host.page.getByRole('button', { name: 'Stop after this round' }).click();
    const stopped = await waitUntil('the host stopped', async () => {
      const text = await badge(host);
      return /^Stopped after round \d+$/.test(text) ? { text, at: Date.now() } : undefined;
    }, 120_000);
    await waitUntil('the phone stopped', async () => ((await badge(phone)) === stopped.text ? true : undefined), 5_000);
    const lag = Date.now() - stopped.at;
    console.log(`the phone showed "${stopped.text}" ${lag} ms after the host`);
    expect(lag).toBeLessThan(1_000 + 250); // the poll's own step
    await phone.page.screenshot({ path: `${SHOTS}/classroom-phone-stopped.png` });
    await host.page.getByLabel('Projector mode').check();
    await host.page.waitForTimeout(1_000); // the charts take their projector size on the next frames
    await host.page.screenshot({ path: `${SHOTS}/classroom-projector.png` });
    expect(await host.page.getByTestId('peers-summary').innerText()).toMatch(/^2 devices: /);
    expect(await host.page.getByTestId('address-to-type').innerText()).toMatch(/^https?:\/\//);
    await Promise.all([host, phone].map((t) => t.page.close()));
  });

  it('the host reloads mid-session: it gets aggregation and Start/Stop back, and the run goes on', async () => {
    const { host, joinUrl } = await hostSession(200);
    const students = [await joinAs(joinUrl, 'Ann', { width: 1024, height: 700 }), await joinAs(joinUrl, 'Ben', { width: 1024, height: 700 })];
    await start(host);
    await waitUntil('round 2 at the host', async () => (/^Round [2-9]|^[2-9] of/.test(await host.page.getByTestId('round-progress').innerText()) ? true : undefined), 120_000);
    await host.page.reload({ waitUntil: 'load' });
    const resume = host.page.getByRole('button', { name: /^Resume session / });
    await resume.waitFor({ timeout: 30_000 });
    await resume.click();
    const clickedAt = Date.now();
    const stop = host.page.getByRole('button', { name: 'Stop after this round' });
    const stopUsable = (what: string) =>
      waitUntil(what, async () => ((await stop.isVisible().catch(() => false)) && (await stop.isEnabled()) ? true : undefined), 60_000).catch(async (e) => {
        await host.page.screenshot({ path: `${SHOTS}/classroom-host-reload-failed.png`, fullPage: true });
        const logs = await Promise.all([host, ...students].map((t) => t.page.locator('.log-list').innerText().catch(() => '(no log)')));
        throw new Error(`${(e as Error).message}\n${logs.map((l) => l.split('\n').slice(0, 40).join('\n')).join('\n----\n')}\nhost console:\n${host.console.slice(-40).join('\n')}`);
      });
    await stopUsable('Stop back on the host, enabled');
    console.log(`the host had Start/Stop back ${Date.now() - clickedAt} ms after clicking Resume`);
    expect(await host.page.getByText('you are the host', { exact: false }).first().isVisible()).toBe(true);
    const roundsBefore = Number((await host.page.getByTestId('round-progress').innerText()).match(/\d+/)?.[0] ?? 0);
    await waitUntil('a round more at the host', async () => {
      const n = Number((await host.page.getByTestId('round-progress').innerText()).match(/\d+/)?.[0] ?? 0);
      return n > roundsBefore ? true : undefined;
    }, 120_000);
    await stopUsable('Stop on the host, enabled, a round later');
    await stop.click();
    const stopped = await waitUntil('the host stopped', async () => {
      const text = await badge(host);
      return /^Stopped after round \d+$/.test(text) ? text : undefined;
    }, 120_000);
    for (const s of students) await waitUntil('the student stopped too', async () => ((await badge(s)) === stopped ? true : undefined), 5_000);
    await Promise.all([host, ...students].map((t) => t.page.close()));
  });
});
