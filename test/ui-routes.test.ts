import express from 'express';
import request from 'supertest';
import { encodeSymmetric } from 'atlassian-jwt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiagnosticsRecorder } from '../src/core/diagnostics/recorder.ts';
import { Diagnostics } from '../src/core/diagnostics/view.ts';
import { errorHandler } from '../src/http/errors.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import { storeDataSource, type UiDataSource } from '../src/ui/data-source.ts';
import type { PermissionChecker } from '../src/ui/permissions.ts';
import type { RepositoryLookup } from '../src/ui/repositories.ts';
import { addUiRoutes, UI_PATHS } from '../src/ui/routes.ts';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_HEADER } from '../src/ui/session-token.ts';
import { BITBUCKET_ORIGIN, install, newTenant, signFor, startTestApp, type TestApp, type Tenant } from './helpers/connect-tenant.ts';
import { dependencyFinding, scanOf, secretFinding } from './helpers/ui-fixtures.ts';

// The pages and their requests over HTTP, with the real stores behind them: authentication
// (Bitbucket's JWT on load, the page session after), CSRF defences, permissions, the
// framing policy, and escaping of every string that comes from users or advisories.

const XSS = `"'><img src=x onerror=alert(1)>`;
const XSS_ESCAPED = '&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;';
const REPO = '{3f0c3c61-8b57-4b1e-9d41-7f0d5b4a2c10}';
const OTHER_REPO = '{a1b2c3d4-0000-4000-8000-000000000001}';
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const USER = '{5d1f6a4b-0f0e-4c8e-9a39-0d5c3b6c9f11}';

let t: TestApp;
let tenant: Tenant;
let results: JournalResultsStore;
let data: UiDataSource;
let ui: express.Express;
const grants = { admin: true, triage: true };
const lookups = { mainBranch: 'main' as string | null | Error, names: new Map<string, string>(), people: new Map<string, string>([[USER, 'Dev Eloper']]) };

const permissions: PermissionChecker = {
  isWorkspaceAdmin: async () => grants.admin,
  canTriage: async () => grants.triage,
};
const repositories: RepositoryLookup = {
  mainBranch: async () => {
    if (lookups.mainBranch instanceof Error) throw lookups.mainBranch;
    return lookups.mainBranch;
  },
  fullName: async (_c, _w, uuid) => lookups.names.get(uuid) ?? null,
};

beforeAll(async () => {
  t = await startTestApp();
  tenant = newTenant();
  await install(t, tenant);
  results = new JournalResultsStore({ dataDir: t.config.dataDir });
  await results.open();
  data = storeDataSource(results, t.store);
  ui = express();
  ui.set('query parser', 'simple');
  const router = express.Router();
  const people = { displayName: async (_c: string, _w: string, user: string) => lookups.people.get(user) ?? null };
  const recorder = new DiagnosticsRecorder({ now: () => t.clock.now });
  recorder.call(tenant.clientKey, { method: 'GET', url: 'http://127.0.0.1:4101/2.0/repositories/acme/web', status: 401, error: null });
  const diagnostics = new Diagnostics({ recorder, store: t.store, dataDir: t.config.dataDir, now: () => t.clock.now, queueLimit: 500 });
  const health = (clientKey: string) => diagnostics.forInstallation(clientKey);
  addUiRoutes(router, { config: t.config, store: t.store, data, permissions, repositories, people, now: () => t.clock.now, logger: (await import('../src/log.ts')).createLogger('silent'), health });
  ui.use(router);
  ui.use(errorHandler((await import('../src/log.ts')).createLogger('silent')));
});

afterAll(async () => {
  await results?.close();
  await t?.close();
});

beforeEach(() => {
  grants.admin = true;
  grants.triage = true;
});

function signedPath(path: string, claims: Record<string, unknown> = {}): string {
  const jwt = signFor(t, tenant, 'GET', path, { claims });
  return `${path}${path.includes('?') ? '&' : '?'}jwt=${encodeURIComponent(jwt)}`;
}

function prPanelPath(extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ repoUuid: REPO, repoFullName: 'acme/web', prId: '7', commit: COMMIT.slice(0, 12), sourceBranch: 'feature/x', destinationBranch: 'main', ...extra });
  return `${UI_PATHS.pullRequestPanel}?${q}`;
}

function sessionToken(html: string): string {
  const m = /<meta name="gatehouse-session" content="([^"]+)">/.exec(html);
  if (!m) throw new Error('no session token in the page');
  return m[1]!;
}

async function openPrPanel(extra: Record<string, string> = {}): Promise<{ html: string; token: string; res: request.Response }> {
  const res = await request(ui).get(signedPath(prPanelPath(extra)));
  expect(res.status, res.text).toBe(200);
  return { html: res.text, token: sessionToken(res.text), res };
}

describe('page loads', () => {
  it('verifies the JWT with its qsh: a changed parameter is refused', async () => {
    const good = signedPath(prPanelPath());
    expect((await request(ui).get(good)).status).toBe(200);
    const tampered = good.replace('prId=7', 'prId=8');
    const res = await request(ui).get(tampered);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_qsh_mismatch');
    expect((await request(ui).get(prPanelPath())).status).toBe(401);
  });

  it('is framed by the installation origin only, with no inline script or style allowed, and loads all.js from it', async () => {
    const { html, res } = await openPrPanel();
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain(`frame-ancestors ${BITBUCKET_ORIGIN}`);
    expect(csp).toContain(`script-src 'self' ${BITBUCKET_ORIGIN}/atlassian-connect/all.js;`);
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('nonce');
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(html).toContain(`<script src="${BITBUCKET_ORIGIN}/atlassian-connect/all.js" defer></script>`);
    expect(html).toContain('class="ac-content"');
    // No inline script or style, no style attribute.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it('says "not scanned" without a scan, and shows the error state in the frame when the context is bad', async () => {
    const { html } = await openPrPanel({ prId: '99' });
    expect(html).toContain('Not scanned yet');
    expect(html).toContain('data-gh-poll=');
    const bad = await request(ui).get(signedPath(`${UI_PATHS.pullRequestPanel}?repoUuid=nope&repoFullName=acme/web&prId=1`));
    expect(bad.status).toBe(400);
    expect(bad.type).toBe('text/html');
    expect(bad.text).toContain('This page cannot be shown');
    expect(bad.headers['content-security-policy']).toContain(`frame-ancestors ${BITBUCKET_ORIGIN}`);
  });
});

describe('pull-request panel', () => {
  beforeAll(async () => {
    await results.putScan(
      scanOf(
        [
          secretFinding({ path: 'src/a.js', line: 3, severity: 'critical' }),
          dependencyFinding({ severity: 'high' }),
          secretFinding({ path: 'old/legacy.env', line: 1, severity: 'medium', isNew: false }),
        ],
        { clientKey: tenant.clientKey, repoUuid: REPO, commit: COMMIT, kind: 'pull_request', prId: 7 },
      ),
    );
  });

  it('shows the verdict with the policy reason, new findings by severity, existing ones collapsed, with links', async () => {
    const { html } = await openPrPanel();
    expect(html).toContain('Security check failed');
    expect(html).toContain('Failed: 2 new findings at severity high or above are not triaged (policy threshold: high).');
    const critical = html.indexOf('id="gh-group-critical"');
    const high = html.indexOf('id="gh-group-high"');
    const existing = html.indexOf('<details class="gh-section gh-existing">');
    expect(critical).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(critical);
    expect(existing).toBeGreaterThan(high);
    expect(html.slice(existing)).toContain('old/legacy.env');
    expect(html).toContain(`href="${BITBUCKET_ORIGIN}/acme/web/src/${COMMIT}/src/a.js#lines-3"`);
    expect(html).toContain('href="https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm"');
    expect(html).toContain('Fixed in <strong>4.17.21</strong>');
    expect(html).toContain('AKIA************MPLE');
    expect(html).toContain(`data-gh-triage="${secretFinding({ path: 'src/a.js', line: 3, severity: 'critical' }).fingerprint}"`);
    // One form for the panel, cloned per finding by the script.
    expect(html.match(/<template id="gh-triage-template">/g)).toHaveLength(1);
  });

  it('hides the triage action from people who may not triage', async () => {
    grants.triage = false;
    const { html } = await openPrPanel();
    expect(html).not.toContain('data-gh-triage=');
    expect(html).not.toContain('gh-triage-template');
  });

  it('triages with the page session: the mark is stored for the session repository, the region re-rendered with a fresh token', async () => {
    const { token } = await openPrPanel();
    const fp = secretFinding({ path: 'src/a.js', line: 3, severity: 'critical' }).fingerprint;
    const res = await request(ui)
      .post(UI_PATHS.triage)
      .set(SESSION_HEADER, token)
      .type('form')
      .send({ fingerprint: fp, status: 'false_positive', reason: 'test fixture', prId: '7', commit: COMMIT.slice(0, 12), repoUuid: OTHER_REPO });
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain('<!doctype html>');
    expect(res.text).toContain('Marked false positive by Dev Eloper');
    expect(res.headers['x-gatehouse-announce']).toBe('Marked as false positive.');
    expect(res.headers[SESSION_HEADER]).toMatch(/^ey/);
    expect((await results.listTriage(tenant.clientKey, REPO)).map((m) => [m.fingerprint, m.status, m.by])).toEqual([[fp, 'false_positive', USER]]);
    expect(await results.listTriage(tenant.clientKey, OTHER_REPO)).toEqual([]);
    expect(res.text).toContain('Failed: 1 new finding at severity high or above is not triaged');

    const undo = await request(ui).post(UI_PATHS.untriage).set(SESSION_HEADER, token).type('form').send({ fingerprint: fp, prId: '7' });
    expect(undo.status).toBe(200);
    expect(await results.listTriage(tenant.clientKey, REPO)).toEqual([]);
  });

  it('refuses triage from people without write access, on the server', async () => {
    const { token } = await openPrPanel();
    grants.triage = false;
    const res = await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, token).type('form').send({ fingerprint: 'a'.repeat(64), status: 'ignored', reason: 'x', prId: '7' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('not_allowed');
    expect((await results.listTriage(tenant.clientKey, REPO)).filter((m) => m.fingerprint === 'a'.repeat(64))).toEqual([]);
  });

  it('answers fresh content for the page to poll', async () => {
    const { token } = await openPrPanel();
    const res = await request(ui).get(`${UI_PATHS.pullRequestRegion}?prId=7&commit=${COMMIT.slice(0, 12)}`).set(SESSION_HEADER, token);
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-gh-region="panel"');
    expect(res.text).toContain('Security check failed');
  });
});

describe('page session and CSRF', () => {
  const body = { fingerprint: 'a'.repeat(64), status: 'ignored', reason: 'csrf', prId: '7' };

  it('refuses a post without the token (what a cross-site form sends: cookies are not used at all)', async () => {
    const res = await request(ui).post(UI_PATHS.triage).type('form').send(body);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('session_missing');
  });

  it('refuses a post from another origin even with a token', async () => {
    const { token } = await openPrPanel();
    const res = await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, token).set('Origin', 'https://evil.example').type('form').send(body);
    expect(res.status).toBe(403);
    expect((await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, token).set('Sec-Fetch-Site', 'cross-site').type('form').send(body)).status).toBe(403);
  });

  it('refuses an expired token, a tampered one, and one signed with the tenant secret', async () => {
    const { token } = await openPrPanel();
    const saved = t.clock.now;
    t.clock.now = new Date(saved.getTime() + 16 * 60_000);
    const expired = await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, token).type('form').send(body);
    t.clock.now = saved;
    expect(expired.body.error.code).toBe('session_expired');

    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, repo: OTHER_REPO })).toString('base64url')}.${s}`;
    expect((await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, forged).type('form').send(body)).body.error.code).toBe('session_invalid');

    const withTenantSecret = encodeSymmetric(claims, tenant.sharedSecret);
    expect((await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, withTenantSecret).type('form').send(body)).body.error.code).toBe('session_invalid');
  });

  it('does not accept a Bitbucket iframe JWT as a page session, nor an SBOM link token', async () => {
    const jwt = signFor(t, tenant, 'POST', UI_PATHS.triage);
    expect((await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, jwt).type('form').send(body)).status).toBe(401);
    const key = deriveSessionKey(t.config.encryptionKey);
    const installation = (await t.store.getInstallation(tenant.clientKey))!;
    const link = mintSessionToken(key, { clientKey: tenant.clientKey, user: USER, repoUuid: REPO, repoFullName: 'acme/web', instance: installationInstance(installation) }, t.clock.now, 'sbom');
    expect((await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, link.token).type('form').send(body)).status).toBe(401);
  });

  it('a settings-page session cannot triage (it is bound to no repository)', async () => {
    const page = await request(ui).get(signedPath(UI_PATHS.settings));
    const res = await request(ui).post(UI_PATHS.triage).set(SESSION_HEADER, sessionToken(page.text)).type('form').send(body);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('wrong_page');
  });
});

describe('settings page', () => {
  async function openSettings(): Promise<string> {
    const res = await request(ui).get(signedPath(UI_PATHS.settings));
    expect(res.status).toBe(200);
    return res.text;
  }
  const form = { threshold: 'medium', secrets: 'on', ignoredPaths: 'test/fixtures/**\n', environments: 'main: production\nrelease/*: staging' };

  it('shows the defaults and an editable form to admins', async () => {
    const html = await openSettings();
    expect(html).toContain('These are the defaults');
    expect(html).toContain('<option value="high" selected>High or above</option>');
    expect(html).toContain('Save settings');
  });

  it('is read only for non-admins, and the server refuses their post', async () => {
    grants.admin = false;
    const html = await openSettings();
    expect(html).toContain('Only workspace admins can change these settings.');
    expect(html).toContain('<fieldset class="gh-section" disabled>');
    const res = await request(ui).post(UI_PATHS.saveSettings).set(SESSION_HEADER, sessionToken(html)).type('form').send(form);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('not_admin');
    expect(await results.getPolicy(tenant.clientKey)).toBeUndefined();
  });

  it('a plain form post (no script) carries the token in a hidden field and gets the whole framed page back', async () => {
    const html = await openSettings();
    expect(html).toContain(`<input type="hidden" name="_session" value="${sessionToken(html)}">`);
    const loadedAt = t.clock.now;
    t.clock.now = new Date(loadedAt.getTime() + 60_000);
    const res = await request(ui).post(UI_PATHS.saveSettings).type('form').send({ ...form, threshold: 'high', _session: sessionToken(html) });
    t.clock.now = loadedAt;
    expect(res.status).toBe(200);
    expect(res.text).toContain('<!doctype html>');
    expect(res.text).toContain('Settings saved.');
    expect(res.headers['content-security-policy']).toContain(`frame-ancestors ${BITBUCKET_ORIGIN}`);
    expect(sessionToken(res.text)).not.toBe(sessionToken(html));
  });

  it('saves an admin post (unchecked boxes turn scanners off) and says so', async () => {
    const res = await request(ui).post(UI_PATHS.saveSettings).set(SESSION_HEADER, sessionToken(await openSettings())).type('form').send(form);
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('Settings saved.');
    expect(await results.getPolicy(tenant.clientKey)).toEqual({
      threshold: 'medium',
      scanners: { secrets: true, dependencies: false },
      ignoredPaths: ['test/fixtures/**'],
      environments: [
        { branch: 'main', environment: 'production' },
        { branch: 'release/*', environment: 'staging' },
      ],
    });
    expect(res.text).toContain('<option value="medium" selected>');
  });

  it('refuses bad input field by field (422), keeping what was typed, escaped', async () => {
    const before = await results.getPolicy(tenant.clientKey);
    const res = await request(ui)
      .post(UI_PATHS.saveSettings)
      .set(SESSION_HEADER, sessionToken(await openSettings()))
      .type('form')
      .send({ threshold: 'severe', environments: `main production\n`, ignoredPaths: `</textarea>${XSS}` });
    expect(res.status).toBe(422);
    expect(res.text).toContain('The settings were not saved.');
    expect(res.text).toContain('id="gh-environments-error"');
    expect(res.text).toContain('aria-invalid=true');
    expect(res.text).toContain(`&lt;/textarea&gt;${XSS_ESCAPED}`);
    expect(res.text).not.toContain('<img src=x');
    expect(await results.getPolicy(tenant.clientKey)).toEqual(before);
  });
});

describe('repository panel and SBOM', () => {
  const repoPath = () => `${UI_PATHS.repositoryPanel}?${new URLSearchParams({ repoUuid: REPO, repoFullName: 'acme/web' })}`;

  it('says when the main branch has not been scanned', async () => {
    lookups.mainBranch = 'main';
    const res = await request(ui).get(signedPath(repoPath()));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Not scanned yet');
  });

  it('shows open findings by severity, components, environment, last scan and an SBOM link that works only as a link', async () => {
    await results.putInventory({
      clientKey: tenant.clientKey,
      repoUuid: REPO,
      repoFullName: 'acme/web',
      branch: 'main',
      environment: 'production',
      commit: COMMIT,
      files: { 'package-lock.json': 'x' },
      packages: [
        { ecosystem: 'npm', name: 'lodash', version: '4.17.20', path: 'package-lock.json', line: 1 },
        { ecosystem: 'npm', name: 'left-pad', version: '1.3.0', path: 'package-lock.json', line: 9 },
      ],
      sbom: '{"bomFormat":"CycloneDX","specVersion":"1.6"}',
      updatedAt: '2026-03-01T11:00:00.000Z',
    });
    await results.putScan(scanOf([secretFinding({ severity: 'critical' }), dependencyFinding({ severity: 'medium' })], { clientKey: tenant.clientKey, repoUuid: REPO, commit: COMMIT, kind: 'push', prId: null }));
    const res = await request(ui).get(signedPath(repoPath()));
    expect(res.text).toMatch(/gh-severity-count__n">1<\/span> <span class="gh-lozenge gh-lozenge--removed gh-lozenge--bold">Critical/);
    expect(res.text).toContain('<dt>Components</dt><dd>2 ');
    expect(res.text).toContain('production');
    const href = /href="([^"]*\/ui\/sbom\?token=[^"]+)"/.exec(res.text)?.[1]?.replaceAll('&amp;', '&');
    expect(href).toBeDefined();
    const sbom = await request(ui).get(href!);
    expect(sbom.status).toBe(200);
    expect(sbom.headers['content-type']).toContain('application/json');
    expect(sbom.headers['content-disposition']).toContain(`acme_web-${COMMIT.slice(0, 12)}.cdx.json`);
    expect(JSON.parse(sbom.text)).toMatchObject({ bomFormat: 'CycloneDX' });
    // A page session token is not a download token.
    const { token } = await openPrPanel();
    expect((await request(ui).get(`${UI_PATHS.sbom}?token=${token}`)).status).toBe(401);
  });

  it('answers the SBOM link with a JSON 503 when Bitbucket cannot be reached to find the main branch', async () => {
    const res = await request(ui).get(signedPath(repoPath()));
    const href = /href="([^"]*\/ui\/sbom\?token=[^"]+)"/.exec(res.text)?.[1]?.replaceAll('&amp;', '&');
    expect(href).toBeDefined();
    lookups.mainBranch = new Error('connect ECONNREFUSED 127.0.0.1:1');
    try {
      const sbom = await request(ui).get(href!);
      expect(sbom.status).toBe(503);
      expect(sbom.body).toEqual({ error: { code: 'bitbucket_unavailable', message: expect.stringContaining('Bitbucket') } });
      expect(sbom.text).not.toContain('ECONNREFUSED');
    } finally {
      lookups.mainBranch = 'main';
    }
  });
});

describe('repository panel findings list', () => {
  const repo = '{7e7e7e7e-0000-4000-8000-0000000000a1}';
  const commit = 'abcdef0123456789abcdef0123456789abcdef01';
  const path = `${UI_PATHS.repositoryPanel}?${new URLSearchParams({ repoUuid: repo, repoFullName: 'acme/api' })}`;

  beforeAll(async () => {
    await results.putInventory({ clientKey: tenant.clientKey, repoUuid: repo, repoFullName: 'acme/api', branch: 'main', environment: null, commit, files: {}, packages: [], sbom: '', updatedAt: '2026-03-01T11:00:00.000Z' });
    // 30 low secrets, 1 critical secret, 1 high advisory, and one triaged critical: the list is the 32 open ones, worst first.
    const lows = Array.from({ length: 30 }, (_, i) => secretFinding({ path: `src/low-${String(i).padStart(2, '0')}.js`, line: i + 1, severity: 'low', preview: 'ghp_************abcd' }));
    const triaged = secretFinding({ path: 'src/triaged.js', severity: 'critical' });
    const findings = [...lows, dependencyFinding({ severity: 'high' }), secretFinding({ path: 'deploy/aws.env', line: 7, severity: 'critical' }), triaged];
    await results.putScan(scanOf(findings, { clientKey: tenant.clientKey, repoUuid: repo, commit, kind: 'branch', prId: null }));
    await results.putTriage({ clientKey: tenant.clientKey, repoUuid: repo, fingerprint: triaged.fingerprint, status: 'ignored', by: USER, at: '2026-03-01T12:00:00.000Z', reason: 'test key' });
    await results.putRepositoryCoverage({ clientKey: tenant.clientKey, repoUuid: repo, runId: 'r1', status: 'scanned', commit, files: 812, bytes: 1, findings: 32, skippedFiles: [], reason: null, updatedAt: '2026-03-01T11:00:00.000Z' });
  });

  function items(html: string): string[] {
    return [...html.matchAll(/<li class="gh-finding[^"]*"[^>]*>([\s\S]*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
  }

  it('lists the 20 worst open findings with source links at the scanned commit and masked previews, then a button for the rest', async () => {
    const res = await request(ui).get(signedPath(path));
    expect(res.status, res.text).toBe(200);
    const listed = items(res.text);
    expect(listed).toHaveLength(20);
    expect(listed[0]).toContain('deploy/aws.env:7');
    expect(listed[0]).toContain('AKIA************MPLE');
    expect(listed[1]).toContain('lodash@4.17.20');
    expect(listed[1]).toContain('GHSA-35jh-r3h4-6jhm');
    expect(listed[1]).toContain('Fixed in 4.17.21');
    expect(listed[2]).toContain('src/low-00.js:1');
    expect(res.text).not.toContain('src/triaged.js');
    expect(res.text).toContain(`href="${BITBUCKET_ORIGIN}/acme/api/src/${commit}/deploy/aws.env#lines-7"`);
    expect(res.text).toContain('the 20 worst of 32');
    expect(res.text).toContain('Whole branch scanned at abcdef012345: 812 files, 32 open findings.');
    const more = /data-gh-more="([^"]+)"/.exec(res.text)?.[1]?.replaceAll('&amp;', '&');
    expect(more).toBe(`${UI_PATHS.repositoryFindings}?offset=20`);

    // The rest, with the page's session (a link alone is refused).
    expect((await request(ui).get(more!)).status).toBe(401);
    const page = await request(ui).get(more!).set(SESSION_HEADER, sessionToken(res.text));
    expect(page.status, page.text).toBe(200);
    const rest = items(page.text);
    expect(rest).toHaveLength(12);
    expect(rest[0]).toContain('src/low-18.js:19');
    expect(page.text).not.toContain('data-gh-more=');
    expect(page.headers[SESSION_HEADER]).toBeDefined();
    expect((await request(ui).get(`${UI_PATHS.repositoryFindings}?offset=-1`).set(SESSION_HEADER, sessionToken(res.text))).status).toBe(400);
  });

  it('takes dependency findings from advisory monitoring at the inventory commit and marks those that appeared through it', async () => {
    const fresh = { ...dependencyFinding({ package: 'minimist', version: '1.2.0', advisory: 'GHSA-xvch-5gv4-984h', severity: 'critical', fixedVersion: '1.2.6' }), newAdvisory: true as const, since: '2026-03-01T11:30:00.000Z' };
    await results.putAdvisoryState({ clientKey: tenant.clientKey, repoUuid: repo, branch: 'main', commit, findings: [fresh], fixed: [], result: 'FAILED', changes: [], dbVersion: 'v1', updatedAt: '2026-03-01T11:30:00.000Z' });
    const res = await request(ui).get(signedPath(path));
    const listed = items(res.text);
    expect(listed[1]).toContain('minimist@1.2.0');
    expect(listed[1]).toContain('New advisory');
    expect(listed[1]).toContain('Fixed in 1.2.6');
    // The scan's lodash finding is superseded by the re-evaluation; secrets stay.
    expect(res.text).not.toContain('lodash@4.17.20');
    expect(listed.filter((t) => t.includes('New advisory'))).toHaveLength(1);
    expect(res.text).toContain('the 20 worst of 32');
  });

  it('refuses the findings page to a session of another page', async () => {
    const settings = await request(ui).get(signedPath(UI_PATHS.settings));
    const res = await request(ui).get(`${UI_PATHS.repositoryFindings}?offset=20`).set(SESSION_HEADER, sessionToken(settings.text));
    expect(res.status).toBe(403);
  });
});

describe('settings page coverage and API token sections', () => {
  it('shows coverage progress to everyone and its controls and the API tokens to admins only', async () => {
    await results.putApiToken({ id: '7d3f3a52-4b9e-4f0e-9a39-0d5c3b6c9f11', clientKey: tenant.clientKey, name: 'CMDB export', hash: 'ab'.repeat(32), createdBy: USER, createdAt: '2026-03-01T10:00:00.000Z', lastUsedAt: null });
    const admin = await request(ui).get(signedPath(UI_PATHS.settings));
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('data-gh-coverage="/api/coverage"');
    expect(admin.text).toMatch(/data-gh-cov="stateLabel">Not started</);
    expect(admin.text).toContain('data-gh-coverage-action="start"');
    expect(admin.text).toContain('data-gh-auto-backfill checked');
    expect(admin.text).toContain('data-gh-tokens="/api/tokens"');
    expect(admin.text).toMatch(/<td>CMDB export<\/td><td class="gh-nowrap">Dev Eloper<\/td>/);
    expect(admin.text).not.toContain('ab'.repeat(32));
    expect(admin.text).toMatch(/<script src="\/ui\/static\/settings\.js\?v=[0-9a-f]{12}" defer><\/script>/);

    // Health: each problem with what to do.
    expect(admin.text).toContain('id="gh-health"');
    expect(admin.text).toContain('<strong>1 Bitbucket call(s) failed with HTTP 401.</strong> Bitbucket refused');
    expect(admin.text).toContain('<code class="gh-code-wrap">GET /2.0/repositories/acme/web: HTTP 401</code>');
    expect(admin.text).toContain('<strong>No vulnerability database.</strong>');

    grants.admin = false;
    const member = await request(ui).get(signedPath(UI_PATHS.settings));
    expect(member.text).not.toContain('id="gh-health"');
    expect(member.text).toContain('data-gh-coverage="/api/coverage"');
    expect(member.text).not.toContain('data-gh-coverage-action');
    expect(member.text).toContain('Only workspace admins can start, pause or resume the backfill');
    expect(member.text).not.toContain('CMDB export');
    expect(member.text).not.toContain('data-gh-tokens=');
  });
});

describe('escaping of user and advisory strings', () => {
  it('escapes paths, previews, rule ids, advisory text, package names, triage reasons and authors, branches, notices', async () => {
    const repo = '{0e0e0e0e-0000-4000-8000-00000000dead}';
    const commit = 'dead00000000000000000000000000000000beef';
    const findings = [
      secretFinding({ path: `src/${XSS}.js`, preview: XSS, ruleId: XSS, description: XSS }),
      dependencyFinding({ package: XSS, version: XSS, advisory: XSS, summary: XSS, fixedVersion: XSS, url: 'javascript:alert(1)' }),
      dependencyFinding({ package: 'old', isNew: false, summary: XSS, url: `https://x.example/"${XSS}` }),
    ];
    await results.putScan(scanOf(findings, { clientKey: tenant.clientKey, repoUuid: repo, commit, kind: 'pull_request', prId: 1, notices: [XSS], skipped: [XSS] }));
    await results.putTriage({ clientKey: tenant.clientKey, repoUuid: repo, fingerprint: findings[0]!.fingerprint, status: 'ignored', by: XSS, at: '2026-03-01T11:59:00.000Z', reason: XSS });
    const q = new URLSearchParams({ repoUuid: repo, repoFullName: `acme/"><script>alert(1)<x`, prId: '1', commit: commit.slice(0, 12), sourceBranch: XSS, destinationBranch: `</textarea>${XSS}` });
    const res = await request(ui).get(signedPath(`${UI_PATHS.pullRequestPanel}?${q}`));
    expect(res.status, res.text).toBe(200);
    const html = res.text;
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('javascript:');
    expect(html).not.toMatch(/href="https:\/\/x\.example\/"/);
    expect(html.split(XSS_ESCAPED).length - 1).toBeGreaterThanOrEqual(12);
    // The only script elements are ours: all.js, page-session.js and panel.js.
    expect(html.match(/<script/g)).toHaveLength(3);

    // The settings audit list: reason, author, repository name from Bitbucket.
    lookups.names.set(repo, `acme/${XSS}`);
    const settings = await request(ui).get(signedPath(UI_PATHS.settings));
    expect(settings.text).not.toContain('<img src=x');
    expect(settings.text.split(XSS_ESCAPED).length - 1).toBe(3);

    // The repository panel: the branch name from Bitbucket and the environment.
    lookups.mainBranch = XSS;
    const panel = await request(ui).get(signedPath(`${UI_PATHS.repositoryPanel}?${new URLSearchParams({ repoUuid: repo, repoFullName: 'acme/web' })}`));
    expect(panel.text).not.toContain('<img src=x');
    expect(panel.text).toContain(XSS_ESCAPED);
    lookups.mainBranch = 'main';
  });
});

describe('static files', () => {
  it('serves the css reset from node_modules and our assets, nothing else', async () => {
    const reset = await request(ui).get('/ui/static/css-reset.css');
    expect(reset.status).toBe(200);
    expect(reset.text).toContain('--ds-surface');
    expect((await request(ui).get('/ui/static/panel.js')).status).toBe(200);
    expect((await request(ui).get('/ui/static/..%2Fpackage.json')).status).toBe(404);
    expect((await request(ui).get('/ui/static/README.md')).status).toBe(404);
  });
});
