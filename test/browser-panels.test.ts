import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryIndex } from '../src/scan/deps/index.ts';
import { npmLockfile } from './helpers/npm-fixtures.ts';
import { adminPagePath } from '../src/simulator/admin-page.ts';
import { grantWorkspace } from '../src/simulator/permissions.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { chromiumAvailable, CHROMIUM, launchChromium, openWatchedPage, panelFrameOf } from './helpers/browser.ts';
import { startPipelineApp, type PipelineApp } from './helpers/pipeline-app.ts';

// Through the simulator's host pages, in Debian's chromium: the panels show a real scan's
// findings, triage works end to end (mark in the panel, next scan passes), and the settings
// page changes the verdict of the next scan. Screenshots for the README go to docs/.

/** README screenshots are refreshed on request only, so a test run leaves the tree clean. */
const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '..', 'docs') : path.join(os.tmpdir(), 'gatehouse-screenshots');
const AWS_LINE = 'const awsKey = "AKIAZ3MQ7XKPLR4TBN2W";';
const XSS_TITLE = 'Add config <img src=x onerror=alert(1)>';

const advisory = (id: string, name: string, fixed: string, severity: string, summary: string) => ({
  id,
  modified: '2024-01-01T00:00:00Z',
  summary,
  affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }] }],
  database_specific: { severity },
});

const INDEX = createMemoryIndex([
  advisory('GHSA-29mw-wpgm-hmr9', 'lodash', '4.17.21', 'HIGH', 'Regular expression denial of service in lodash'),
  advisory('GHSA-xvch-5gv4-984h', 'minimist', '1.2.6', 'CRITICAL', 'Prototype pollution in minimist'),
  advisory('GHSA-hrpp-h998-j3pp', 'qs', '6.5.3', 'HIGH', 'qs vulnerable to prototype pollution'),
]);

describe('panels and settings in a browser, on the local Bitbucket', { timeout: 120_000 }, () => {
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
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-browser-'));
    stack = await startPipelineApp({ dataDir, tuning: { vulnIndex: () => INDEX } });
    sim = await startSimulator({ appBaseUrl: stack.baseUrl, retryDelayMs: 0 });
    await stack.attach({ web: sim.webOrigin, api: sim.apiOrigin });
    await sim.install();
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n', 'package-lock.json': npmLockfile('web', { lodash: '4.17.15' }) } });
    browser = await launchChromium();
    ({ page, dialogs, cspViolations } = await openWatchedPage(browser));
  });

  afterAll(async () => {
    await browser?.close();
    await sim?.stop();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function openPullRequest(id: number): Promise<Frame> {
    await page.goto(`${sim.webOrigin}/acme/web/pull-requests/${id}`);
    return panelFrameOf(page);
  }

  /** The page's aria-live region said `text` (what a screen reader announces). */
  async function liveSays(frame: Frame, text: string, timeoutMs = 10_000): Promise<void> {
    // Polled from here: the page's CSP (rightly) forbids the eval a string predicate needs.
    const deadline = Date.now() + timeoutMs;
    while ((await frame.textContent('#gh-live')) !== text) {
      if (Date.now() > deadline) throw new Error(`live region never said ${JSON.stringify(text)}; it says ${JSON.stringify(await frame.textContent('#gh-live'))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function verdict(frame: Frame): Promise<string> {
    return ((await frame.textContent('.gh-verdict__title')) ?? '').trim();
  }

  /** all.js sized the iframe to its content (the host's default is 240px). */
  async function frameHeight(): Promise<number> {
    const height = () => page.$eval('iframe.ap-panel', (el) => el.getBoundingClientRect().height);
    const deadline = Date.now() + 10_000;
    while ((await height()) === 240 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return height();
  }

  it('the pull-request panel shows the findings of a real scan, new first by severity, existing collapsed', async () => {
    await sim.createBranch('acme/web', 'feature');
    await sim.commit('acme/web', 'feature', { 'src/config.js': `// settings\n${AWS_LINE}\n`, 'package-lock.json': npmLockfile('web', { lodash: '4.17.15', minimist: '1.2.0' }) }, 'Add config');
    await sim.openPullRequest('acme/web', { source: 'feature', title: XSS_TITLE });
    await stack.settle();

    const frame = await openPullRequest(1);
    expect(await verdict(frame)).toBe('Security check failed');
    expect(await frame.textContent('.gh-verdict__reason')).toContain('not triaged (policy threshold: high)');
    const groups = await frame.$$eval('.gh-group__title', (els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ').trim()));
    expect(groups[0]).toMatch(/^Critical/);
    const fresh = await frame.$$eval('section.gh-section .gh-finding', (els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ') ?? ''));
    expect(fresh.some((t) => t.includes('src/config.js:2') && t.includes('AKIA'))).toBe(true);
    expect(fresh.some((t) => t.includes('minimist@1.2.0') && t.includes('GHSA-xvch-5gv4-984h') && t.includes('Fixed in 1.2.6'))).toBe(true);
    expect(fresh.some((t) => t.includes('AKIAZ3MQ7XKPLR4TBN2W'))).toBe(false);
    expect(await frame.textContent('details.gh-existing summary')).toContain('Existing findings');
    expect(await frame.isVisible('details.gh-existing .gh-finding')).toBe(false);
    await frame.click('details.gh-existing summary');
    expect(await frame.textContent('details.gh-existing')).toContain('lodash@4.17.15');
    await frame.click('details.gh-existing summary');
    const source = await frame.getAttribute('.gh-finding a[href*="/src/"]', 'href');
    expect(source).toMatch(new RegExp(`^${sim.webOrigin}/acme/web/src/[0-9a-f]{40}/`));

    expect(await frameHeight()).toBeGreaterThan(300);
    await page.locator('section.panel').screenshot({ path: path.join(SCREENSHOTS, 'panels-pull-request.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(200);
    await page.locator('section.panel').screenshot({ path: path.join(SCREENSHOTS, 'panels-pull-request-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('triage works end to end: marked in the panel (mouse and keyboard), announced, stored, and the next scan passes', async () => {
    const frame = await openPullRequest(1);
    const secret = frame.locator('section.gh-section .gh-finding', { hasText: 'src/config.js' });
    await secret.getByRole('button', { name: 'Triage' }).click();
    expect(await secret.getByRole('button', { name: 'Triage' }).getAttribute('aria-expanded')).toBe('true');
    await secret.getByLabel('False positive').check();
    await secret.getByLabel(/^Reason/).fill('Documentation example key, never valid');
    await frameHeight();
    await page.locator('section.panel').screenshot({ path: path.join(SCREENSHOTS, 'panels-triage.png') });
    await secret.getByRole('button', { name: 'Save' }).click();
    await liveSays(frame, 'Marked as false positive.');
    const marked = frame.locator('section.gh-section .gh-finding', { hasText: 'src/config.js' }).locator('.gh-triage');
    await marked.waitFor();
    expect(await marked.textContent()).toContain('Marked false positive by Sim User');

    // Keyboard only: open the disclosure, choose, type, submit.
    const pkg = frame.locator('section.gh-section .gh-finding', { hasText: 'minimist@1.2.0' });
    await pkg.getByRole('button', { name: 'Triage' }).focus();
    await page.keyboard.press('Enter');
    // The form opens with the focus on its first choice.
    expect(await frame.locator(':focus').getAttribute('value')).toBe('ignored');
    await page.keyboard.press('Space');
    await pkg.getByLabel(/^Reason/).focus();
    await page.keyboard.type('Only used by the build, not shipped');
    await pkg.getByRole('button', { name: 'Save' }).focus();
    await page.keyboard.press('Enter');
    await liveSays(frame, 'Marked as ignored.');
    const focused = await frame.locator(':focus').textContent();
    expect(focused).toContain('minimist@1.2.0');

    const marks = await stack.results.listTriage(sim.installation()!.clientKey);
    expect(marks.map((m) => [m.status, m.reason, m.by]).sort()).toEqual([
      ['false_positive', 'Documentation example key, never valid', sim.user.uuid],
      ['ignored', 'Only used by the build, not shipped', sim.user.uuid],
    ]);
    expect(await frame.textContent('.gh-note')).toContain('the next scan of this pull request will pass');

    await sim.updatePullRequest('acme/web', 1, { 'docs/notes.md': '# notes\n' }, 'Add notes');
    await stack.settle();
    const after = await openPullRequest(1);
    expect(await verdict(after)).toBe('Security check passed');
    const head = sim.pullRequest('acme/web', 1).sourceHash;
    expect(sim.repository('acme/web').statuses.get(head)?.get('gatehouse-security')?.body.state).toBe('SUCCESSFUL');
  });

  it('the settings page changes the verdict of the next scan (threshold high -> critical)', async () => {
    await sim.createBranch('acme/web', 'feature-2');
    await sim.commit('acme/web', 'feature-2', { 'package-lock.json': npmLockfile('web', { lodash: '4.17.15', qs: '6.5.2' }) }, 'Add qs');
    const pr = await sim.openPullRequest('acme/web', { source: 'feature-2', title: 'Add qs' });
    await stack.settle();
    expect(await verdict(await openPullRequest(pr.id))).toBe('Security check failed');

    await page.goto(`${sim.webOrigin}${adminPagePath('acme', 'gatehouse-settings')}`);
    const settings = await panelFrameOf(page);
    expect(await settings.inputValue('#gh-threshold')).toBe('high');
    await settings.selectOption('#gh-threshold', 'critical');
    await settings.fill('#gh-ignored', 'test/fixtures/**');
    await settings.click('button:has-text("Save settings")');
    await liveSays(settings, 'Settings saved');
    expect(await settings.inputValue('#gh-threshold')).toBe('critical');
    expect((await stack.results.getPolicy(sim.installation()!.clientKey))?.threshold).toBe('critical');
    const audit = (await settings.textContent('section[aria-labelledby="gh-audit-title"] .gh-table tbody')) ?? '';
    expect(audit).toContain('Documentation example key, never valid');
    expect(audit).toContain('Sim User');
    expect(audit).toContain('acme/web');
    await frameHeight();
    await page.locator('section.panel').screenshot({ path: path.join(SCREENSHOTS, 'settings-page.png') });

    await sim.updatePullRequest('acme/web', pr.id, { 'docs/qs.md': 'qs is used for query strings\n' }, 'Document qs');
    await stack.settle();
    const after = await openPullRequest(pr.id);
    expect(await verdict(after)).toBe('Security check passed');
    expect(await after.textContent('.gh-verdict__reason')).toContain('policy threshold: critical');
  });

  it('a user who is no longer a workspace admin is refused by the server, even with the form on screen', async () => {
    await page.goto(`${sim.webOrigin}${adminPagePath('acme', 'gatehouse-settings')}`);
    const settings = await panelFrameOf(page);
    const workspace = sim.site.repositories.get('acme/web')!.workspace;
    grantWorkspace(sim.site, workspace, sim.user, 'member');
    try {
      await settings.selectOption('#gh-threshold', 'low');
      await settings.click('button:has-text("Save settings")');
      await settings.waitForSelector('#gh-alert:not([hidden])');
      expect(await settings.textContent('#gh-alert')).toBe('Only workspace admins can change Gatehouse settings');
      expect((await stack.results.getPolicy(sim.installation()!.clientKey))?.threshold).toBe('critical');
    } finally {
      grantWorkspace(sim.site, workspace, sim.user, 'owner');
    }
  });

  it('a panel opened while its scan waits shows "scanning", then updates itself and announces the result', async () => {
    await stack.worker.stop();
    await sim.createBranch('acme/web', 'feature-3');
    await sim.commit('acme/web', 'feature-3', { 'src/other.js': `${AWS_LINE}\n` }, 'Add other');
    const pr = await sim.openPullRequest('acme/web', { source: 'feature-3', title: 'Add other' });
    const frame = await openPullRequest(pr.id);
    expect(await verdict(frame)).toBe('Scanning this commit');
    expect(await frame.getAttribute('[data-gh-region]', 'data-gh-poll')).toContain('/ui/panels/pull-request?prId=');
    stack.worker.start();
    await liveSays(frame, 'Scan finished: Security check failed', 30_000);
    expect(await verdict(frame)).toBe('Security check failed');
    expect(await frame.getAttribute('[data-gh-region]', 'data-gh-poll')).toBeNull();
  });

  it('the repository panel shows the main branch inventory and serves its SBOM', async () => {
    await sim.mergePullRequest('acme/web', 1);
    await stack.settle();
    await page.goto(`${sim.webOrigin}/acme/web`);
    const frame = await panelFrameOf(page);
    await frame.waitForSelector('.gh-facts');
    const facts = (await frame.textContent('.gh-facts'))?.replace(/\s+/g, ' ') ?? '';
    expect(facts).toMatch(/Components\s*2 from 1 dependency file/);
    expect(facts).toContain('production');
    expect(await frame.textContent('#gh-open-title')).toContain('main');
    await frameHeight();
    await page.locator('section.panel').screenshot({ path: path.join(SCREENSHOTS, 'panels-repository.png') });

    const [popup] = await Promise.all([page.waitForEvent('popup'), frame.click('a:has-text("Download SBOM")')]);
    await popup.waitForLoadState();
    // Chrome shows a JSON document in a <pre> (with its own pretty-print control beside it).
    const sbom = JSON.parse((await popup.locator('pre').first().textContent()) ?? '{}') as { bomFormat?: string; components?: { name: string }[] };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.components?.map((c) => c.name).sort()).toEqual(['lodash', 'minimist']);
    await popup.close();
  });

  it('ran no injected script and broke no CSP rule on any page', () => {
    expect(dialogs).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(sim.violations).toEqual([]);
  });
});
