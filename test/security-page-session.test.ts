import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UI_PATHS } from '../src/ui/routes.ts';
import { SESSION_HEADER, SESSION_MAX_SECONDS } from '../src/ui/session-token.ts';
import { bitbucketIssued, install, installBody, newTenant, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

// Issue 10 item 9: a page session must end (absolute lifetime, whatever the renewals) and must
// not outlive the installation it was opened under (uninstall, reinstall).

const REPO = '{3f0c3c61-8b57-4b1e-9d41-7f0d5b4a2c10}';
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const INSTALLED = '/connect/lifecycle/installed';
const UNINSTALLED = '/connect/lifecycle/uninstalled';

let t: TestApp;
let tenant: Tenant;

beforeEach(async () => {
  t = await startTestApp();
  tenant = newTenant();
  await install(t, tenant);
});
afterEach(async () => t.close());

async function openPanel(): Promise<string> {
  const q = new URLSearchParams({ repoUuid: REPO, repoFullName: 'acme/web', prId: '7', commit: COMMIT.slice(0, 12), sourceBranch: 'f', destinationBranch: 'main' });
  const path = `${UI_PATHS.pullRequestPanel}?${q}`;
  const res = await request(t.app).get(`${path}&jwt=${encodeURIComponent(signFor(t, tenant, 'GET', path))}`);
  expect(res.status, res.text).toBe(200);
  const token = /<meta name="gatehouse-session" content="([^"]+)">/.exec(res.text)?.[1];
  if (!token) throw new Error('no session token in the page');
  return token;
}

/** A request the open page makes with its session; answers carry the renewed token. */
function regionWith(token: string) {
  return request(t.app).get(`${UI_PATHS.pullRequestRegion}?prId=7&commit=${COMMIT.slice(0, 12)}`).set(SESSION_HEADER, token);
}

const minutes = (n: number) => new Date(t.clock.now.getTime() + n * 60_000);

describe('page sessions end', () => {
  it('renewing the token every ten minutes does not keep a session alive past its absolute lifetime', async () => {
    const opened = t.clock.now.getTime();
    let token = await openPanel();
    let last = 200;
    while (t.clock.now.getTime() - opened <= (SESSION_MAX_SECONDS + 3600) * 1000) {
      t.clock.now = minutes(10);
      const res = await regionWith(token);
      last = res.status;
      if (res.status !== 200) break;
      token = res.headers[SESSION_HEADER] as string;
    }
    expect(last).toBe(401);
    expect(t.clock.now.getTime() - opened).toBeLessThanOrEqual((SESSION_MAX_SECONDS + 600) * 1000);
  });

  it('a token from before a signed reinstall (new shared secret) is refused; a fresh load works', async () => {
    const token = await openPanel();
    expect((await regionWith(token)).status).toBe(200);
    const rotated = { ...tenant, sharedSecret: 'rotated-secret-from-bitbucket-0123456789' };
    const res = await request(t.app).post(INSTALLED).set('Authorization', `JWT ${signFor(t, tenant, 'POST', INSTALLED)}`).send(installBody(rotated));
    expect(res.status).toBe(204);
    const refused = await regionWith(token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('session_invalid');
    tenant = rotated;
    expect((await regionWith(await openPanel())).status).toBe(200);
  });

  it('a token from before an uninstall is refused after the workspace installs again', async () => {
    const token = await openPanel();
    const uninstall = await request(t.app).post(UNINSTALLED).set('Authorization', `JWT ${signFor(t, tenant, 'POST', UNINSTALLED)}`).send({ ...installBody(tenant), eventType: 'uninstalled' });
    expect(uninstall.status).toBe(204);
    expect((await regionWith(token)).status).toBe(401);
    tenant = bitbucketIssued({ clientKey: tenant.clientKey, sharedSecret: 'the-next-installation-secret-0123456789' });
    await install(t, tenant);
    expect((await regionWith(token)).status).toBe(401);
  });
});
