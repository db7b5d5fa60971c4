import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoverageScheduler } from '../src/core/coverage/scheduler.ts';
import { createLogger } from '../src/log.ts';
import type { RepositoryCoverage } from '../src/store/coverage-types.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

/**
 * The backfill's bad input and failures, each with the state it must leave recorded: a
 * repository of 200,000 files (read in part, with notices), one of 2 GB (skipped with the
 * reason), an empty one, one without a default branch, one deleted after the run started, a
 * token refused in the middle of the run (nothing marked failed; the chain goes on once
 * calls are accepted again) and a 429 storm (everything scanned in the end, nothing failed).
 */
const FILES = 200_000;
const LISTED = 5_000;
const READ = 100;

describe('backfill bad input and failures on the simulator', { timeout: 180_000 }, () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let scheduler: CoverageScheduler;
  let tenant: { clientKey: string; sharedSecret: string };

  const post = async (body: unknown) => {
    const answer = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body });
    expect(answer.status).toBe(200);
  };
  const coverage = async () => (await signedCall(app.baseUrl, tenant, 'GET', '/api/coverage')).body as { state: string; repositories: Record<string, number> };
  const entry = async (fullName: string): Promise<RepositoryCoverage> => {
    const repo = (await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === fullName)!;
    return (await app.results.listRepositoryCoverage(tenant.clientKey)).find((e) => e.repoUuid === repo.uuid)!;
  };

  /** 200,000 files in 200 directories, written with plumbing: one blob, one index, one commit. */
  async function commitManyFiles(fullName: string): Promise<void> {
    const git = sim.repository(fullName).git;
    const blob = (await git.run(['hash-object', '-w', '--stdin'], { input: 'export const value = 1;\n' })).stdout.toString('utf8').trim();
    const lines = [`100644 ${blob}\tREADME.md`];
    for (let i = 0; i < FILES - 1; i++) lines.push(`100644 ${blob}\tsrc/part-${String(Math.floor(i / 1000)).padStart(3, '0')}/file-${i}.js`);
    const env = { GIT_INDEX_FILE: path.join(git.dir, 'test-index') };
    await git.run(['update-index', '--add', '--index-info'], { env, input: `${lines.join('\n')}\n` });
    const tree = (await git.run(['write-tree'], { env })).stdout.toString('utf8').trim();
    const parent = (await git.branchHead('main'))!;
    const commit = (await git.run(['commit-tree', tree, '-p', parent, '-m', 'many files'])).stdout.toString('utf8').trim();
    await git.run(['update-ref', 'refs/heads/main', commit, parent]);
  }

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('coverage-failures', { tuning: { treeScanLimits: { maxEntries: LISTED, maxFiles: READ } } }));
    tenant = sim.installation()!;
    scheduler = new CoverageScheduler({ store: app.store, results: app.results, logger: createLogger('silent'), onQueued: () => app.worker.wake() });
    await sim.createRepository('acme', 'many');
    await commitManyFiles('acme/many');
    await sim.createRepository('acme', 'huge');
    sim.repository('acme/huge').sizeBytes = 2 * 1024 * 1024 * 1024;
    await sim.createRepository('acme', 'void', { empty: true });
    await sim.createRepository('acme', 'nobranch', { empty: true });
    sim.repository('acme/nobranch').mainBranch = '';
    await sim.createRepository('acme', 'gone', { files: { 'app.js': '1;\n' } });
    await sim.createRepository('acme', 'ok', { files: { 'app.js': '1;\n' } });
    // Discovery alone first: the test starts the run itself.
    await post({ autoBackfill: false });
    await post({ action: 'discover' });
    await app.settle(60_000);
  });

  afterAll(async () => {
    await scheduler?.stop();
    await stop?.();
  });

  it('records each bad repository with its state and reason, and scans the rest', async () => {
    await app.worker.stop();
    await post({ action: 'start' });
    // Deleted after the run started, before its turn.
    sim.deleteRepository('acme/gone');
    app.worker.start();
    await app.settle(120_000);

    expect(await coverage()).toMatchObject({ state: 'done', repositories: { total: 6, scanned: 2, skipped: 4, failed: 0, pending: 0 } });
    expect(await entry('acme/huge')).toMatchObject({ status: 'skipped', reason: 'the repository is 2048 MB, over the 1024 MB a backfill scans', files: 0 });
    expect(await entry('acme/void')).toMatchObject({ status: 'skipped', reason: 'the default branch main has no commits' });
    expect(await entry('acme/nobranch')).toMatchObject({ status: 'skipped', reason: 'no default branch (an empty repository)' });
    expect((await entry('acme/gone')).reason).toMatch(/deleted or moved away/);
    expect((await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === 'acme/gone')?.deletedAt).not.toBeNull();

    const many = await entry('acme/many');
    expect(many).toMatchObject({ status: 'scanned', files: READ });
    const head = (await sim.repository('acme/many').git.branchHead('main'))!;
    const repo = (await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === 'acme/many')!;
    const scan = (await app.results.getScan(tenant.clientKey, repo.uuid, head, 'branch'))!;
    expect(scan.notices).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`stopped listing after ${LISTED} files and directories`)),
      expect.stringMatching(new RegExp(`read the first ${READ} \\(dependency files first\\)`)),
    ]));
    expect(sim.violations).toEqual([]);
  });

  it('a token refused in the middle of the run leaves the repository pending, never failed, and the run goes on once calls are accepted', async () => {
    await sim.commit('acme/ok', 'main', { 'app.js': '2;\n' }, 'second');
    await app.settle(60_000);
    await app.worker.stop();
    await post({ action: 'start' });
    sim.faults.add({ pathPattern: '/2.0/repositories/', count: 1, kind: '401' });
    app.worker.start();
    await app.settle(60_000);

    // The refused call ended that link (a 401 is not retried within the job): the run waits.
    expect(await coverage()).toMatchObject({ state: 'running', repositories: { failed: 0 } });
    expect((await coverage()).repositories.pending).toBeGreaterThan(0);
    const dead = await app.store.listJobs({ clientKey: tenant.clientKey, status: 'dead', type: 'coverage:backfill' });
    expect(dead.at(-1)?.lastError).toMatch(/401/);

    // The scheduler's next tick starts the chain again.
    await scheduler.tick();
    await app.settle(60_000);
    expect(await coverage()).toMatchObject({ state: 'done', repositories: { failed: 0, pending: 0 } });
    expect(await entry('acme/ok')).toMatchObject({ status: 'scanned', commit: await sim.repository('acme/ok').git.branchHead('main') });
  });

  it('a 429 storm slows the run down and fails nothing', async () => {
    await sim.commit('acme/ok', 'main', { 'app.js': '3;\n' }, 'third');
    await app.settle(60_000);
    const before = sim.site.faults.triggered.length;
    sim.faults.add({ pathPattern: '/2.0/repositories/', count: 40, kind: '429-retry-after', retryAfterSeconds: 0, share: 0.5 });
    await post({ action: 'start' });
    await app.settle(120_000);
    expect(sim.site.faults.triggered.length - before).toBeGreaterThan(5);
    expect(await coverage()).toMatchObject({ state: 'done', repositories: { failed: 0, pending: 0, scanned: 2 } });
    expect(await entry('acme/ok')).toMatchObject({ status: 'scanned', commit: await sim.repository('acme/ok').git.branchHead('main') });
  });
});
