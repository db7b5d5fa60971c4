import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRANCH_REPORT_ID, BRANCH_STATUS_KEY } from '../src/core/coverage/backfill.ts';
import { CoverageScheduler } from '../src/core/coverage/scheduler.ts';
import { createLogger } from '../src/log.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_HEADER } from '../src/ui/session-token.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const npmLock = (name: string, version: string) =>
  JSON.stringify({ name: 'svc', lockfileVersion: 3, packages: { '': { name: 'svc' }, [`node_modules/${name}`]: { version } } });

describe('coverage end to end on the simulator: discovery, backfill, API tokens', { timeout: 120_000 }, () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let scheduler: CoverageScheduler;
  let tenant: { clientKey: string; sharedSecret: string };

  const coverage = async () => (await signedCall(app.baseUrl, tenant, 'GET', '/api/coverage')).body as {
    state: string;
    repositories: { total: number; scanned: number; failed: number; skipped: number; pending: number };
    files: number;
    bytes: number;
    findings: number;
    recentChanges: { kind: string; fullName: string; from?: string }[];
  };

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('coverage', {
      tuning: { treeScanLimits: { maxFileBytes: 4096 } },
    }));
    tenant = sim.installation()!;
    scheduler = new CoverageScheduler({ store: app.store, results: app.results, logger: createLogger('silent'), onQueued: () => app.worker.wake() });
    const alpha: Record<string, string> = {
      'README.md': '# alpha\n',
      'config/deploy.env': `AWS_ACCESS_KEY_ID=${KEY}\n`,
      'package-lock.json': npmLock('lodash', '4.17.20'),
      'logo.png': 'not really a png',
      'vendor/lib/creds.env': `AWS_ACCESS_KEY_ID=${KEY}\n`,
      // Inside a deeper listing (max_depth): still skipped.
      'web/app/vendor/creds.env': `AWS_ACCESS_KEY_ID=${KEY}\n`,
      'big/dump.sql': 'x'.repeat(10_000),
    };
    // More than a page of entries in one directory: the listing's pagination is followed.
    for (let i = 0; i < 120; i++) alpha[`docs/page-${String(i).padStart(3, '0')}.md`] = `${i}\n`;
    await sim.createRepository('acme', 'alpha', { files: alpha, project: { key: 'PAY', name: 'Payments' }, language: 'javascript', updatedOn: '2026-01-03T00:00:00.000Z' });
    await sim.createRepository('acme', 'beta', { isPrivate: false, updatedOn: '2026-01-02T00:00:00.000Z' });
    await sim.createRepository('acme', 'void', { empty: true, updatedOn: '2026-01-01T00:00:00.000Z' });
  });

  afterAll(async () => {
    await scheduler?.stop();
    await stop?.();
  });

  it('discovers every repository on the first tick after install and backfills their default branches', async () => {
    await scheduler.tick();
    await app.settle(60_000);

    const repos = await app.results.listRepositories(tenant.clientKey);
    expect(repos.map((r) => r.fullName).sort()).toEqual(['acme/alpha', 'acme/beta', 'acme/void']);
    const alpha = repos.find((r) => r.fullName === 'acme/alpha')!;
    expect(alpha).toMatchObject({ project: { key: 'PAY', name: 'Payments' }, isPrivate: true, mainBranch: 'main', language: 'javascript', updatedOn: '2026-01-03T00:00:00.000Z', deletedAt: null });
    expect(repos.find((r) => r.fullName === 'acme/beta')?.isPrivate).toBe(false);

    const state = await coverage();
    expect(state).toMatchObject({ state: 'done', repositories: { total: 3, scanned: 2, failed: 0, skipped: 1, pending: 0 } });
    expect(state.findings).toBeGreaterThanOrEqual(1);
    expect(state.files).toBeGreaterThan(120);

    const entries = await app.results.listRepositoryCoverage(tenant.clientKey);
    const alphaEntry = entries.find((e) => e.repoUuid === alpha.uuid)!;
    expect(alphaEntry.skippedFiles).toEqual(expect.arrayContaining(['logo.png: binary, checked by name only', 'big/dump.sql: 10 KB, over the 4 KB limit']));
    expect(entries.find((e) => e.repoUuid === repos.find((r) => r.fullName === 'acme/void')!.uuid)?.reason).toMatch(/no commits|no default branch/);

    const head = (await sim.repository('acme/alpha').git.branchHead('main'))!;
    const scan = await app.results.getScan(tenant.clientKey, alpha.uuid, head, 'branch');
    expect(scan?.findings.filter((f) => f.kind === 'secret').map((f) => f.path)).toEqual(['config/deploy.env']);
    expect(scan?.result).toBe('FAILED');
    const inventory = await app.results.getInventory(tenant.clientKey, alpha.uuid, 'main');
    expect(inventory?.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['lodash@4.17.20']);

    const repo = sim.repository('acme/alpha');
    expect(repo.reports.get(head)?.map((r) => r.externalId)).toContain(BRANCH_REPORT_ID);
    expect(repo.statuses.get(head)?.get(BRANCH_STATUS_KEY)?.body.state).toBe('FAILED');
    expect(sim.violations).toEqual([]);
  });

  it('records renames, moves, deletions and new repositories on demand, and backfills only what changed', async () => {
    const alpha = (await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === 'acme/alpha')!;
    const alphaHead = (await sim.repository('acme/alpha').git.branchHead('main'))!;
    const scannedAt = (await app.results.getScan(tenant.clientKey, alpha.uuid, alphaHead, 'branch'))!.createdAt;

    sim.renameRepository('acme/beta', 'beta-renamed');
    sim.moveRepository('acme/alpha', { key: 'SEC', name: 'Security' });
    sim.deleteRepository('acme/void');
    await sim.createRepository('acme', 'gamma', { files: { 'app.js': 'module.exports = 1;\n' } });

    const asked = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'discover' } });
    expect(asked.status).toBe(200);
    await app.settle(60_000);

    const state = await coverage();
    const changes = state.recentChanges.map((c) => `${c.kind} ${c.fullName}${c.from ? ` from ${c.from}` : ''}`);
    expect(changes).toEqual(expect.arrayContaining(['renamed acme/beta-renamed from acme/beta', 'moved acme/alpha from PAY', 'deleted acme/void', 'added acme/gamma']));
    const gamma = (await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === 'acme/gamma')!;
    expect((await app.results.listRepositoryCoverage(tenant.clientKey)).find((e) => e.repoUuid === gamma.uuid)?.status).toBe('scanned');
    // Alpha was updated (moved) so it was looked at again, but its head had not moved: not rescanned.
    expect((await app.results.getScan(tenant.clientKey, alpha.uuid, alphaHead, 'branch'))!.createdAt).toBe(scannedAt);

    const restarted = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'start' } });
    expect(restarted.status).toBe(200);
    await app.settle(60_000);
    const again = await coverage();
    expect(again).toMatchObject({ state: 'done', repositories: { total: 3, scanned: 3, failed: 0, pending: 0 } });
    expect((await app.results.getScan(tenant.clientKey, alpha.uuid, alphaHead, 'branch'))!.createdAt).toBe(scannedAt);
    // Nothing was rescanned, yet the run reports what the earlier scans of those heads found, not zeros.
    expect(again.files).toBe(state.files);
    expect(again.findings).toBe(state.findings);
    expect(again.files).toBeGreaterThan(120);
    expect(again.findings).toBeGreaterThanOrEqual(1);
  });

  it('pauses and resumes; refuses what it cannot do with a JSON error', async () => {
    await app.worker.stop();
    await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'start' } });
    const paused = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'pause' } });
    expect((paused.body as { state: string }).state).toBe('paused');
    app.worker.start();
    await app.settle(60_000);
    expect(await coverage()).toMatchObject({ state: 'paused', repositories: { pending: 3 } });
    await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'resume' } });
    await app.settle(60_000);
    expect(await coverage()).toMatchObject({ state: 'done', repositories: { pending: 0, scanned: 3 } });

    const bad = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'explode' } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('API tokens: created from an admin page session, shown once, accepted as Bearer, listed without the secret, revoked', async () => {
    const installation = (await app.store.getInstallation(tenant.clientKey))!;
    const key = deriveSessionKey(app.config.encryptionKey);
    const session = mintSessionToken(key, { clientKey: tenant.clientKey, user: sim.user.uuid, repoUuid: null, repoFullName: null, instance: installationInstance(installation) }, new Date()).token;
    const http = request(app.baseUrl);

    expect((await http.post('/api/tokens').set(SESSION_HEADER, session).send({})).status).toBe(400);
    const created = await http.post('/api/tokens').set(SESSION_HEADER, session).send({ name: 'ci export' });
    expect(created.status).toBe(201);
    const { id, token } = created.body as { id: string; name: string; token: string };
    expect(token).toMatch(/^ghtok_/);

    const viaToken = await http.get('/api/coverage').set('Authorization', `Bearer ${token}`);
    expect(viaToken.status).toBe(200);
    expect(viaToken.body.repositories.total).toBe(3);
    // A token cannot manage tokens.
    expect((await http.post('/api/tokens').set('Authorization', `Bearer ${token}`).send({ name: 'more' })).status).toBe(403);

    const listed = await http.get('/api/tokens').set(SESSION_HEADER, session);
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toEqual([expect.objectContaining({ id, name: 'ci export', createdBy: sim.user.uuid })]);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(JSON.stringify(await app.results.listApiTokens(tenant.clientKey))).not.toContain(token);

    expect((await http.delete(`/api/tokens/${id}`).set(SESSION_HEADER, session)).status).toBe(204);
    const revoked = await http.get('/api/coverage').set('Authorization', `Bearer ${token}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('invalid_api_token');
    expect((await http.get('/api/coverage')).status).toBe(401);
  });
});
