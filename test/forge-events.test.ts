import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BitbucketCredentialsUnavailableError } from '../src/bitbucket/auth/bearer.ts';
import { bitbucketClients } from '../src/codehost/cloud/clients.ts';
import { CallBudget } from '../src/core/budget.ts';
import { TOKEN_START_MARGIN_MS } from '../src/codehost/cloud/forge-clients.ts';
import type { PullRequestEvent } from '../src/core/events.ts';
import { forgeTenantKey } from '../src/forge/installations.ts';
import { ForgeTokenAuthority, newAppId, newInstallationId, SYSTEM_TOKEN_TTL_SECONDS } from '../src/simulator/forge/tokens.ts';
import { startTestApp, T0, type TestApp } from './helpers/connect-tenant.ts';
import { startJwksServer } from './helpers/jwks-server.ts';

const FORGE_PAYLOADS = path.resolve(import.meta.dirname, '../../shared/reference/payloads/forge');
type ForgeEventFixture = Record<string, unknown> & { workspace: { uuid: string }; pullrequest: { id: unknown } };
const payload = (name: string) => JSON.parse(readFileSync(path.join(FORGE_PAYLOADS, name), 'utf8')) as ForgeEventFixture;
const API = 'http://127.0.0.1:4101';

const appId = newAppId();
let clock: { now: Date };
const forge = new ForgeTokenAuthority({ appId, now: () => clock.now });
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let t: TestApp;

/** An installation of the app in a fresh workspace. */
function newInstall(workspaceId = randomUUID()) {
  return { installationId: newInstallationId(), workspaceId, apiBaseUrl: API };
}
type Install = ReturnType<typeof newInstall>;

/** A Forge PR event from the documented example, moved into `install`'s workspace. */
function prEvent(install: Install, name = 'bitbucket-created-pullrequest.json') {
  const event = payload(name);
  event.workspace.uuid = `{${install.workspaceId}}`;
  return event;
}

function post(pathname: string, install: Install, body: unknown, opts: { token?: string; fit?: string } = {}) {
  const req = request(t.app)
    .post(pathname)
    .set('Authorization', `Bearer ${opts.fit ?? forge.signFit(install)}`)
    .set('Content-Type', 'application/json');
  req.set('x-forge-oauth-system', opts.token ?? forge.systemToken(install).token);
  return req.send(JSON.stringify(body));
}

beforeAll(async () => {
  clock = { now: T0 };
  jwks = await startJwksServer(forge);
});
afterAll(async () => jwks.close());
beforeEach(async () => {
  t = await startTestApp({ forge: { appId, jwksUrl: jwks.url, apiUrls: [API] } });
  clock = t.clock;
});
afterEach(async () => t.close());

describe('Forge lifecycle and installations', () => {
  it('records the installation from the FIT on installed, with its system token encrypted', async () => {
    const install = newInstall();
    const token = forge.systemToken(install);
    const res = await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' }, { token: token.token });
    expect(res.status).toBe(200);
    const stored = await t.store.getForgeInstallation(install.installationId);
    expect(stored).toMatchObject({
      clientKey: forgeTenantKey(install.workspaceId),
      workspaceId: install.workspaceId,
      apiBaseUrl: API,
      state: 'installed',
      systemToken: { expiresAt: new Date(token.expiresAt * 1000).toISOString() },
    });
    expect(stored!.systemToken!.encrypted).not.toContain(token.token.split('.')[1]);
    for (const file of readdirSync(t.config.dataDir)) {
      if (file.startsWith('forge-')) expect(readFileSync(path.join(t.config.dataDir, file), 'utf8')).not.toContain(token.token);
    }
    expect(t.logs()).not.toContain(token.token);
  });

  it('keeps the token that expires latest, whatever order tokens arrive in', async () => {
    const install = newInstall();
    const late = forge.systemToken(install, SYSTEM_TOKEN_TTL_SECONDS + 600);
    await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' }, { token: late.token });
    const early = forge.systemToken(install);
    expect((await post('/forge/scheduled', install, {}, { token: early.token })).body.tokenExpiresAt).toBe(new Date(late.expiresAt * 1000).toISOString());
    clock.now = new Date(clock.now.getTime() + 3_600_000);
    const newer = forge.systemToken(install);
    expect((await post('/forge/scheduled', install, {}, { token: newer.token })).body.tokenExpiresAt).toBe(new Date(newer.expiresAt * 1000).toISOString());
  });

  it('refuses an installation whose apiBaseUrl is not allow-listed', async () => {
    const install = { ...newInstall(), apiBaseUrl: 'https://evil.example' };
    const res = await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forge_api_url_not_allowed');
    expect(await t.store.getForgeInstallation(install.installationId)).toBeUndefined();
  });

  it('wipes the token on preUninstall and refuses the installation afterwards', async () => {
    const install = newInstall();
    await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' });
    expect((await post('/forge/uninstall', install, {})).status).toBe(200);
    expect(await t.store.getForgeInstallation(install.installationId)).toMatchObject({ state: 'uninstalled', systemToken: null });
    const res = await post('/forge/events', install, prEvent(install));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forge_uninstalled');
    expect(await t.store.listJobs()).toEqual([]);
  });

  it('keeps the tenant key across a reinstall, and takes over the Connect installation of the workspace', async () => {
    const first = newInstall();
    await post('/forge/lifecycle', first, { eventType: 'avi:forge:installed:app' });
    const again = newInstall(first.workspaceId);
    await post('/forge/lifecycle', again, { eventType: 'avi:forge:installed:app' });
    expect((await t.store.getForgeInstallation(again.installationId))?.clientKey).toBe(forgeTenantKey(first.workspaceId));
    expect((await t.store.getForgeInstallation(first.installationId))?.state).toBe('uninstalled');

    const moving = newInstall();
    const connectKey = `ari:cloud:bitbucket::app/{${moving.workspaceId}}/gatehouse`;
    await t.store.putInstallation({
      clientKey: connectKey,
      key: 'gatehouse',
      baseUrl: 'http://127.0.0.1:4100',
      baseApiUrl: API,
      encryptedSharedSecret: null,
      state: 'uninstalled',
      principal: { type: 'workspace', uuid: `{${moving.workspaceId.toUpperCase()}}` },
      installedAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
    });
    await post('/forge/lifecycle', moving, { eventType: 'avi:forge:installed:app' });
    expect((await t.store.getForgeInstallation(moving.installationId))?.clientKey).toBe(connectKey);
  });
});

describe('Forge events into the core', () => {
  it('normalises a PR event (before any installed event) into the same domain event and queues one job', async () => {
    const install = newInstall();
    const res = await post('/forge/events', install, prEvent(install));
    expect(res.status).toBe(202);
    const [job] = await t.store.listJobs();
    expect(job).toMatchObject({ clientKey: forgeTenantKey(install.workspaceId), type: 'event:pull_request:opened', group: expect.any(String) });
    const event = job!.payload as PullRequestEvent;
    expect(event).toMatchObject({
      type: 'pull_request',
      action: 'opened',
      sourceEvent: 'avi:bitbucket:created:pullrequest',
      repository: { uuid: '{15a31549-1cff-45dc-9d0d-310114c5038b}', fullName: `{${install.workspaceId}}/{15a31549-1cff-45dc-9d0d-310114c5038b}`, name: 'repository-slug' },
      pullRequest: { id: 3, title: 'PR title', state: 'OPEN', source: { branch: expect.any(String), commit: 'cc2758d231fc' }, destination: { commit: 'a37e0ad81173' } },
    });
    expect(await t.store.getForgeInstallation(install.installationId)).toMatchObject({ state: 'installed' });
  });

  it('runs one scan for Forge retries of one event (wrapped in {payload}, a new FIT each)', async () => {
    const install = newInstall();
    const event = prEvent(install, 'bitbucket-updated-pullrequest.json');
    expect((await post('/forge/events', install, event)).status).toBe(202);
    for (let attempt = 1; attempt <= 4; attempt++) {
      clock.now = new Date(clock.now.getTime() + 60_000);
      const retry = await post('/forge/events', install, { payload: event, retryContext: { retryCount: attempt, retryReason: 'FUNCTION_UPSTREAM_TIMEOUT' } });
      expect(retry.status).toBe(200);
      expect(retry.body.duplicate).toBe(true);
    }
    expect(await t.store.listJobs()).toHaveLength(1);
  });

  it('queues a push and each pull-request action, and ignores what the app generated itself', async () => {
    const install = newInstall();
    const push = payload('bitbucket-push-repository.branch.json');
    push.workspace.uuid = `{${install.workspaceId}}`;
    expect((await post('/forge/events', install, push)).status).toBe(202);
    for (const name of ['bitbucket-fulfilled-pullrequest.json', 'bitbucket-rejected-pullrequest.json']) {
      expect((await post('/forge/events', install, prEvent(install, name))).status).toBe(202);
    }
    const self = await post('/forge/events', install, { ...prEvent(install), selfGenerated: true, timestamp: 'later' });
    expect(self.status).toBe(200);
    expect(self.body.status).toBe('ignored');
    expect((await t.store.listJobs()).map((j) => j.type)).toEqual(['event:push', 'event:pull_request:merged', 'event:pull_request:declined']);
    const pushJob = (await t.store.listJobs({ type: 'event:push' }))[0]!;
    expect(pushJob.payload).toMatchObject({ changes: [{ kind: 'branch', name: 'main', after: 'a37e0ad81173c7f6707d6b9f74dab4ce9938064d', before: null }] });
  });

  it("refuses an event whose workspace is not the installation's", async () => {
    const install = newInstall();
    const res = await post('/forge/events', install, prEvent(newInstall()));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forge_workspace_mismatch');
    expect(await t.store.listJobs()).toEqual([]);
  });

  it('answers 400 naming the problem for an invalid event, and 401 without a FIT', async () => {
    const install = newInstall();
    const bad = prEvent(install);
    bad.pullrequest.id = 'three';
    const res = await post('/forge/events', install, bad);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/pullrequest\.id/);
    const unsigned = await request(t.app).post('/forge/events').send({});
    expect(unsigned.status).toBe(401);
  });
});

describe('Bitbucket calls for a Forge tenant', () => {
  it('go to apiBaseUrl/2.0 with the system token as Bearer, and wait when the token is about to expire', async () => {
    const install = newInstall();
    const token = forge.systemToken(install);
    await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' }, { token: token.token });
    const seen: Array<{ url: string; authorization: string | null }> = [];
    const fetch = async (input: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      return new Response(JSON.stringify({ type: 'repository', name: 'r' }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const clients = bitbucketClients({ config: t.config, store: t.store, budget: new CallBudget(), tuning: { fetch, maxRetries: 0 }, now: () => clock.now.getTime() });
    const clientKey = forgeTenantKey(install.workspaceId);
    const { client } = await clients.forInstallation(clientKey);
    await client.getRepository(`{${install.workspaceId}}`, '{15a31549-1cff-45dc-9d0d-310114c5038b}');
    expect(seen).toEqual([{ url: expect.stringMatching(new RegExp(`^${API}/2\\.0/repositories/`)), authorization: `Bearer ${token.token}` }]);

    // A token whose expiry is within the start margin makes jobs wait.
    clock.now = new Date(token.expiresAt * 1000 - TOKEN_START_MARGIN_MS + 1000);
    await expect(clients.forInstallation(clientKey)).rejects.toThrow(BitbucketCredentialsUnavailableError);
    await expect(clients.forInstallation(clientKey)).rejects.toThrow(/waiting for a new Forge app system token/);
  });
});

describe('Custom UI resolver routes', () => {
  it('answer from the view models for the repository and pull request the FIT names, and for no other', async () => {
    const install = newInstall();
    await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' });
    const repoUuid = randomUUID();
    const fit = (extension: Record<string, unknown>) =>
      forge.signFit({ ...install, context: { workspaceId: `{${install.workspaceId}}`, moduleKey: 'gatehouse-pull-request-panel', extension }, principal: '712020:u' });
    const pr = await request(t.app)
      .post('/forge/ui/pull-request')
      .set('Authorization', `Bearer ${fit({ repository: { uuid: `{${repoUuid}}` }, pullRequest: { id: 7 } })}`)
      .send({ repoUuid: '{00000000-0000-0000-0000-000000000000}', prId: 1 });
    expect(pr.status).toBe(200);
    expect(pr.body).toMatchObject({ prId: 7, repoFullName: `{${install.workspaceId}}/{${repoUuid}}`, verdict: { state: 'not_scanned' } });
    const settings = await request(t.app).get('/forge/ui/settings').set('Authorization', `Bearer ${fit({})}`);
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({ canEdit: false, isDefault: true });
    const missing = await request(t.app).post('/forge/ui/pull-request').set('Authorization', `Bearer ${fit({})}`).send({ repoUuid, prId: 7 });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('forge_context_missing');
  });

  it('refuse a change with 403 JSON when the call carries no user (no principal, no user token), and store nothing', async () => {
    const install = newInstall();
    await post('/forge/lifecycle', install, { eventType: 'avi:forge:installed:app' });
    const fit = forge.signFit({ ...install, context: { workspaceId: `{${install.workspaceId}}`, moduleKey: 'm', extension: { repository: { uuid: `{${randomUUID()}}` }, pullRequest: { id: 2 } } } });
    const triage = await request(t.app)
      .post('/forge/ui/pull-request')
      .set('Authorization', `Bearer ${fit}`)
      .send({ triage: { fingerprint: 'abcdef0123456789', status: 'ignored', reason: 'no' } });
    expect(triage.status).toBe(403);
    expect(triage.body.error.code).toBe('not_allowed');
    const settings = await request(t.app).post('/forge/ui/settings').set('Authorization', `Bearer ${fit}`).send({ threshold: 'low', secrets: true, dependencies: true, ignoredPaths: '', environments: '' });
    expect(settings.status).toBe(403);
    expect(settings.body.error.code).toBe('not_admin');
    expect(await t.results.listTriage(forgeTenantKey(install.workspaceId))).toEqual([]);
    expect(await t.results.getPolicy(forgeTenantKey(install.workspaceId))).toBeUndefined();
  });
});
