import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptSecret } from '../src/crypto.ts';
import { startTestApp, type TestApp } from './helpers/connect-tenant.ts';
import { registerInstance, type RegisteredInstance } from './helpers/datacenter.ts';
import { pullRequestScan, secretFinding } from './helpers/scan-records.ts';

// The Data Center operator page (a static shell, no data and no secret in it) and the operator
// JSON API it reads: refused without the right bearer token, results under the instance's name
// with links to Data Center's own pages.

const ADMIN = 'admin-token-0123456789abcdef0123456789';
const BASE_URL = 'https://bitbucket.acme.internal/bitbucket';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const PUSHED = 'fedcba9876543210fedcba9876543210fedcba98';
const DC_TOKEN = 'BBDC-the-instance-access-token';
const WEBHOOK_SECRET = 'the-webhook-secret-value';

describe('Bitbucket Data Center operator page and results API', () => {
  let t: TestApp;
  let instance: RegisteredInstance;
  let repoUuid: string;

  beforeEach(async () => {
    t = await startTestApp({ adminToken: ADMIN });
    instance = await registerInstance(t, { name: 'Acme Bitbucket', baseUrl: BASE_URL, secret: WEBHOOK_SECRET, encryptedToken: encryptSecret(t.config.encryptionKey, DC_TOKEN) });
    repoUuid = `{dc-${instance.instanceId}-1}`;
    const at = t.clock.now.toISOString();
    await t.results.putPullRequest({
      clientKey: instance.clientKey, repoUuid, repoFullName: 'SEC/payments', prId: 7, state: 'OPEN', sourceBranch: 'feature/s3-export', destinationBranch: 'main',
      publishedCommit: COMMIT, commentId: 1, lastResult: 'FAILED', mergeCommit: null, updatedAt: at,
    });
    const leak = secretFinding({ path: 'config/deploy env/#1?.env', line: 4 });
    await t.results.putScan(pullRequestScan([leak], { clientKey: instance.clientKey, repoUuid, commit: COMMIT, prId: 7, createdAt: at, counts: { critical: 1, high: 0, medium: 0, low: 0, new: 1, existing: 0, triaged: 0 } }));
    await t.results.putScan(pullRequestScan([], { clientKey: instance.clientKey, repoUuid, commit: PUSHED, kind: 'push', prId: null, branch: 'main', result: 'PASSED', createdAt: at }));
  });
  afterEach(async () => t.close());

  const admin = (path: string) => request(t.app).get(path).set('Authorization', `Bearer ${ADMIN}`);

  it('serves the page as a static shell under a strict CSP: no data, no secret, no inline script, a token field that no form can send', async () => {
    const res = await request(t.app).get('/admin/datacenter');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = res.headers['content-security-policy'];
    for (const rule of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'"]) expect(csp).toContain(rule);
    expect(csp).not.toContain('unsafe');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');

    const html = res.text;
    for (const secret of [ADMIN, DC_TOKEN, WEBHOOK_SECRET, 'Acme Bitbucket', BASE_URL, instance.instanceId]) expect(html).not.toContain(secret);
    // Every script is a file of ours; none is inline.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/ui\/static\/[a-z-]+\.js\?v=[0-9a-f]+"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    // The token field has no name: a form submission (which the CSP forbids anyway) could not carry it.
    const field = /<input[^>]*id="gh-admin-token"[^>]*>/.exec(html)![0];
    expect(field).toContain('type="password"');
    expect(field).not.toMatch(/\sname=/);
    expect(html).toContain('content="/admin/datacenter/instances"');
    // The Atlassian reset and the page's own files are served.
    for (const [, asset] of html.matchAll(/(?:href|src)="(\/ui\/static\/[^"]+)"/g)) expect((await request(t.app).get(asset!.replace(/&amp;/g, '&'))).status, asset).toBe(200);
    expect(html).toMatch(/\/ui\/static\/css-reset\.css\?v=/);
  });

  it('refuses the JSON API without the token and with a wrong one (401 JSON), and never answers with a secret', async () => {
    for (const path of ['/admin/datacenter/instances', `/admin/datacenter/instances/${instance.instanceId}/results`, `/admin/datacenter/instances/${instance.instanceId}/results/pull-request?repository=SEC/payments&id=7`]) {
      const none = await request(t.app).get(path);
      expect([none.status, none.body.error?.code], path).toEqual([401, 'unauthorized']);
      expect(none.headers['content-type']).toMatch(/^application\/json/);
      const wrong = await request(t.app).get(path).set('Authorization', `Bearer ${ADMIN}x`);
      expect([wrong.status, wrong.body.error?.message], path).toEqual([401, 'The operator token is wrong']);
    }
    const listed = await admin('/admin/datacenter/instances');
    expect(listed.body.instances).toEqual([expect.objectContaining({ instanceId: instance.instanceId, name: 'Acme Bitbucket', baseUrl: BASE_URL, status: 'ok' })]);
    for (const secret of [DC_TOKEN, WEBHOOK_SECRET]) expect(listed.text).not.toContain(secret);
  });

  it('lists results under the instance\'s name, with links to the pull request and each finding\'s line in Data Center', async () => {
    const results = await admin(`/admin/datacenter/instances/${instance.instanceId}/results`);
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({ instanceId: instance.instanceId, name: 'Acme Bitbucket', baseUrl: BASE_URL });
    expect(results.body.repositories).toEqual([
      {
        repoUuid,
        repository: 'SEC/payments',
        pullRequests: [expect.objectContaining({ id: 7, url: `${BASE_URL}/projects/SEC/repos/payments/pull-requests/7`, state: 'OPEN', lastResult: 'FAILED' })],
        branches: [expect.objectContaining({ branch: 'main', commit: PUSHED, result: 'PASSED' })],
      },
    ]);

    const pr = await admin(`/admin/datacenter/instances/${instance.instanceId}/results/pull-request?repository=SEC/payments&id=7`);
    expect(pr.status).toBe(200);
    expect(pr.body).toMatchObject({ state: 'OPEN', url: `${BASE_URL}/projects/SEC/repos/payments/pull-requests/7`, verdict: { state: 'failed' }, newCount: 1, commit: COMMIT });
    const [finding] = pr.body.newGroups[0].findings;
    expect(finding).toMatchObject({ path: 'config/deploy env/#1?.env', line: 4, preview: 'AKIA************BN2W' });
    expect(finding.sourceHref).toBe(`${BASE_URL}/projects/SEC/repos/payments/browse/config/deploy%20env/%231%3F.env?at=${COMMIT}#4`);
    // The scan's secret hash is never part of what a page shows.
    expect(pr.text).not.toContain('a'.repeat(64));
  });

  it('has no page and no API without ADMIN_TOKEN', async () => {
    const bare = await startTestApp();
    try {
      expect((await request(bare.app).get('/admin/datacenter')).status).toBe(404);
      expect((await request(bare.app).get('/admin/datacenter/instances')).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
