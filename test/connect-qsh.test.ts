import { createQueryStringHash } from 'atlassian-jwt';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incomingQsh } from '../src/connect/qsh.ts';
import { install, newTenant, postWebhook, readFixture, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

/**
 * qsh end to end, with BASE_URL carrying a path: Bitbucket requests
 * https://x.example/gatehouse/connect/... and signs the path relative to /gatehouse.
 */
let t: TestApp;
let a: Tenant;
beforeAll(async () => {
  t = await startTestApp({ baseUrl: 'https://x.example/gatehouse' });
  a = newTenant();
  await install(t, a);
});
afterAll(async () => t.close());

const UUID = '%7Bc389eba6-ca13-49c5-8dec-4e617d39dffe%7D';

async function loadPanel(signedUrl: string, requestedUrl = signedUrl) {
  const token = signFor(t, a, 'GET', signedUrl);
  const sep = requestedUrl.includes('?') ? '&' : '?';
  return request(t.app).get(`${requestedUrl}${sep}jwt=${token}`);
}

describe('iframe loads under a BASE_URL path prefix', () => {
  const panel = `/gatehouse/connect/panels/repository?repoUuid=${UUID}&repoFullName=acme%2Fweb%20app`;

  it('verifies the plain panel URL', async () => {
    const res = await loadPanel(panel);
    expect(res.status).toBe(200);
    expect(res.text).toContain('acme/web app');
  });

  it('verifies repeated keys whatever their order on the wire', async () => {
    const signed = `${panel}&tag=b&tag=a`;
    expect((await loadPanel(signed, `${panel}&tag=a&tag=b`)).status).toBe(200);
  });

  it('verifies encoded characters (unicode, reserved, plus)', async () => {
    const url = `${panel}&q=%E2%9C%93%26%3D&note=a+b`;
    expect((await loadPanel(url)).status).toBe(200);
  });

  it('verifies with a trailing slash on the path', async () => {
    const signed = `/gatehouse/connect/panels/repository?repoUuid=${UUID}&repoFullName=acme%2Fweb`;
    const requested = `/gatehouse/connect/panels/repository/?repoUuid=${UUID}&repoFullName=acme%2Fweb`;
    expect((await loadPanel(signed, requested)).status).toBe(200);
  });

  it('verifies when a proxy stripped the prefix before us', async () => {
    const signed = `/gatehouse/connect/panels/repository?repoUuid=${UUID}&repoFullName=acme%2Fweb`;
    expect((await loadPanel(signed, signed.replace('/gatehouse', ''))).status).toBe(200);
  });

  it('rejects a query parameter added after signing', async () => {
    const res = await loadPanel(panel, `${panel}&extra=1`);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_qsh_mismatch');
  });

  it('rejects a changed value', async () => {
    const res = await loadPanel(panel, panel.replace('web%20app', 'other'));
    expect(res.body.error.code).toBe('jwt_qsh_mismatch');
  });

  it('rejects a token signed for the path without the prefix being stripped (qsh over /gatehouse/...)', async () => {
    // A signer that forgot the base path signs "/gatehouse/connect/..." as its path.
    const wrong = signFor(t, a, 'GET', panel, { baseUrl: 'https://x.example' });
    const res = await request(t.app).get(`${panel}&jwt=${wrong}`);
    expect(res.body.error.code).toBe('jwt_qsh_mismatch');
  });
});

describe('webhooks under a BASE_URL path prefix', () => {
  it('accepts a delivery signed relative to the prefix', async () => {
    const fixture = readFixture('repo-push/froggit-go--pushpayload.json');
    const res = await postWebhook(t, a, fixture, { eventKey: 'repo:push', path: '/gatehouse/connect/webhook' });
    expect(res.status).toBe(202);
    // qsh over the full path, as a signer unaware of the base path would compute it.
    const stale = signFor(t, a, 'POST', '/gatehouse/connect/webhook', { baseUrl: 'https://x.example' });
    const bad = await postWebhook(t, a, fixture, { eventKey: 'repo:push', path: '/gatehouse/connect/webhook', token: stale });
    expect(bad.body.error.code).toBe('jwt_qsh_mismatch');
  });
});

describe('query-less hashes (computed once per URL)', () => {
  it('stay specific to the method, the base path and the path', () => {
    const direct = (method: string, pathname: string) => createQueryStringHash({ method, pathname, query: {} });
    for (let round = 0; round < 2; round++) {
      expect(incomingQsh('POST', '/gatehouse/connect/webhook', '/gatehouse')).toBe(direct('POST', '/connect/webhook'));
      expect(incomingQsh('POST', '/gatehouse/connect/webhook', '')).toBe(direct('POST', '/gatehouse/connect/webhook'));
      expect(incomingQsh('GET', '/gatehouse/connect/webhook', '/gatehouse')).toBe(direct('GET', '/connect/webhook'));
      expect(incomingQsh('POST', '/connect/webhook', '/gatehouse')).toBe(direct('POST', '/connect/webhook'));
    }
  });

  it('keep answering correctly after more distinct URLs than the cache holds', () => {
    for (let i = 0; i < 600; i++) incomingQsh('POST', `/p/${i}`, '');
    expect(incomingQsh('POST', '/p/3', '')).toBe(createQueryStringHash({ method: 'POST', pathname: '/p/3', query: {} }));
  });
});
