import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContextOptions, type Frame, type Page } from 'playwright-core';

/**
 * Browser tests: Debian's chromium driven by playwright-core (no downloaded browser). The
 * product runs in the test process through startPipelineApp (./pipeline-app.ts).
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--headless'];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A page on which every dialog is recorded and dismissed and every Content Security Policy
 * refusal the console reports is recorded: the browser tests end by expecting both empty.
 * The arrays fill as the page runs.
 */
export async function openWatchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ page: Page; dialogs: string[]; cspViolations: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light', ...options });
  const dialogs: string[] = [];
  const cspViolations: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  return { page, dialogs, cspViolations };
}

/** The frame of the Connect panel iframe on `page`, once the app's page has drawn its content. */
export async function panelFrameOf(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe.ap-panel');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('panel iframe has no frame');
  await frame.waitForSelector('[data-gh-region], .gh-state');
  return frame;
}
