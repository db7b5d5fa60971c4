import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/log.ts';
import type { Store } from '../src/store/types.ts';
import { BITBUCKET_ORIGIN, install, newTenant, postWebhook, readFixture, signFor, startTestApp, testConfig, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

let t: TestApp;
let a: Tenant;
beforeAll(async () => {
  t = await startTestApp({ bitbucketBaseUrls: [BITBUCKET_ORIGIN, 'https://bitbucket.org'] });
  a = newTenant();
  await install(t, a);
});
afterAll(async () => t.close());

const UUID = '{ba44938d-74fb-41e2-8f0e-fbbee86358e8}';

function framedGet(url: string, tenant: Tenant = a) {
  const token = signFor(t, tenant, 'GET', url);
  return request(t.app).get(`${url}${url.includes('?') ? '&' : '?'}jwt=${token}`);
}

describe('operations', () => {
  it('GET /healthz answers ok once the store is open', async () => {
    const res = await request(t.app).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /healthz answers 503 once shutdown has begun', async () => {
    const app = createApp({ config: t.config, store: t.store, logger: createLogger('silent'), ready: () => false });
    const res = await request(app).get('/healthz').expect(503);
    expect(res.body.error.code).toBe('unavailable');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(t.app).get('/nope').expect(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('answers an unexpected failure with a JSON 500 and no stack trace', async () => {
    const broken = new Proxy({} as Store, {
      get: () => async () => {
        throw new Error('disk on fire at /secret/path');
      },
    });
    const app = createApp({ config: testConfig(), store: broken, logger: createLogger('silent') });
    // A well-formed token, so that verification reaches the (failing) store.
    const token = signFor(t, a, 'POST', '/connect/webhook');
    const res = await request(app).post('/connect/webhook').set('Authorization', `JWT ${token}`).expect(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
  });
});

describe('security headers', () => {
  it('forbid framing of everything but the panel pages', async () => {
    for (const res of [await request(t.app).get('/atlassian-connect.json'), await request(t.app).get('/nope')]) {
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('are the same on the webhook intake, which answers without Express', async () => {
    const express404 = await request(t.app).get('/nope');
    const helmetHeaders = ['content-security-policy', 'x-frame-options', 'x-content-type-options', 'strict-transport-security', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'];
    const answers = [
      await postWebhook(t, a, readFixture('repo-push/froggit-go--pushpayload.json'), { eventKey: 'repo:push' }),
      await postWebhook(t, a, '{', { eventKey: 'repo:push' }),
      await postWebhook(t, a, '{}', { eventKey: 'repo:push', token: 'garbage' }),
    ];
    expect(answers.map((r) => r.status)).toEqual([202, 400, 401]);
    for (const res of answers) {
      for (const name of helmetHeaders) expect([name, res.headers[name]]).toEqual([name, express404.headers[name]]);
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    }
  });

  it("let only the installation's Bitbucket origin frame a panel", async () => {
    const res = await framedGet(`/connect/panels/repository?repoUuid=${encodeURIComponent(UUID)}&repoFullName=yahavi%2Fhello-world`);
    expect(res.status).toBe(200);
    expect(res.headers['x-frame-options']).toBeUndefined();
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain(`frame-ancestors ${BITBUCKET_ORIGIN}`);
    expect(csp).not.toContain('https://bitbucket.org');
    expect(csp).toContain("script-src 'self' http://127.0.0.1:4100/atlassian-connect/all.js;");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.text).toContain(`src="${BITBUCKET_ORIGIN}/atlassian-connect/all.js"`);
  });

  it('let every allow-listed origin frame the 401 of a panel whose tenant is unknown', async () => {
    const res = await request(t.app).get(`/connect/panels/repository?repoUuid=x&jwt=garbage`);
    expect(res.status).toBe(401);
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain(`frame-ancestors ${BITBUCKET_ORIGIN} https://bitbucket.org`);
  });
});

describe('panel and settings pages', () => {
  it('show that the pull request in view is being scanned once its webhook is queued', async () => {
    const hook = await postWebhook(t, a, readFixture('pullrequest-created/froggit-go.json'), { eventKey: 'pullrequest:created' });
    expect(hook.status).toBe(202);
    const res = await framedGet(
      `/connect/panels/pull-request?repoUuid=${encodeURIComponent(UUID)}&repoFullName=yahavi%2Fhello-world&prId=2&commit=363994ee7c2e&sourceBranch=dev&destinationBranch=main`,
    );
    expect(res.status).toBe(200);
    expect(res.text).toContain('Scanning this commit');
    expect(res.text).toContain('363994ee7c2e');
    expect(res.text).toContain('<span class="gh-branch">dev</span>');
  });

  it('escape what they echo from the URL', async () => {
    const res = await framedGet(`/connect/panels/repository?repoUuid=${encodeURIComponent(UUID)}&repoFullName=acme%2F%3Cscript%3Ealert(1)%3C%5Cscript%3E`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain('&lt;script&gt;');
  });

  it('reject context parameters that are missing or malformed, inside the frame', async () => {
    const res = await framedGet('/connect/panels/pull-request?repoUuid=nope&prId=abc');
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('This page cannot be shown');
  });

  it('require the iframe JWT', async () => {
    const res = await request(t.app).get('/connect/settings');
    expect(res.status).toBe(401);
  });

  it('render the settings page for the tenant that loads it', async () => {
    const res = await framedGet('/connect/settings');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Acme');
  });
});
