/**
 * The app as people use it: a host creates a session through the form, a student opens the join link shown on
 * the host's dashboard, the host starts, both dashboards show the rounds and the loss decomposition.
 * Run inside the network namespace (npm run test:e2e). Screenshots go to e2e/screenshots/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from './harness/netns';
import { REPO_ROOT, startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil } from './harness/browser';

const SHOTS = `${REPO_ROOT}/e2e/screenshots`;

describe('the fedtab app in two tabs', () => {
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

  it('host through the form, join through the link, run 2 rounds, see the decomposition on both dashboards', async () => {
    const host = await openPage(browser, `${server.origin}/#/host`);
    await host.page.setViewportSize({ width: 1280, height: 900 });
    await host.page.getByLabel('Your name (shown to the others)').fill('Teacher');
    await host.page.getByLabel('Rounds', { exact: true }).fill('2');
    await host.page.getByLabel('Minimum clients to start a round').fill('2');
    await host.page.getByRole('button', { name: 'Create session' }).click();
    await host.page.waitForURL(/#\/session/, { timeout: 60_000 }).catch(async (e) => {
      await host.page.screenshot({ path: `${SHOTS}/host-failed.png`, fullPage: true });
      throw new Error(`${e.message}\n${host.console.slice(-15).join('\n')}`);
    });
    const joinUrl = await host.page.locator('#join-url').inputValue({ timeout: 60_000 });
    expect(joinUrl).toMatch(/#\/join\/[A-Z2-9]{6}\?s=[0-9a-f]+/);
    expect(await host.page.locator('canvas, img').first().isVisible()).toBe(true); // the QR code

    const student = await openPage(browser, joinUrl);
    await student.page.getByLabel('Your name (shown to the others)').fill('Student');
    await student.page.getByRole('button', { name: /join/i }).click();
    await student.page.waitForURL(/#\/session/, { timeout: 60_000 }).catch(async (e) => {
      await student.page.screenshot({ path: `${SHOTS}/student-join-failed.png`, fullPage: true });
      throw new Error(`${e.message}\n${student.console.slice(-15).join('\n')}`);
    });

    await waitUntil('the student in the host\'s peers table', async () => ((await host.page.locator('section', { hasText: 'Peers' }).getByText('Student', { exact: true }).count()) > 0 ? true : undefined), 60_000).catch(async (e) => {
      await host.page.screenshot({ path: `${SHOTS}/host-timeout.png`, fullPage: true });
      throw new Error(`${e.message}\nhost: ${host.problems.join('\n')}\nstudent: ${student.problems.join('\n')}\n${student.console.slice(-20).join('\n')}`);
    });
    const start = host.page.getByRole('button', { name: 'Start' });
    await waitUntil('Start to be enabled', async () => ((await start.isEnabled()) ? true : undefined), 60_000);
    await start.click();
    await waitUntil('2 rounds on the host', async () => ((await host.page.getByText('Round 2 of 2').count()) > 0 && (await host.page.getByText('Finished').count()) > 0 ? true : undefined), 180_000);
    await host.page.screenshot({ path: `${SHOTS}/host-dashboard.png`, fullPage: true });
    await waitUntil('round 2 on the student\'s dashboard', async () => ((await student.page.getByText('Round 2 of 2').count()) > 0 ? true : undefined), 60_000).catch(async (e) => {
      await student.page.screenshot({ path: `${SHOTS}/student-timeout.png`, fullPage: true });
      throw e;
    });
    await student.page.screenshot({ path: `${SHOTS}/student-dashboard.png`, fullPage: true });

    const headerCells = await host.page.getByRole('columnheader').allInnerTexts();
    expect(headerCells).toEqual(expect.arrayContaining(['Local', 'Shift', 'Aggregation']));
    expect(host.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
    expect(student.problems).toEqual([]);
  });
});
