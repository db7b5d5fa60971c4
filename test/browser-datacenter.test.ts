import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import { waitForDatacenterResults, type DcPublished } from '../src/simulator/datacenter/results.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession } from '../src/simulator/datacenter/session.ts';
import { chromiumAvailable, CHROMIUM, launchChromium, openWatchedPage } from './helpers/browser.ts';

// The Data Center operator page in Debian's chromium, on results the app published for a real
// pull request on the local Data Center: the operator signs in with ADMIN_TOKEN (a wrong one is
// refused on the form), sees the instance by its name and the failing pull request with its
// finding linked to Data Center's source view, and the token never reaches a URL or the history.

const SCREENSHOTS = process.env.GATEHOUSE_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '..', 'docs') : path.join(os.tmpdir(), 'gatehouse-screenshots');
const REPO = `SEC/${DEMO_REPOSITORY.slug}`;
type PageGlobals = { history: { length: number }; sessionStorage: { length: number } };
const INSTANCE = 'Acme Bitbucket (local)';

describe('the Data Center operator page in a browser', { timeout: 180_000 }, () => {
  let dataDir: string;
  let session: DatacenterSession;
  let failing: DcPublished;
  let browser: Browser;
  let page: Page;
  let pageUrl: string;
  /** History entries once the page is open (about:blank, the page): signing in must add none. */
  let historyAtLoad: number;
  const requested: string[] = [];
  const navigations: string[] = [];
  let cspViolations: string[] = [];

  beforeAll(async () => {
    if (!chromiumAvailable()) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    await mkdir(SCREENSHOTS, { recursive: true });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-browser-dc-'));
    session = await startDatacenterSession({ dataDir });
    await session.dc.createRepository('SEC', DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
    const token = newAccessToken();
    session.dc.addToken(token, 'PROJECT_ADMIN');
    await session.register({ name: INSTANCE, token, project: 'SEC' });
    await session.dc.createBranch(REPO, DEMO_REPOSITORY.branch);
    await session.dc.commit(REPO, DEMO_REPOSITORY.branch, pullRequestFiles(fakeAwsKeyPair()), 'Add the nightly S3 export');
    const pr = await session.dc.openPullRequest(REPO, { from: DEMO_REPOSITORY.branch, title: DEMO_REPOSITORY.title });
    failing = await waitForDatacenterResults(session.dc, REPO, pr.id, 90_000);
    pageUrl = `${session.appBaseUrl}/admin/datacenter`;

    browser = await launchChromium();
    ({ page, cspViolations } = await openWatchedPage(browser));
    page.on('request', (r) => requested.push(r.url()));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations.push(f.url());
    });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await session?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // Evaluated in the page: the tests' TypeScript has no DOM types.
  const historyLength = () => page.evaluate(() => (globalThis as unknown as PageGlobals).history.length);
  const storedItems = () => page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length);

  async function signIn(token: string): Promise<void> {
    await page.fill('#gh-admin-token', token);
    await page.click('#gh-login button[type="submit"]');
  }

  it('refuses a wrong token on the form, keeping nothing', async () => {
    await page.goto(pageUrl);
    await page.waitForSelector('#gh-login:not([hidden])');
    historyAtLoad = await historyLength();
    await signIn(`${session.adminToken}-wrong`);
    const error = await page.waitForSelector('#gh-login-error:not([hidden])');
    expect(await error.textContent()).toMatch(/refused.*ADMIN_TOKEN/);
    expect(await page.getAttribute('#gh-admin-token', 'aria-invalid')).toBe('true');
    expect(await page.isHidden('#gh-results')).toBe(true);
    expect(await storedItems()).toBe(0);
  });

  it('signs in with ADMIN_TOKEN and shows the instance by name, its failing pull request and the finding linked to Data Center', async () => {
    await signIn(session.adminToken);
    const instance = page.locator('[data-gh-instance]');
    await instance.waitFor();
    expect(await instance.locator('.gh-dc-instance__title').textContent()).toBe(INSTANCE);
    expect(await instance.locator('.gh-dc-instance__name .gh-lozenge').textContent()).toBe('OK');
    const repo = instance.locator(`[data-gh-repository="${REPO}"]`);
    expect(await repo.locator('.gh-dc-repo__name').textContent()).toBe(REPO);

    const web = `${session.dc.baseUrl}/projects/SEC/repos/${DEMO_REPOSITORY.slug}`;
    const pr = repo.locator('[data-gh-pr="1"]');
    expect(await pr.locator('.gh-dc-pr__head .gh-lozenge').textContent()).toBe('Failed');
    expect(await pr.locator('.gh-dc-pr__head a').getAttribute('href')).toBe(`${web}/pull-requests/1`);
    // The AWS key id is on line 3 of config/deploy.env; its link opens that line at the scanned commit.
    const keyLink = pr.locator(`a[href="${web}/browse/config/deploy.env?at=${failing.commit}#3"]`);
    expect(await keyLink.textContent()).toBe('config/deploy.env:3');
    expect(await pr.locator('.gh-finding').count()).toBeGreaterThanOrEqual(2);
    const previews = await pr.locator('.gh-secret').allTextContents();
    expect(previews.length).toBeGreaterThan(0);
    for (const preview of previews) expect(preview).toMatch(/\*{4,}/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'datacenter-operator.png'), fullPage: true });

    // The token went only into headers: no URL the page loaded or navigated to, nor the page, holds it.
    expect(page.url()).toBe(pageUrl);
    expect(navigations.every((url) => url === pageUrl)).toBe(true);
    expect(requested.some((url) => url.includes('/admin/datacenter/instances'))).toBe(true);
    for (const url of [...requested, ...navigations]) expect(url).not.toContain(session.adminToken);
    expect(await page.content()).not.toContain(session.adminToken);
    expect(await historyLength()).toBe(historyAtLoad);
    expect(cspViolations).toEqual([]);
  });

  it('keeps the token for the tab only: a reload shows the results again, "Forget token" asks for it', async () => {
    await page.reload();
    await page.locator('[data-gh-instance]').waitFor();
    expect(await page.isHidden('#gh-login')).toBe(true);
    await page.click('#gh-signout');
    await page.waitForSelector('#gh-login:not([hidden])');
    expect(await storedItems()).toBe(0);
    expect(await page.locator('[data-gh-instance]').count()).toBe(0);
    expect(cspViolations).toEqual([]);
  });
});
