/**
 * Screenshots of the UI preview (dev only). Needs a Vite dev server:
 *   npx vite --port 5199 --host 127.0.0.1 &
 *   npx tsx e2e/pages/ui-preview-screenshots.ts [outDir]      (default docs/screenshots)
 * Fails when the page reports an error or a chart does not render.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.UI_PREVIEW_URL ?? 'http://127.0.0.1:5199/e2e/pages/ui-preview.html';
const outDir = process.argv[2] ?? 'docs/screenshots';

interface Shot {
  file: string;
  url: string;
  viewport: { width: number; height: number };
  fullPage: boolean;
  /** Keep only the top of a full-page shot (CSS pixels), to keep the PNG small. */
  maxHeight?: number;
  projector?: boolean;
  /** CSS selector that must be visible before the shot. */
  waitFor: string;
}

const SHOTS: Shot[] = [
  { file: 'dashboard.png', url: `${BASE}#/session`, viewport: { width: 1280, height: 800 }, fullPage: true, waitFor: '.decomposition .chart canvas' },
  { file: 'dashboard-mobile.png', url: `${BASE}#/session`, viewport: { width: 390, height: 844 }, fullPage: true, maxHeight: 2 * 844, waitFor: '.decomposition .chart canvas' },
  // One projector screen (not the full page): the decomposition, accuracy and QR must all be on it.
  { file: 'dashboard-projector.png', url: BASE.replace('.html', '.html?view=host') + '#/session', viewport: { width: 1280, height: 800 }, fullPage: false, projector: true, waitFor: '.decomposition .chart canvas' },
  { file: 'host-form.png', url: `${BASE}#/host`, viewport: { width: 1280, height: 720 }, fullPage: true, waitFor: '.host-form' },
];

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const extra = process.env.UI_PREVIEW_EXTRA === '1';
  const shots: Shot[] = extra
    ? [
        ...SHOTS,
        { file: 'dashboard-host.png', url: BASE.replace('.html', '.html?view=host') + '#/session', viewport: { width: 1280, height: 720 }, fullPage: true, waitFor: '.decomposition .chart canvas' },
        { file: 'landing.png', url: `${BASE}#/`, viewport: { width: 1280, height: 720 }, fullPage: false, waitFor: '.landing' },
        { file: 'join.png', url: `${BASE}#/join/ABCD?s=xyz`, viewport: { width: 390, height: 844 }, fullPage: false, waitFor: '#display-name' },
      ]
    : SHOTS;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const shot of shots) {
      const context = await browser.newContext({ viewport: shot.viewport, deviceScaleFactor: 1 });
      if (shot.projector) await context.addInitScript(() => localStorage.setItem('fedtab.ui.projector', '1'));
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      await page.goto(shot.url, { waitUntil: 'load' });
      await page.waitForSelector(shot.waitFor, { state: 'visible', timeout: 15_000 });
      await page.waitForTimeout(400);
      if (problems.length > 0) throw new Error(`${shot.file}: the page reported: ${problems.join(' | ')}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 0) throw new Error(`${shot.file}: the page is ${overflow} px wider than the ${shot.viewport.width} px viewport`);
      const file = path.join(outDir, shot.file);
      const clip = shot.maxHeight ? { x: 0, y: 0, width: shot.viewport.width, height: Math.min(shot.maxHeight, await page.evaluate(() => document.documentElement.scrollHeight)) } : undefined;
      await page.screenshot({ path: file, fullPage: shot.fullPage, clip });
      console.log(`wrote ${file}`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
