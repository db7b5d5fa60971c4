import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRANCH_STATUS_KEY } from '../src/core/coverage/backfill.ts';
import { CoverageScheduler } from '../src/core/coverage/scheduler.ts';
import { AdvisoryMonitor, type RefreshOutcome } from '../src/core/monitoring/monitor.ts';
import { createLogger } from '../src/log.ts';
import { openVulnIndex } from '../src/scan/deps/index.ts';
import { DEMO_ADVISORIES, type DemoOsvRecord } from '../src/simulator/osv-advisories.ts';
import { createOsvMirror } from '../src/simulator/osv-mirror.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { newApiToken } from '../src/ui/api-auth.ts';
import { updateVulnDb } from '../src/vulndb/update.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const lock = (packages: Record<string, string>) =>
  JSON.stringify({ name: 'svc', lockfileVersion: 3, packages: { '': { name: 'svc' }, ...Object.fromEntries(Object.entries(packages).map(([n, v]) => [`node_modules/${n}`, { version: v }])) } });

const isLodash = (r: DemoOsvRecord) => r.affected.some((a) => a.package.name === 'lodash');
const HIGH_LODASH = 'GHSA-35jh-r3h4-6jhm';
/** Before: no lodash advisories. Published: both, stamped later than anything before. Withdrawn: the high one withdrawn. */
const V1 = DEMO_ADVISORIES.filter((r) => !isLodash(r));
const V2 = [...V1, ...DEMO_ADVISORIES.filter(isLodash).map((r) => ({ ...r, modified: '2026-11-30T00:00:00Z' }))];
const V3 = V2.map((r) => (r.id === HIGH_LODASH ? { ...r, modified: '2026-12-01T00:00:00Z', withdrawn: '2026-12-01T00:00:00Z' } : r));

type Item = { type: string; [key: string]: unknown };

describe('advisory monitoring on the simulator: an OSV delta changes verdicts without a push', { timeout: 120_000 }, () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let osvDir: string;
  let mirror: Server;
  let mirrorUrl: string;
  let serve: RequestHandler;
  let monitor: AdvisoryMonitor;
  let bearer: string;
  const clientKey = () => sim.installation()!.clientKey;

  beforeAll(async () => {
    osvDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-osv-'));
    serve = createOsvMirror(V1);
    const web = express();
    web.use((req, res, next) => serve(req, res, next));
    mirror = createServer(web).listen(0, '127.0.0.1');
    await new Promise((resolve) => mirror.once('listening', resolve));
    mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
    await updateVulnDb({ mirrorUrl, dataDir: osvDir, ecosystems: ['npm'] });

    ({ app, sim, stop } = await startPipelineOnSimulator('monitoring', { tuning: { vulnIndex: () => openVulnIndex(osvDir) } }));
    await sim.createRepository('acme', 'alpha', { files: { 'package-lock.json': lock({ lodash: '4.17.20' }) } });
    await sim.createRepository('acme', 'beta', { files: { 'package-lock.json': lock({ 'left-pad': '1.3.0' }) } });
    // Its critical minimist finding is rated low by its own configuration; lodash 4.17.21 is
    // touched by the delta without being affected.
    await sim.createRepository('acme', 'delta', {
      files: { 'package-lock.json': lock({ minimist: '1.2.5', lodash: '4.17.21' }), '.gatehouse.yml': 'secrets:\n  severity:\n    GHSA-xvch-5gv4-984h: low\n' },
    });
    await sim.createRepository('acme', 'gamma', { files: { 'package-lock.json': lock({ lodash: '4.17.20' }), '.env': `AWS_ACCESS_KEY_ID=${KEY}\n` } });
    const scheduler = new CoverageScheduler({ store: app.store, results: app.results, logger: createLogger('silent'), onQueued: () => app.worker.wake() });
    await scheduler.tick();
    await scheduler.stop();
    await app.settle(60_000);

    monitor = new AdvisoryMonitor({
      config: { dataDir: osvDir, osvMirrorUrl: mirrorUrl, osvUpdateIntervalMs: 0, takeOverLockFromOtherHost: false },
      store: app.store,
      results: app.results,
      logger: createLogger('silent'),
      runAlone: async (_name, work) => ({ value: await work() }),
      onQueued: () => app.worker.wake(),
    });
    const { token, hash } = newApiToken();
    await app.results.putApiToken({ id: randomUUID(), clientKey: clientKey(), name: 'monitor', hash, createdBy: null, createdAt: new Date().toISOString(), lastUsedAt: null });
    bearer = `Bearer ${token}`;
  });

  afterAll(async () => {
    await stop?.();
    mirror?.close();
    if (osvDir) await rm(osvDir, { recursive: true, force: true });
  });

  const status = async (name: string) => {
    const repo = sim.repository(`acme/${name}`);
    const head = (await repo.git.branchHead('main'))!;
    return repo.statuses.get(head)?.get(BRANCH_STATUS_KEY)?.body.state;
  };
  const inventory = async (query: string) => (await request(app.baseUrl).get(`/api/inventory?${query}`).set('Authorization', bearer)).body.items as Item[];
  const callsSince = (before: number) => sim.apiCalls.slice(before).map((c) => `${c.method} ${c.path}`);

  async function refreshTo(records: readonly DemoOsvRecord[]): Promise<Extract<RefreshOutcome, { ran: true }>> {
    serve = createOsvMirror(records);
    const outcome = await monitor.refresh();
    if (!outcome.ran) throw new Error(`refresh did not run: ${outcome.reason}`);
    return outcome;
  }

  it('a newly published advisory fails the affected default branch, updating only its report and status', async () => {
    expect([await status('alpha'), await status('beta'), await status('gamma'), await status('delta')]).toEqual(['SUCCESSFUL', 'SUCCESSFUL', 'FAILED', 'SUCCESSFUL']);
    const before = sim.apiCalls.length;

    const outcome = await refreshTo(V2);
    expect(outcome.update.changed).toBe(true);
    // alpha, gamma and delta pin lodash; beta has nothing that changed. delta keeps its own
    // rating of its other finding, so its verdict stands.
    expect(outcome.reevaluation).toMatchObject({ inventories: 4, touched: 3, verdictChanges: 1 });
    expect(outcome.reevaluation!.appeared).toBeGreaterThanOrEqual(2);
    // Re-evaluation itself asked Bitbucket nothing.
    expect(callsSince(before)).toEqual([]);

    await app.settle(60_000);
    const calls = callsSince(before);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.includes('/acme/alpha/')), calls.join('\n')).toBe(true);
    expect([await status('alpha'), await status('beta'), await status('gamma'), await status('delta')]).toEqual(['FAILED', 'SUCCESSFUL', 'FAILED', 'SUCCESSFUL']);

    const state = await app.results.getAdvisoryState(clientKey(), (await app.results.listRepositories(clientKey())).find((r) => r.fullName === 'acme/alpha')!.uuid);
    expect(state?.changes).toEqual([expect.objectContaining({ from: 'PASSED', to: 'FAILED', advisories: expect.arrayContaining([HIGH_LODASH]), publishedAt: expect.any(String) })]);

    const fresh = await inventory('type=finding&newAdvisory=true');
    expect(new Set(fresh.map((f) => f.repositoryFullName))).toEqual(new Set(['acme/alpha', 'acme/gamma']));
    expect(fresh.every((f) => f.package === 'lodash' && typeof f.since === 'string' && f.state === 'open')).toBe(true);
    const alpha = (await inventory('type=repository&repository=acme/alpha'))[0]!;
    expect(alpha).toMatchObject({ verdict: 'FAILED', findings: { newAdvisory: 2 } });
  });

  it('an unchanged database calls nothing; a withdrawn advisory passes the branch again and records the finding as fixed', async () => {
    const before = sim.apiCalls.length;
    const same = await monitor.refresh();
    expect(same).toMatchObject({ ran: true, update: { changed: false }, reevaluation: null });
    await app.settle(60_000);
    expect(callsSince(before)).toEqual([]);

    const outcome = await refreshTo(V3);
    expect(outcome.reevaluation).toMatchObject({ touched: 3, verdictChanges: 1, fixed: 2 });
    await app.settle(60_000);
    expect(callsSince(before).every((c) => c.includes('/acme/alpha/'))).toBe(true);
    expect(await status('alpha')).toBe('SUCCESSFUL');
    const fixed = await inventory('type=finding&state=fixed&repository=acme/alpha');
    expect(fixed.map((f) => f.advisory)).toEqual([HIGH_LODASH]);
    // The moderate one is still there and still marked as having come from an advisory update.
    expect((await inventory('type=finding&state=open&repository=acme/alpha')).map((f) => [f.advisory, f.newAdvisory])).toEqual([['GHSA-29mw-wpgm-hmr9', true]]);
  });
});
