import { rmSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { CallBudget } from '../src/core/budget.ts';
import { DiagnosticsRecorder } from '../src/core/diagnostics/recorder.ts';
import { createLogger } from '../src/log.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import { fakeTokenEndpoint, install, newTenant, postWebhook, readFixture, signFor, T0, testConfig, type Tenant } from './helpers/connect-tenant.ts';

// GET /api/diagnostics and the dead-job retry over HTTP, with the real stores: deliveries
// and refusals counted at the webhook intake, Bitbucket failures counted where every call is
// metered, dead jobs listed with their reason and put back in the queue; /admin/diagnostics
// for the operator.

const ADMIN_TOKEN = 'operator-secret-for-tests-0123456789';
const PR_CREATED = 'pullrequest-created/froggit-go.json';

describe('diagnostics API', () => {
  const config = testConfig({ adminToken: ADMIN_TOKEN });
  const clock = { now: T0 };
  const budget = new CallBudget();
  const recorder = new DiagnosticsRecorder({ now: () => clock.now });
  let store: LowdbStore;
  let results: JournalResultsStore;
  let app: ReturnType<typeof createApp>;
  let t: { app: typeof app; config: typeof config; clock: typeof clock };
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    store = new LowdbStore({ dataDir: config.dataDir });
    await store.open();
    results = new JournalResultsStore({ dataDir: config.dataDir });
    await results.open();
    app = createApp({ config, store, results, budget, diagnostics: recorder, logger: createLogger('silent'), now: () => clock.now, clientTuning: { maxRetries: 0, fetch: fakeTokenEndpoint } });
    t = { app, config, clock };
    a = newTenant();
    b = newTenant();
    await install(t, a);
    await install(t, b);
  });

  afterAll(async () => {
    await results?.close();
    await store?.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  const get = (tenant: Tenant, path = '/api/diagnostics') => request(app).get(path).set('Authorization', `JWT ${signFor(t, tenant, 'GET', path)}`);

  it('counts deliveries per event type and webhooks refused, filed under the installation the token names', async () => {
    expect((await postWebhook(t, a, readFixture(PR_CREATED), { eventKey: 'pullrequest:created', wrap: true })).status).toBe(202);
    // Signed with the wrong secret: refused, and counted for installation a (it exists).
    const forged = signFor(t, { clientKey: a.clientKey, sharedSecret: 'not-the-secret' }, 'POST', '/connect/webhook');
    expect((await postWebhook(t, a, readFixture(PR_CREATED), { eventKey: 'pullrequest:created', wrap: true, token: forged })).status).toBe(401);
    // An unknown issuer: refused, and counted for no installation.
    const stranger = newTenant();
    expect((await postWebhook(t, stranger, readFixture(PR_CREATED), { eventKey: 'pullrequest:created', wrap: true })).status).toBe(401);
    // The refusal is filed after the answer: let it land.
    await new Promise((r) => setTimeout(r, 50));

    const res = await get(a);
    expect(res.status, res.text).toBe(200);
    expect(res.body.deliveries).toEqual([{ event: 'pullrequest:created', count: 1, lastAt: T0.toISOString() }]);
    expect(res.body.refusedWebhooks).toEqual([expect.objectContaining({ reason: 'bad_jwt', count: 1, action: expect.stringMatching(/reinstall Gatehouse/) })]);
    expect(res.body.problems.map((p: { problem: string }) => p.problem)).toContain('1 webhook(s) refused: bad jwt');
    expect(res.body.queue).toMatchObject({ queued: 1 });
    const other = await get(b);
    expect(other.body.deliveries).toEqual([]);
    expect(other.body.refusedWebhooks).toEqual([]);
  });

  it('counts failing Bitbucket calls by status with the last error (path only) and one sentence of advice', async () => {
    const answers = [403, 403, 429, 200, 404];
    const fake: typeof fetch = async () => new Response('{}', { status: answers.shift() ?? 200 });
    const metered = budget.meter(a.clientKey, fake);
    for (let i = 0; i < 5; i++) await metered(`${'http://127.0.0.1:4101'}/2.0/repositories/acme/web/src/abc/secret.txt?access_token=nope`, { method: 'GET' });
    await budget.meter(a.clientKey, async () => {
      throw new TypeError('fetch failed');
    })('http://127.0.0.1:4101/2.0/user').catch(() => undefined);

    const res = await get(a);
    const failures = res.body.bitbucketCalls.failures as { kind: string; count: number; lastError: string; action: string }[];
    expect(res.body.bitbucketCalls.total).toBe(6);
    expect(failures.map((f) => [f.kind, f.count])).toEqual([
      ['403', 2],
      ['429', 1],
      ['404', 1],
      ['network', 1],
    ]);
    const forbidden = failures.find((f) => f.kind === '403')!;
    expect(forbidden.lastError).toBe('GET /2.0/repositories/acme/web/src/abc/secret.txt: HTTP 403');
    expect(forbidden.action).toMatch(/scopes/);
    expect(failures.find((f) => f.kind === 'network')!.lastError).toBe('GET /2.0/user: TypeError: fetch failed');
    expect(JSON.stringify(res.body)).not.toContain('access_token');
    // 403 is raised as a problem; 404 (mostly optional files that are absent) only listed.
    const problems = (res.body.problems as { problem: string }[]).map((p) => p.problem);
    expect(problems).toContain('2 Bitbucket call(s) failed with HTTP 403');
    expect(problems.some((p) => p.includes('404'))).toBe(false);
    expect(res.body.vulnerabilityDatabase).toEqual({ updatedAt: null, ageHours: null, action: expect.stringMatching(/gatehouse db update/) });
  });

  it('lists dead jobs with their reason and puts one back in the queue on request, once, for its own installation only', async () => {
    const { jobId } = await store.acceptDelivery({ id: 'dead-1', clientKey: a.clientKey, event: 'repo:push' }, { clientKey: a.clientKey, type: 'webhook:repo:push', payload: {} });
    await store.updateJob(jobId!, { status: 'dead', attempts: 5, lastError: 'BitbucketApiError: 403 Forbidden' });

    const res = await get(a);
    expect(res.body.deadJobs).toEqual([expect.objectContaining({ id: jobId, type: 'webhook:repo:push', attempts: 5, lastError: 'BitbucketApiError: 403 Forbidden', action: expect.stringContaining('Retry') })]);

    const path = `/api/diagnostics/dead-jobs/${jobId}/retry`;
    const post = (tenant: Tenant) => request(app).post(path).set('Authorization', `JWT ${signFor(t, tenant, 'POST', path)}`);
    expect((await post(b)).status).toBe(404);
    const retried = await post(a);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toEqual({ id: jobId, status: 'queued' });
    expect(await store.getJob(jobId!)).toMatchObject({ status: 'queued', attempts: 0, lastError: expect.stringContaining('403 Forbidden') });
    const again = await post(a);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_dead');
    // A double click: both requests at once, one job queued.
    await store.updateJob(jobId!, { status: 'dead', attempts: 5, lastError: 'gave up again' });
    const queued = await store.countQueuedJobs(a.clientKey);
    const both = await Promise.all([post(a), post(a)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await store.countQueuedJobs(a.clientKey)).toBe(queued + 1);
    const bad = `/api/diagnostics/dead-jobs/${encodeURIComponent('../x y')}/retry`;
    expect((await request(app).post(bad).set('Authorization', `JWT ${signFor(t, a, 'POST', bad)}`)).status).toBe(400);
  });

  it('refuses callers without credentials, and serves every installation to the operator with ADMIN_TOKEN', async () => {
    expect((await request(app).get('/api/diagnostics')).status).toBe(401);
    expect((await request(app).get('/admin/diagnostics')).status).toBe(401);
    const res = await request(app).get('/admin/diagnostics').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.installations.map((i: { clientKey: string }) => i.clientKey).sort()).toEqual([a.clientKey, b.clientKey].sort());
    expect(res.body.unattributedRefusals).toEqual([expect.objectContaining({ reason: 'unknown_installation', count: 1 })]);
    const mine = res.body.installations.find((i: { clientKey: string }) => i.clientKey === a.clientKey);
    expect(mine.bitbucketCalls.failures.length).toBe(4);
  });
});
