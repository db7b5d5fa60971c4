import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_LANES, backfillGroup, laneOf } from '../src/core/coverage/control.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

/**
 * What a backfill costs in Bitbucket calls for one fixed small repository: every call is
 * counted at the simulator, by endpoint, so a change that adds calls per repository (a
 * metadata call per file, a listing per directory page) shows here.
 */
const FILES: Record<string, string> = {
  'README.md': '# svc\n',
  'package.json': '{"name":"svc"}\n',
  'src/index.js': 'module.exports = 1;\n',
  'src/lib/a.js': 'module.exports = 2;\n',
  'src/lib/b.js': 'module.exports = 3;\n',
  'src/lib/deep/c.js': 'module.exports = 4;\n',
  'docs/guide.md': '# guide\n',
  'config/deploy.env': 'AWS_ACCESS_KEY_ID=AKIAZ3MQ7XKPLR4TBN2W\n',
};

describe('backfill calls per repository', { timeout: 120_000 }, () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let tenant: { clientKey: string; sharedSecret: string };

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('coverage-calls'));
    tenant = sim.installation()!;
    await sim.createRepository('acme', 'svc', { files: FILES });
  });

  afterAll(async () => {
    await stop?.();
  });

  it('scans a repository of 8 files in 6 directories with 18 calls', async () => {
    expect((await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'discover' } })).status).toBe(200);
    await app.settle(60_000);
    const state = (await signedCall(app.baseUrl, tenant, 'GET', '/api/coverage')).body as { state: string; repositories: { scanned: number }; files: number };
    expect(state).toMatchObject({ state: 'done', repositories: { scanned: 1 }, files: 8 });

    const reads = sim.apiCalls.filter((c) => /\/src\/[0-9a-f]{40}\/.*[^/]$/.test(c.path)).length;
    const listings = sim.apiCalls.filter((c) => /\/src\/[0-9a-f]{40}\/(.*\/)?(\?.*)?$/.test(c.path)).length;
    // One read per file and none for configuration files the root does not have; the root,
    // then each top-level directory with its subdirectories in one listing (src holds three levels).
    expect(reads).toBe(8);
    expect(listings).toBe(4);
    // Discovery, the repository, its branch head, the report, its annotations, the build status.
    expect(sim.apiCalls.length).toBe(8 + 4 + 6);
  });

  it('runs one link per lane, each lane its own job group, so a Retry-After in one repository leaves the others going', async () => {
    for (const name of ['one', 'two', 'three', 'four', 'five', 'six']) await sim.createRepository('acme', name, { files: { 'a.js': '1;\n' } });
    await app.worker.stop();
    expect((await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'discover' } })).status).toBe(200);
    app.worker.start();
    await app.settle(60_000);
    await app.worker.stop();
    expect((await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'start' } })).status).toBe(200);
    for (let lane = 0; lane < BACKFILL_LANES; lane++) expect(await app.store.countUnfinishedJobs(tenant.clientKey, backfillGroup(tenant.clientKey, lane))).toBe(1);
    app.worker.start();
    await app.settle(60_000);
    const state = (await signedCall(app.baseUrl, tenant, 'GET', '/api/coverage')).body as { state: string; repositories: { scanned: number; pending: number } };
    expect(state).toMatchObject({ state: 'done', repositories: { scanned: 7, pending: 0 } });
    // The repositories were spread over more than one lane, and each lane took only its own:
    // every file was read once (the second run found every head already scanned).
    const uuids = (await app.results.listRepositories(tenant.clientKey)).map((r) => r.uuid);
    expect(new Set(uuids.map(laneOf)).size).toBeGreaterThan(1);
    const reads = sim.apiCalls.filter((c) => /\/src\/[0-9a-f]{40}\/a\.js$/.test(c.path)).map((c) => c.path.split('/')[4]);
    expect(reads.sort()).toEqual(['five', 'four', 'one', 'six', 'three', 'two']);
  });
});
