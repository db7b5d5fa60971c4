import path from 'node:path';
import { chromium } from 'playwright-core';
import { runDemo } from './demo.ts';

/**
 * Regenerates docs/host-page.png: runs the demo, opens its pull request on the simulator's
 * host page in a headless Chromium and saves the page once the app's panels have loaded.
 *
 *   node --import tsx src/simulator/screenshot.ts [out.png]
 *
 * CHROMIUM_PATH picks the browser (default /usr/bin/chromium, Debian's package).
 */

const out = path.resolve(process.argv[2] ?? 'docs/host-page.png');
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const run = await runDemo({ log: (line) => process.stdout.write(`${line}\n`) });
try {
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(run.hostPageUrl, { waitUntil: 'load' });
    // Each panel reports its size through all.js once it has rendered.
    for (const frame of page.frames().slice(1)) await frame.waitForLoadState('load');
    await page.waitForTimeout(500);
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`Saved ${out}\n`);
  } finally {
    await browser.close();
  }
} finally {
  await run.stop();
}
