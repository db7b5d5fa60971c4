import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bitbucketIssued,
  install,
  installBody,
  newTenant,
  postWebhook,
  readFixture,
  signFor,
  startTestApp,
  type Tenant,
  type TestApp,
} from './helpers/connect-tenant.ts';

const INSTALLED = '/connect/lifecycle/installed';
const UNINSTALLED = '/connect/lifecycle/uninstalled';
const PUSH = 'repo-push/froggit-go--pushpayload.json';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

let t: TestApp;
let a: Tenant;
beforeEach(async () => {
  t = await startTestApp();
  a = newTenant();
});
afterEach(async () => t.close());

function reinstall(body: Record<string, unknown>, token?: string) {
  const req = request(t.app).post(INSTALLED);
  if (token) req.set('Authorization', `JWT ${token}`);
  return req.send(body);
}

describe('installed: a new clientKey', () => {
  it('is accepted unsigned and its secret is stored encrypted, never in clear', async () => {
    await install(t, a);
    const stored = await t.store.getInstallation(a.clientKey);
    expect(stored).toMatchObject({ clientKey: a.clientKey, state: 'installed', baseUrl: 'http://127.0.0.1:4100' });
    expect(stored?.encryptedSharedSecret).toMatch(/^v1\./);
    await t.store.close();
    for (const file of filesUnder(t.config.dataDir)) expect(readFileSync(file, 'utf8')).not.toContain(a.sharedSecret);
    expect(t.logs()).not.toContain(a.sharedSecret);
  });

  it('rejects a baseUrl outside BITBUCKET_BASE_URLS and says which variable to change', async () => {
    const res = await reinstall(installBody(a, { baseUrl: 'https://evil.example' }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('base_url_not_allowed');
    expect(res.body.error.message).toContain('BITBUCKET_BASE_URLS');
    expect(await t.store.getInstallation(a.clientKey)).toBeUndefined();
  });

  it('rejects a baseApiUrl outside BITBUCKET_API_URLS (the SSRF guard) and names it', async () => {
    const res = await reinstall(installBody(a, { baseApiUrl: 'http://169.254.169.254' }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('api_url_not_allowed');
    expect(res.body.error.message).toContain('BITBUCKET_API_URLS');
  });

  it('rejects a payload that fails the schema without echoing the secret', async () => {
    const res = await reinstall({ ...installBody(a), clientKey: undefined, baseUrl: 'not a url' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_install_payload');
    expect(res.body.error.message).toContain('clientKey');
    expect(JSON.stringify(res.body)).not.toContain(a.sharedSecret);
  });

  it('rejects an install meant for another app key', async () => {
    const res = await reinstall(installBody(a, { key: 'someone-else' }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('wrong_app_key');
  });

  it('rejects a body that is not JSON', async () => {
    const res = await request(t.app).post(INSTALLED).set('Content-Type', 'application/json').send('{"clientKey":');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });
});

describe('installed: a known clientKey (hijack attempts)', () => {
  beforeEach(async () => install(t, a));
  const attacker = { sharedSecret: 'attacker-chosen-secret-0123456789' };

  it('rejects an unsigned reinstall and keeps the stored secret', async () => {
    const before = await t.store.getInstallation(a.clientKey);
    const res = await reinstall(installBody({ ...a, ...attacker }));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_missing');
    expect(await t.store.getInstallation(a.clientKey)).toEqual(before);
  });

  it('rejects a reinstall signed with the new secret it carries', async () => {
    const token = signFor(t, { ...a, ...attacker }, 'POST', INSTALLED);
    const res = await reinstall(installBody({ ...a, ...attacker }), token);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_invalid_signature');
  });

  it("rejects a reinstall signed by another installed tenant with its own secret, whatever aud says", async () => {
    const b = newTenant();
    await install(t, b);
    const asB = signFor(t, b, 'POST', INSTALLED);
    expect((await reinstall(installBody({ ...a, ...attacker }), asB)).status).toBe(401);
    const asBForA = signFor(t, b, 'POST', INSTALLED, { aud: [a.clientKey] });
    expect((await reinstall(installBody({ ...a, ...attacker }), asBForA)).status).toBe(401);
  });

  it('rejects a token signed with the stored secret but issued by someone else', async () => {
    const token = signFor(t, a, 'POST', INSTALLED, { iss: 'ari:cloud:bitbucket::app/{other}/gatehouse', aud: [a.clientKey] });
    const res = await reinstall(installBody({ ...a, ...attacker }), token);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_issuer_mismatch');
  });

  it('rejects a stored-secret token whose qsh is for another route', async () => {
    const token = signFor(t, a, 'POST', '/connect/webhook');
    expect((await reinstall(installBody({ ...a, ...attacker }), token)).body.error.code).toBe('jwt_qsh_mismatch');
  });

  it('accepts a reinstall signed with the stored secret, then only the new secret works', async () => {
    const rotated = { ...a, sharedSecret: 'rotated-secret-from-bitbucket-0123456789' };
    const first = await t.store.getInstallation(a.clientKey);
    t.clock.now = new Date(t.clock.now.getTime() + 60_000);
    const res = await reinstall(installBody(rotated), signFor(t, a, 'POST', INSTALLED));
    expect(res.status).toBe(204);
    const second = await t.store.getInstallation(a.clientKey);
    expect(second?.installedAt).toBe(first?.installedAt);
    expect(second?.updatedAt).not.toBe(first?.updatedAt);
    expect((await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push' })).status).toBe(401);
    expect((await postWebhook(t, rotated, readFixture(PUSH), { eventKey: 'repo:push' })).status).toBe(202);
  });
});

describe('uninstalled', () => {
  beforeEach(async () => install(t, a));
  const body = () => ({ ...installBody(a), eventType: 'uninstalled' });

  it('must be signed', async () => {
    const res = await request(t.app).post(UNINSTALLED).send(body());
    expect(res.status).toBe(401);
    expect((await t.store.getInstallation(a.clientKey))?.state).toBe('installed');
  });

  it("cannot be signed by another tenant for this clientKey", async () => {
    const b = newTenant();
    await install(t, b);
    const res = await request(t.app)
      .post(UNINSTALLED)
      .set('Authorization', `JWT ${signFor(t, b, 'POST', UNINSTALLED)}`)
      .send(body());
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_issuer_mismatch');
    expect((await t.store.getInstallation(a.clientKey))?.state).toBe('installed');
  });

  it('destroys the secret; every later request for the tenant gets 401', async () => {
    const res = await request(t.app)
      .post(UNINSTALLED)
      .set('Authorization', `JWT ${signFor(t, a, 'POST', UNINSTALLED)}`)
      .send(body());
    expect(res.status).toBe(204);
    expect(await t.store.getInstallation(a.clientKey)).toMatchObject({ state: 'uninstalled', encryptedSharedSecret: null });
    const hook = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push' });
    expect(hook.status).toBe(401);
    expect(hook.body.error.code).toBe('jwt_unknown_tenant');
    const again = await request(t.app)
      .post(UNINSTALLED)
      .set('Authorization', `JWT ${signFor(t, a, 'POST', UNINSTALLED)}`)
      .send(body());
    expect(again.status).toBe(401);
  });

  it('is followed by a fresh install, even one signed with the destroyed secret (see decideInstall)', async () => {
    await request(t.app).post(UNINSTALLED).set('Authorization', `JWT ${signFor(t, a, 'POST', UNINSTALLED)}`).send(body());
    const before = await t.store.getInstallation(a.clientKey);
    t.clock.now = new Date(t.clock.now.getTime() + 3_600_000);
    const next = bitbucketIssued({ ...a, sharedSecret: 'second-installation-secret-0123456789' });
    const res = await reinstall(installBody(next), signFor(t, a, 'POST', INSTALLED));
    expect(res.status).toBe(204);
    const after = await t.store.getInstallation(a.clientKey);
    expect(after?.state).toBe('installed');
    expect(after?.installedAt).not.toBe(before?.installedAt);
    expect((await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push' })).status).toBe(401);
    expect((await postWebhook(t, next, readFixture(PUSH), { eventKey: 'repo:push' })).status).toBe(202);
    // ...and from then on the new installation is protected like any other.
    expect((await reinstall(installBody({ ...a, sharedSecret: 'third-party-secret-0123456789' }))).status).toBe(401);
  });
});
