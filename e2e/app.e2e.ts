/**
 * The app as people use it: a host creates a session through the form, a student opens the join link shown on
 * the host's dashboard, the host starts, both dashboards show the rounds and the loss decomposition.
 * Run inside the network namespace (npm run test:e2e). Screenshots go to e2e/screenshots/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import { assertInsideNetns } from './harness/netns';
import { REPO_ROOT, startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil, type OpenedPage } from './harness/browser';

const SHOTS = `${REPO_ROOT}/e2e/screenshots`;

/** Clicks Start once it is enabled and waits until the host says Finished (on timeout: a screenshot and the host's log). */
async function runToFinish(host: OpenedPage, what: string, timeoutMs: number, shot: string): Promise<void> {
  const start = host.page.getByRole('button', { name: 'Start' });
  await waitUntil('Start to be enabled', async () => ((await start.isEnabled()) ? true : undefined), 60_000);
  await start.click();
  await waitUntil(what, async () => ((await host.page.getByTestId('status-badge').innerText()) === 'Finished' ? true : undefined), timeoutMs).catch(async (e) => {
    await host.page.screenshot({ path: `${SHOTS}/${shot}`, fullPage: true });
    throw new Error(`${e.message}\n${await host.page.locator('.log-list').innerText()}`);
  });
}

/** Projector mode on a 1280x800 screen, scrolled to the top: each selector's box ends on that first screen. */
async function expectOnProjectorScreen(page: Page, selectors: string[]): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByLabel('Projector mode').check();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  for (const selector of selectors) {
    const box = await page.locator(selector).first().boundingBox();
    expect(box, selector).not.toBeNull();
    expect(box!.y + box!.height, `${selector} bottom`).toBeLessThanOrEqual(800);
  }
}

describe('the fedtab app in two tabs', () => {
  let server: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    assertInsideNetns();
    mkdirSync(SHOTS, { recursive: true });
    // FEDTAB_E2E_MODE=preview runs against the production build (npm run build first): the numbers that matter for long tasks.
    server = await startAppServer({ mode: process.env.FEDTAB_E2E_MODE === 'preview' ? 'preview' : 'dev', host: '0.0.0.0', entries: ['index.html', 'src/worker/training.worker.ts'] });
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
    expect(joinUrl).toMatch(/#\/join\/[A-Z2-9]{6}\?s=[A-Z2-9]{10}/);
    expect(await host.page.locator('canvas, img').first().isVisible()).toBe(true); // the QR code

    // The student is on a phone.
    const student = await openPage(browser, joinUrl);
    await student.page.setViewportSize({ width: 390, height: 844 });
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
    // A CSV in this image session is refused at import, with the reason in the data panel (not the top banner).
    await student.page.getByLabel('Import CSV or .npz files').setInputFiles({ name: 'iris.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,c,d,label\n1,2,3,4,0\n2,3,4,5,1\n3,4,5,6,2\n4,5,6,7,0\n5,6,7,8,1\n') });
    const dataPanel = student.page.locator('section.local-data');
    await waitUntil('the import refusal in the data panel', async () => ((await dataPanel.getByRole('alert').count()) > 0 ? true : undefined), 30_000);
    expect(await dataPanel.getByRole('alert').innerText()).toMatch(/does not fit this session.*28×28 images with 1 channel.*table rows of 4 features/s);
    expect(await student.page.locator('.error-banner').count()).toBe(0);
    await dataPanel.getByRole('button', { name: 'Dismiss' }).click();
    expect(await dataPanel.getByRole('alert').count()).toBe(0);

    const start = host.page.getByRole('button', { name: 'Start' });
    await waitUntil('Start to be enabled', async () => ((await start.isEnabled()) ? true : undefined), 60_000);
    // Count the host tab's main-thread long tasks while it runs the rounds (reported, see docs/benchmarks/browser.md).
    await host.page.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(Math.round(e.duration)))).observe({ type: 'longtask', buffered: false });
    });
    // FEDTAB_PROFILE=1: a CPU profile of the host's main thread during the rounds, summarised by self time.
    const cdp = process.env.FEDTAB_PROFILE === '1' ? await host.page.context().newCDPSession(host.page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    await start.click();
    // While round 1 runs, the header says round 1 (not "Not started") and the host sees the student train.
    await waitUntil('round 1 running on the host', async () => ((await host.page.getByTestId('round-progress').innerText()) === 'Round 1 of 2' ? true : undefined), 60_000);
    await waitUntil('round 1 on the student', async () => (/^Round 1 of 2$|^1 of 2 rounds done$/.test(await student.page.getByTestId('round-progress').innerText()) ? true : undefined), 60_000);
    expect(await student.page.getByTestId('status-badge').innerText()).toBe('Running');

    await waitUntil('2 rounds on the host', async () => ((await host.page.getByTestId('round-progress').innerText()) === '2 of 2 rounds done' && (await host.page.getByTestId('status-badge').innerText()) === 'Finished' ? true : undefined), 180_000);
    if (cdp) {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
      const self = new Map<number, number>();
      profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
      const byName = new Map<string, number>();
      for (const n of profile.nodes) {
        const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/').replace(/\?.*$/, '')}:${n.callFrame.lineNumber}`;
        byName.set(key, (byName.get(key) ?? 0) + (self.get(n.id) ?? 0));
      }
      const top = [...byName.entries()].filter(([k]) => !/^\((idle|program|garbage collector)\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 25);
      console.log(`host main thread, self time (ms):\n${top.map(([k, us]) => `${(us / 1000).toFixed(0).padStart(6)}  ${k}`).join('\n')}`);
    }
    const longTasks = await host.page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    console.log(`host long tasks during 2 rounds: ${longTasks.length}, longest ${Math.max(0, ...longTasks)} ms: ${longTasks.join(', ')}`);
    console.log(`student log:\n${await student.page.locator('.log-list').innerText()}`);
    await host.page.screenshot({ path: `${SHOTS}/host-dashboard.png`, fullPage: true });
    const studentRow = host.page.locator('.peers-table tr', { hasText: 'Student' });
    expect(await studentRow.locator('.peer-status').innerText()).toBe('update sent (round 2)');
    await waitUntil('round 2 on the student\'s dashboard', async () => ((await student.page.getByTestId('round-progress').innerText()) === '2 of 2 rounds done' ? true : undefined), 60_000).catch(async (e) => {
      await student.page.screenshot({ path: `${SHOTS}/student-timeout.png`, fullPage: true });
      throw e;
    });
    expect(await student.page.getByTestId('status-badge').innerText()).toBe('Finished');
    // Rosters reach the student without the others' label counts: its own bars only, none (not empty ones) for the host.
    expect(await student.page.locator('.peers-table tr', { hasText: 'Student' }).locator('svg.label-bars').count()).toBe(1);
    expect(await student.page.locator('.peers-table tr', { hasText: 'Teacher' }).locator('svg.label-bars').count()).toBe(0);
    expect(await host.page.locator('.peers-table svg.label-bars').count()).toBe(2);

    // Phone: the student's own part is on the first screen, and nothing is wider than the screen.
    await student.page.evaluate(() => window.scrollTo(0, 0));
    const you = await student.page.getByTestId('you-panel').boundingBox();
    expect(you).not.toBeNull();
    expect(you!.y + 120).toBeLessThan(844);
    expect(await student.page.getByTestId('you-panel').innerText()).toMatch(/Your updates went into 2 of 2 rounds/);
    const overflow = await student.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    // Tables fit the phone too (not just scroll inside their box).
    const tableWidths = await student.page.evaluate(() => [...document.querySelectorAll('table')].map((t) => `${t.className || t.tagName}: ${Math.round(t.getBoundingClientRect().right)}`));
    expect(tableWidths.filter((w) => Number(w.split(': ')[1]) > 390)).toEqual([]);
    await student.page.screenshot({ path: `${SHOTS}/student-dashboard.png`, fullPage: true });
    await student.page.screenshot({ path: `${SHOTS}/student-phone-first-screen.png` });

    // Try the model: the student scores one of their held-out samples, the teacher draws a stroke; both in the worker.
    await student.page.getByRole('button', { name: 'A held-out sample of my data' }).click();
    await waitUntil('the student\'s prediction', async () => ((await student.page.locator('.try-guess').count()) > 0 ? true : undefined), 30_000);
    expect(await student.page.locator('.try-guess').innerText()).toMatch(/The model says \d.*true label \d/s);
    expect(await student.page.locator('.prob-bars li').count()).toBe(10);
    await host.page.locator('.draw-pad').scrollIntoViewIfNeeded();
    const pad = (await host.page.locator('.draw-pad').boundingBox())!;
    await host.page.mouse.move(pad.x + pad.width / 2, pad.y + 30);
    await host.page.mouse.down();
    await host.page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height - 30, { steps: 8 });
    await host.page.mouse.up();
    await waitUntil('the prediction of the drawing', async () => ((await host.page.locator('.try-guess').count()) > 0 ? true : undefined), 30_000);
    expect(await host.page.locator('.try-guess').innerText()).toMatch(/The model says \d/);
    // Per-class accuracy of the global model on the host's test set (validation worker).
    await host.page.getByRole('button', { name: /Per-class accuracy/ }).click();
    await waitUntil('the confusion matrix', async () => ((await host.page.locator('.confusion-table tbody tr').count()) === 10 ? true : undefined), 30_000);
    await host.page.screenshot({ path: `${SHOTS}/host-dashboard.png`, fullPage: true });

    // Take it home: the metrics CSV has a row per round.
    const [csvDownload] = await Promise.all([host.page.waitForEvent('download'), host.page.getByRole('button', { name: 'Metrics as CSV' }).click()]);
    const csvText = await (await csvDownload.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
    expect(csvText.trim().split('\n')).toHaveLength(3);

    // The global model after the last round, as TensorFlow.js files that load in Node and predict.
    const modelButton = host.page.getByRole('button', { name: /Global model after round 2/ });
    await waitUntil('the model download to be ready', async () => ((await modelButton.isEnabled().catch(() => false)) ? true : undefined), 30_000);
    const downloads: Download[] = [];
    host.page.on('download', (d) => downloads.push(d));
    await modelButton.click();
    await waitUntil('model.json and weights.bin', async () => (downloads.length >= 2 ? true : undefined), 30_000);
    const read = async (d: Download) => Buffer.concat(await (await d.createReadStream()).toArray());
    const byName = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), await read(d)] as const)));
    expect([...byName.keys()].sort()).toEqual(['model.json', 'weights.bin']);
    const modelJson = JSON.parse(byName.get('model.json')!.toString('utf8'));
    expect(modelJson.weightsManifest[0].paths).toEqual(['./weights.bin']);
    expect(modelJson.userDefinedMetadata.fedtab.round).toBe(2);
    const bin = byName.get('weights.bin')!;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));
    const logits = model.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor;
    expect(logits.shape).toEqual([1, 10]);
    expect([...(await logits.data())].every(Number.isFinite)).toBe(true);
    tf.dispose(logits);
    model.dispose();

    // Projector mode on a 1280x800 screen: the decomposition chart, the accuracy and the QR code all on the first screen.
    await expectOnProjectorScreen(host.page, ['.decomposition .chart', '.accuracy .big-numbers', '.accuracy .chart', '.join .qr']);
    await host.page.screenshot({ path: `${SHOTS}/host-projector.png` });
    await host.page.getByLabel('Projector mode').uncheck();

    const headerCells = await host.page.getByRole('columnheader').allInnerTexts();
    expect(headerCells).toEqual(expect.arrayContaining(['Local', 'Shift', 'Aggregation', 'Mode']));
    expect(host.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
    expect(student.problems).toEqual([]);
  });

  it("a private session through the form: refused on a plain-http page, then the privacy panel takes the decomposition's place, on the projector and on a phone", async () => {
    const fillForm = async (page: Page) => {
      await page.getByLabel('Your name (shown to the others)').fill('Teacher');
      await page.getByLabel('Rounds', { exact: true }).fill('2');
      await page.getByLabel('Minimum clients to start a round').fill('2');
      await page.getByLabel('Strategy', { exact: true }).selectOption('fedavg');
      await page.getByLabel('Clip norm').fill('1');
      await page.getByLabel('Secure aggregation').check();
      await page.getByLabel('DP noise multiplier').fill('1');
    };
    // The teacher hosts on this machine (127.0.0.1, a secure context); the link the dashboard shows is the LAN address,
    // plain http, which browsers do not treat as secure: no WebCrypto there, so no secure aggregation.
    const host = await openPage(browser, `${server.origin}/#/host`);
    await host.page.setViewportSize({ width: 1280, height: 900 });
    await fillForm(host.page);
    await host.page.getByRole('button', { name: 'Create session' }).click();
    await host.page.waitForURL(/#\/session/, { timeout: 60_000 }).catch(async (e) => {
      await host.page.screenshot({ path: `${SHOTS}/private-host-form-failed.png`, fullPage: true });
      throw e;
    });
    const joinUrl = await host.page.locator('#join-url').inputValue({ timeout: 60_000 });
    const lanOrigin = new URL(joinUrl).origin;
    expect(lanOrigin).not.toBe(server.origin);

    // Hosting from the LAN address: the form says why not, next to the field, before any session exists.
    const insecureHost = await openPage(browser, `${lanOrigin}/#/host`);
    await fillForm(insecureHost.page);
    await insecureHost.page.getByRole('button', { name: 'Create session' }).click();
    const refusal = insecureHost.page.locator('#host-secagg-error');
    await waitUntil('the refusal next to the field', async () => ((await refusal.count()) > 0 ? true : undefined), 10_000);
    expect(await refusal.innerText()).toMatch(/Secure aggregation is not possible on this page: .*is not one\. Start the app in HTTPS mode/s);
    expect(insecureHost.page.url()).toMatch(/#\/host/);

    // A phone on the plain-http link cannot take part: it says why and leaves, instead of stalling every round.
    const outsider = await openPage(browser, joinUrl);
    await outsider.page.getByLabel('Your name (shown to the others)').fill('Outsider');
    await outsider.page.getByRole('button', { name: /join/i }).click();
    await waitUntil('the outsider told why', async () => (/This session uses secure aggregation, so this tab cannot take part/.test(await outsider.page.locator('body').innerText()) ? true : undefined), 60_000);

    // A phone on the same link treated as secure, as the HTTPS mode (npm run start:https) would be.
    const secure = await launchChromium([`--unsafely-treat-insecure-origin-as-secure=${lanOrigin}`]);
    try {
      const student = await openPage(secure, joinUrl);
      await student.page.setViewportSize({ width: 390, height: 844 });
      await student.page.getByLabel('Your name (shown to the others)').fill('Student');
      await student.page.getByRole('button', { name: /join/i }).click();
      await student.page.waitForURL(/#\/session/, { timeout: 60_000 });
      await runToFinish(host, '2 private rounds on the host', 90_000, 'private-host-timeout.png');

      // The host: epsilon where the decomposition would be, and in the rounds table instead of its five columns of dashes.
      expect(await host.page.locator('.charts-area .privacy').isVisible()).toBe(true);
      expect(await host.page.locator('.decomposition').count()).toBe(0);
      expect(await host.page.getByTestId('privacy-spent').innerText()).toMatch(/^\d+\.\d\d\s+epsilon, no budget \(delta 1e-5\)/);
      expect(await host.page.getByTestId('privacy-sum').innerText()).toMatch(/saw only the sum of 2 contributions in round 2/);
      const headerCells = await host.page.locator('.rounds-table').getByRole('columnheader').allInnerTexts();
      expect(headerCells).toContain('Epsilon');
      expect(headerCells.filter((c) => /Global|Local|Shift|Mode/.test(c))).toEqual([]);
      await expectOnProjectorScreen(host.page, ['.charts-area .privacy .chart', '.accuracy .big-numbers', '.join .qr']);
      await host.page.screenshot({ path: `${SHOTS}/private-host-projector.png` });

      // The student on a phone: the same panel, and no claim that the aggregator knows its label counts.
      await waitUntil('round 2 on the student', async () => ((await student.page.getByTestId('round-progress').innerText()) === '2 of 2 rounds done' ? true : undefined), 60_000);
      expect(await student.page.locator('.charts-area .privacy').isVisible()).toBe(true);
      expect(await student.page.locator('section.peers').innerText()).toMatch(/their label counts stay on their devices/);
      const overflow = await student.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBe(0);
      await student.page.screenshot({ path: `${SHOTS}/private-student-phone.png`, fullPage: true });
      expect(host.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
      expect(student.problems).toEqual([]);
    } finally {
      await secure.close();
    }
  });

  it('a tabular session: the host defines the task, a student trains on a CSV, nobody needs the demo data', async () => {
    const host = await openPage(browser, `${server.origin}/#/host`);
    await host.page.setViewportSize({ width: 1280, height: 900 });
    await host.page.getByLabel('Your name (shown to the others)').fill('Teacher');
    await host.page.getByLabel('This tab also trains on its own data (besides aggregating)').uncheck();
    await host.page.getByLabel('What the session learns').selectOption('tabular');
    await host.page.getByLabel('Features per row').fill('4');
    await host.page.getByLabel('Classes', { exact: true }).fill('3');
    await host.page.getByLabel('MLP hidden layers').fill('16');
    await host.page.getByLabel('Rounds', { exact: true }).fill('2');
    await host.page.getByLabel('Minimum clients to start a round').fill('1');
    // Nobody holds validation data for this task: before Start the form says proxy measures nothing, and offers exact
    // (which sends local models to every peer: the host opts in).
    expect(await host.page.getByLabel('Decomposition mode').inputValue()).toBe('proxy');
    await host.page.getByRole('button', { name: 'Use exact' }).click();
    expect(await host.page.getByLabel('Decomposition mode').inputValue()).toBe('exact');
    await host.page.getByRole('button', { name: 'Create session' }).click();
    await host.page.waitForURL(/#\/session/, { timeout: 60_000 });
    const joinUrl = await host.page.locator('#join-url').inputValue({ timeout: 60_000 });

    const student = await openPage(browser, joinUrl);
    await student.page.setViewportSize({ width: 390, height: 844 });
    await student.page.getByLabel('Your name (shown to the others)').fill('Student');
    await student.page.getByRole('button', { name: /join/i }).click();
    await student.page.waitForURL(/#\/session/, { timeout: 60_000 });
    const dataPanel = student.page.locator('section.local-data');
    expect(await dataPanel.innerText()).toMatch(/table rows of 4 features, 3 classes/);
    // Test input: three well-separated clusters of 4 features (deterministic).
    const rows = Array.from({ length: 120 }, (_, i) => {
      const k = i % 3;
      return [...[0, 1, 2, 3].map((j) => (k * 3 + (j === k ? 2 : 0) + 0.3 * Math.sin(i * 7 + j)).toFixed(3)), `c${k}`].join(',');
    });
    await student.page.getByLabel('Import CSV or .npz files').setInputFiles({ name: 'clusters.csv', mimeType: 'text/csv', buffer: Buffer.from(`f1,f2,f3,f4,label\n${rows.join('\n')}\n`) });
    await waitUntil('the CSV loaded', async () => (/your own files/.test(await dataPanel.innerText()) ? true : undefined), 30_000);

    await runToFinish(host, '2 rounds on the host', 120_000, 'tabular-host-timeout.png');
    expect(await host.page.getByTestId('round-progress').innerText()).toBe('2 of 2 rounds done');
    // No common test set for this task: the dashboard says so instead of showing a made-up accuracy.
    expect(await host.page.locator('section.accuracy').innerText()).toMatch(/holds no test data/);
    expect(await host.page.locator('.rounds-table tbody tr').count()).toBe(2);
    // Both rounds measured the decomposition (columns: Global, Local, Shift, Aggregation, Mode).
    const roundRows = host.page.locator('.rounds-table tbody tr');
    for (let i = 0; i < 2; i++) {
      const cells = await roundRows.nth(i).locator('td').allInnerTexts();
      expect(cells.slice(0, 4).every((c) => /^[-+−]?\d/.test(c.trim())), cells.join(' | ')).toBe(true);
      expect(cells[4]).toBe('exact');
    }
    await waitUntil('the student\'s contribution', async () => (/Your updates went into 2 of 2 rounds/.test(await student.page.getByTestId('you-panel').innerText()) ? true : undefined), 30_000);
    await host.page.screenshot({ path: `${SHOTS}/tabular-host.png`, fullPage: true });
    expect(host.problems).toEqual([]);
    expect(student.problems).toEqual([]);
  });
});
