import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPagePath } from '../src/simulator/admin-page.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { chromiumAvailable, CHROMIUM, launchChromium, openWatchedPage, panelFrameOf } from './helpers/browser.ts';
import { startPipelineApp, type PipelineApp } from './helpers/pipeline-app.ts';

// The settings page's coverage and API token sections and the repository panel's findings
// list, in Debian's chromium on the simulator: discovery and backfill started, paused and
// resumed from the page, whose progress updates without a reload; a token created (shown
// once), used and revoked; the repository panel listing its 20 worst findings, then the rest.

const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '..', 'docs') : path.join(os.tmpdir(), 'gatehouse-screenshots');
/** 26 distinct AWS-shaped keys (the detector dedupes equal ones): more than the panel's first 20. */
const KEYS = Array.from({ length: 26 }, (_, i) => `AKIAZ3MQ7XKPLR4TB${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + ((i * 7) % 26))}W`);

describe('coverage, API tokens and the repository findings list in a browser', { timeout: 180_000 }, () => {
  let dataDir: string;
  let stack: PipelineApp;
  let sim: Simulator;
  let browser: Browser;
  let page: Page;
  let dialogs: string[] = [];
  let cspViolations: string[] = [];

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    await mkdir(SCREENSHOTS, { recursive: true });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-browser-coverage-'));
    stack = await startPipelineApp({ dataDir });
    sim = await startSimulator({ appBaseUrl: stack.baseUrl, retryDelayMs: 0 });
    await stack.attach({ web: sim.webOrigin, api: sim.apiOrigin });
    await sim.install();
    const leaks = Object.fromEntries(KEYS.map((key, i) => [`config/service-${String(i).padStart(2, '0')}.env`, `# service ${i}\nAWS_ACCESS_KEY_ID=${key}\n`]));
    await sim.createRepository('acme', 'leaky', { files: { 'README.md': '# leaky\n', ...leaks } });
    await sim.createRepository('acme', 'clean', { files: { 'README.md': '# clean\n' } });
    await sim.createRepository('acme', 'docs', { files: { 'index.md': '# docs\n' } });
    browser = await launchChromium();
    ({ page, dialogs, cspViolations } = await openWatchedPage(browser, { viewport: { width: 1280, height: 1100 } }));
  });

  afterAll(async () => {
    await browser?.close();
    await sim?.stop();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function openSettings(): Promise<Frame> {
    await page.goto(`${sim.webOrigin}${adminPagePath('acme', 'gatehouse-settings')}`);
    return panelFrameOf(page);
  }

  /** Waits until `selector`'s text is `text` (polled from here: the page's CSP forbids string predicates). */
  async function textBecomes(frame: Frame, selector: string, text: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = ((await frame.textContent(selector)) ?? '').trim();
      if (now === text) return;
      if (Date.now() > deadline) throw new Error(`${selector} never said ${JSON.stringify(text)}; it says ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const state = (_frame: Frame) => '#gh-coverage [data-gh-cov="stateLabel"]';
  const summary = '#gh-coverage [data-gh-cov="summary"]';

  it('discovery and backfill run from the settings page, whose progress updates without a reload', async () => {
    const frame = await openSettings();
    expect((await frame.textContent(state(frame)))?.trim()).toBe('Not started');
    // A mark on the document: still there at the end means the page was never reloaded.
    await frame.$eval('#gh-coverage', (el) => el.setAttribute('data-test-mark', 'kept'));

    await frame.click('button:has-text("Discover now")');
    await textBecomes(frame, state(frame), 'Done');
    await textBecomes(frame, summary, '3 of 3 repositories done');
    expect(Number(await frame.textContent('#gh-coverage [data-gh-cov="findings"]'))).toBe(KEYS.length);
    expect(Number(await frame.textContent('#gh-coverage [data-gh-cov="files"]'))).toBeGreaterThanOrEqual(KEYS.length + 2);
    expect(await frame.textContent('#gh-coverage [data-gh-cov="lastDiscoveryAt"]')).toMatch(/UTC$/);
    await frame.locator('#gh-coverage').screenshot({ path: path.join(SCREENSHOTS, 'settings-coverage.png') });

    // Start with the worker stopped: the run waits, and can be paused and resumed.
    await stack.worker.stop();
    await frame.click('button:has-text("Start backfill")');
    await textBecomes(frame, state(frame), 'Backfilling');
    await textBecomes(frame, summary, '0 of 3 repositories done');
    expect(await frame.isDisabled('button:has-text("Start backfill")')).toBe(true);
    await frame.click('#gh-coverage button:has-text("Pause")');
    await textBecomes(frame, state(frame), 'Paused');
    expect(await frame.isEnabled('button:has-text("Resume")')).toBe(true);
    await frame.click('button:has-text("Resume")');
    await textBecomes(frame, state(frame), 'Backfilling');
    stack.worker.start();
    await textBecomes(frame, state(frame), 'Done');
    await textBecomes(frame, summary, '3 of 3 repositories done');
    expect(await frame.getAttribute('#gh-coverage', 'data-test-mark')).toBe('kept');

    // The toggle is stored.
    const clientKey = sim.installation()!.clientKey;
    await frame.uncheck('[data-gh-auto-backfill]');
    const deadline = Date.now() + 10_000;
    while ((await stack.results.getCoverage(clientKey))?.autoBackfill !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await stack.results.getCoverage(clientKey))?.autoBackfill).toBe(false);
  });

  it('an API token is created (shown once, with a copy button), works outside the iframe, and is revoked', async () => {
    const frame = await openSettings();
    await frame.fill('#gh-token-name', 'CMDB export');
    await frame.click('button:has-text("Create token")');
    await frame.waitForSelector('[data-gh-token-created]:not([hidden])');
    expect(await frame.textContent('[data-gh-token-created]')).toContain('it will not be shown again');
    const token = await frame.inputValue('#gh-token-value');
    expect(token).toMatch(/^ghtok_[A-Za-z0-9_-]{40,}$/);
    expect(await frame.isVisible('button[data-gh-copy]')).toBe(true);
    const row = frame.locator('[data-gh-token-rows] tr', { hasText: 'CMDB export' });
    expect(await row.count()).toBe(1);
    // The token itself is masked in the picture: it is a secret, even a test instance's.
    await frame.locator('#gh-tokens').screenshot({ path: path.join(SCREENSHOTS, 'settings-tokens.png'), mask: [frame.locator('#gh-token-value')], maskColor: '#dcdfe4' });

    const call = () => fetch(`${stack.baseUrl}/api/coverage`, { headers: { Authorization: `Bearer ${token}` } });
    const used = await call();
    expect(used.status).toBe(200);
    expect(((await used.json()) as { state: string }).state).toBe('done');

    // Reloaded: listed with its creator, never with its value.
    const again = await openSettings();
    expect(await again.textContent('[data-gh-token-rows]')).toContain('Sim User');
    expect(await again.content()).not.toContain(token);
    await again.locator('[data-gh-token-rows] tr', { hasText: 'CMDB export' }).getByRole('button', { name: 'Revoke' }).click();
    await again.waitForSelector('[data-gh-tokens-empty]:not([hidden])');
    expect((await call()).status).toBe(401);
    expect(await stack.results.listApiTokens(sim.installation()!.clientKey)).toEqual([]);
  });

  it('the repository panel lists the 20 worst open findings with source links and masked previews, then the rest', async () => {
    await page.goto(`${sim.webOrigin}/acme/leaky`);
    const frame = await panelFrameOf(page);
    await frame.waitForSelector('#gh-open-list');
    const items = () => frame.$$eval('#gh-open-list > li', (els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ').trim() ?? ''));
    const first = await items();
    expect(first).toHaveLength(20);
    expect(first[0]).toContain('config/service-00.env:2');
    const page1 = first.join('\n');
    for (const key of KEYS) expect(page1).not.toContain(key);
    expect(page1).toMatch(/AK\*{10,}[A-Z]{2}/);
    const head = (await sim.repository('acme/leaky').git.branchHead('main'))!;
    expect(await frame.getAttribute('#gh-open-list > li a', 'href')).toBe(`${sim.webOrigin}/acme/leaky/src/${head}/config/service-00.env#lines-2`);
    expect(await frame.textContent('.gh-facts')).toContain('Whole branch scanned');
    await page.locator('section.panel').screenshot({ path: path.join(SCREENSHOTS, 'panels-repository-findings.png') });

    await frame.click('button:has-text("Show 6 more of 6 remaining")');
    const deadline = Date.now() + 10_000;
    while ((await items()).length < KEYS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const all = await items();
    expect(all).toHaveLength(KEYS.length);
    expect(all[25]).toContain('config/service-25.env:2');
    expect(await frame.$('[data-gh-more]')).toBeNull();
  });

  it('the Health section lists a dead job with its reason, and Retry puts it back in the queue', async () => {
    const clientKey = sim.installation()!.clientKey;
    await stack.worker.stop();
    try {
      const { jobId } = await stack.store.acceptDelivery({ id: 'browser-dead-1', clientKey, event: 'repo:push' }, { clientKey, type: 'webhook:repo:push', payload: {} });
      await stack.store.updateJob(jobId!, { status: 'dead', attempts: 5, lastError: 'BitbucketApiError: 403 Forbidden (scope)' });
      const frame = await openSettings();
      const health = frame.locator('#gh-health');
      expect(await health.textContent()).toContain('repo:push');
      const row = frame.locator(`[data-gh-dead-job="${jobId}"]`);
      expect(await row.textContent()).toContain('BitbucketApiError: 403 Forbidden (scope)');
      expect(await health.locator('.gh-problems').textContent()).toContain('job(s) gave up.');
      await health.screenshot({ path: path.join(SCREENSHOTS, 'settings-health.png') });
      await row.getByRole('button', { name: 'Retry' }).click();
      await textBecomes(frame, `[data-gh-dead-job="${jobId}"] td:last-child`, 'Queued again');
      expect((await stack.store.getJob(jobId!))?.status).toBe('queued');
    } finally {
      stack.worker.start();
    }
  });

  it('ran no injected script and broke no CSP rule on any page', () => {
    expect(dialogs).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(sim.violations).toEqual([]);
  });
});
