import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForResults } from '../src/simulator/demo-results.ts';
import { fakeAwsKeyPair, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import { startForgeSession, type ForgeSession } from '../src/simulator/forge/session.ts';
import { chromiumAvailable, CHROMIUM, launchChromium, openWatchedPage } from './helpers/browser.ts';
import { leakyFiles } from './helpers/leaky-files.ts';
import { npmLockfile } from './helpers/npm-fixtures.ts';

// The Forge Custom UI bundles in Debian's chromium, on the local Forge's host pages: each page
// frames the local Forge's frame, which frames the bundle's index.html with the bridge
// stand-in; every call goes through invokeRemote, signed by the local Forge, to the app.

const leaked = fakeAwsKeyPair();

describe('Forge Custom UI in a browser, on the local Forge', { timeout: 180_000 }, () => {
  let dataDir: string;
  let session: ForgeSession;
  let browser: Browser;
  let page: Page;
  let prId: number;
  let dialogs: string[] = [];
  let cspViolations: string[] = [];

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-browser-forge-'));
    session = await startForgeSession({ dataDir, retryDelayMs: 0, logLevel: 'silent' });
    const { sim } = session;
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n' } });
    await sim.createBranch('acme/web', 'nightly-export');
    await sim.commit('acme/web', 'nightly-export', pullRequestFiles(leaked), 'Add the nightly export');
    prId = (await sim.openPullRequest('acme/web', { source: 'nightly-export', title: 'Nightly export' })).id;
    await waitForResults(sim, 'acme/web', prId, 90_000);
    browser = await launchChromium();
    ({ page, dialogs, cspViolations } = await openWatchedPage(browser, { acceptDownloads: true }));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await session?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** The Custom UI document inside the local Forge's frame on the host page, once it has drawn. */
  async function customUi(ready: string): Promise<Frame> {
    const outer = await (await page.waitForSelector('iframe.forge-panel')).contentFrame();
    if (!outer) throw new Error('the Forge panel iframe has no frame');
    const inner = await (await outer.waitForSelector('iframe#forge-ui')).contentFrame();
    if (!inner) throw new Error('the Custom UI iframe has no frame');
    await inner.waitForSelector(ready);
    return inner;
  }

  /** The page's aria-live region said `text`; polled from here (the resource CSP forbids eval). */
  async function liveSays(frame: Frame, text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await frame.textContent('#gh-live')) !== text) {
      if (Date.now() > deadline) throw new Error(`live region never said ${JSON.stringify(text)}; it says ${JSON.stringify(await frame.textContent('#gh-live'))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('the pull-request panel shows the findings of the scan, without the secret', async () => {
    await page.goto(`${session.sim.webOrigin}/acme/web/pull-requests/${prId}`);
    const frame = await customUi('.gh-verdict__title');
    expect((await frame.textContent('.gh-verdict__title'))?.trim()).toBe('Security check failed');
    const findings = await frame.$$eval('.gh-finding', (els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ') ?? ''));
    expect(findings.some((t) => t.includes('config/deploy.env:3'))).toBe(true);
    expect(findings.join('\n')).not.toContain(leaked.accessKeyId);
    expect(findings.join('\n')).not.toContain(leaked.secretAccessKey);
  });

  it('triages a finding from the panel: the mark is saved, announced and shown', async () => {
    await page.goto(`${session.sim.webOrigin}/acme/web/pull-requests/${prId}`);
    const frame = await customUi('.gh-finding');
    const secret = frame.locator('.gh-finding', { hasText: 'config/deploy.env:3' }).first();
    await secret.getByRole('button', { name: 'Triage' }).click();
    await secret.getByLabel('False positive').check();
    await secret.getByLabel(/^Reason/).fill('Documentation example key, never valid');
    await secret.getByRole('button', { name: 'Save' }).click();
    await liveSays(frame, 'Marked as false positive.');
    const marked = frame.locator('.gh-finding', { hasText: 'config/deploy.env:3' }).first();
    await marked.locator('.gh-triage').waitFor();
    expect(await marked.locator('.gh-triage').textContent()).toContain('Documentation example key, never valid');
    expect(await marked.getByRole('button', { name: 'Undo false positive' }).isVisible()).toBe(true);

    // A fresh load shows the stored mark.
    await page.reload();
    const again = await customUi('.gh-finding');
    expect(await again.locator('.gh-finding', { hasText: 'config/deploy.env:3' }).first().locator('.gh-triage').textContent()).toContain('Documentation example key');
  });

  it('the settings page saves the policy, shows the triage audit, and keeps a refused value with its message', async () => {
    await page.goto(`${session.sim.webOrigin}/acme/workspace/settings/forge`);
    let frame = await customUi('#gh-threshold');
    expect(await frame.inputValue('#gh-threshold')).toBe('high');
    expect(await frame.textContent('.gh-table tbody')).toContain('Documentation example key, never valid');

    await frame.fill('#gh-environments', 'main production');
    await frame.click('button:has-text("Save settings")');
    await frame.waitForSelector('#gh-environments-error');
    expect(await frame.textContent('#gh-environments-error')).toMatch(/^Line 1/);

    await frame.selectOption('#gh-threshold', 'critical');
    await frame.fill('#gh-environments', 'main: production');
    await frame.fill('#gh-ignored', 'test/fixtures/**');
    await frame.click('button:has-text("Save settings")');
    await liveSays(frame, 'Settings saved');

    await page.reload();
    frame = await customUi('#gh-threshold');
    expect(await frame.inputValue('#gh-threshold')).toBe('critical');
    expect(await frame.inputValue('#gh-ignored')).toBe('test/fixtures/**');
  });

  it('the repository panel downloads the main branch SBOM, as the Connect panel offers it', async () => {
    const { sim, forge } = session;
    await sim.commit('acme/web', 'main', { 'package-lock.json': npmLockfile('web', { lodash: '4.17.15' }) }, 'Pin lodash');
    const module = forge.manifest.uiModules.find((m) => m.type === 'bitbucket:repoCodeOverviewPanel')!;
    const frameId = forge.openFrame(module, { workspace: 'acme', repository: 'acme/web' });
    const deadline = Date.now() + 60_000;
    while ((await forge.invokeFromFrame(frameId, { path: '/forge/ui/repository', method: 'POST', body: {} })).body?.sbomAvailable !== true) {
      if (Date.now() > deadline) throw new Error('the main branch inventory never came');
      await new Promise((r) => setTimeout(r, 200));
    }

    await page.goto(`${sim.webOrigin}/acme/web`);
    const frame = await customUi('.gh-facts');
    const [download] = await Promise.all([page.waitForEvent('download'), frame.click('button:has-text("Download SBOM")')]);
    expect(download.suggestedFilename()).toMatch(/^acme_web-[0-9a-f]{12}\.cdx\.json$/);
    const sbom = JSON.parse(await readFile(await download.path(), 'utf8')) as { bomFormat?: string; components?: { name: string }[] };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.components?.map((c) => c.name)).toEqual(['lodash']);
    await liveSays(frame, 'SBOM downloaded');
  });

  it('the repository panel lists the 20 worst open findings with source links and masked previews, and shows more on request', async () => {
    const { sim, forge } = session;
    const { keys, files } = leakyFiles(26);
    await sim.commit('acme/web', 'main', files, 'Add the service configs');
    const head = (await sim.repository('acme/web').git.branchHead('main'))!;
    const module = forge.manifest.uiModules.find((m) => m.type === 'bitbucket:repoCodeOverviewPanel')!;
    const frameId = forge.openFrame(module, { workspace: 'acme', repository: 'acme/web' });
    const deadline = Date.now() + 60_000;
    while (Number((await forge.invokeFromFrame(frameId, { path: '/forge/ui/repository', method: 'POST', body: {} })).body?.openTotal) < keys.length) {
      if (Date.now() > deadline) throw new Error('the main branch scan never listed the keys');
      await new Promise((r) => setTimeout(r, 200));
    }

    await page.goto(`${sim.webOrigin}/acme/web`);
    const frame = await customUi('#gh-open-list');
    const items = () => frame.$$eval('#gh-open-list > li', (els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ').trim() ?? ''));
    const first = await items();
    expect(first).toHaveLength(20);
    expect(first[0]).toContain('config/service-00.env:2');
    expect(first.join('\n')).toMatch(/AK\*{10,}[A-Z]{2}/);
    for (const key of keys) expect(first.join('\n')).not.toContain(key);
    expect(await frame.getAttribute('#gh-open-list > li a', 'href')).toBe(`${sim.webOrigin}/acme/web/src/${head}/config/service-00.env#lines-2`);
    expect(await frame.textContent('.gh-facts')).toContain('Not in a backfill yet');

    await frame.click('button:has-text("Show 6 more of 6 remaining")');
    await liveSays(frame, '6 more findings shown');
    const all = await items();
    expect(all).toHaveLength(keys.length);
    expect(all[25]).toContain('config/service-25.env:2');
    for (const key of keys) expect(all.join('\n')).not.toContain(key);
    expect(await frame.$('button:has-text("more of")')).toBeNull();
  });

  it('ran no injected script and broke no CSP rule', () => {
    expect(dialogs).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(session.sim.violations).toEqual([]);
  });
});
