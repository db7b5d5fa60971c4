import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRANCH_REPORT_ID, BRANCH_STATUS_KEY } from '../src/core/coverage/backfill.ts';
import { CoverageScheduler } from '../src/core/coverage/scheduler.ts';
import { tenantKeyOf } from '../src/datacenter/instance.ts';
import { createLogger } from '../src/log.ts';
import { fakeAwsKeyPair } from '../src/simulator/demo-repository.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession } from '../src/simulator/datacenter/session.ts';
import { until } from './helpers/until.ts';

// Whole-organisation coverage of a Data Center instance through the same pipeline as Cloud's:
// the scheduler finds the registered instance, discovery lists every repository its token can
// read (paged /rest/api/latest/repos, default branches), and the backfill scans each default
// branch at its head and publishes a Code Insights report and a build status there. Every
// request the app makes is checked against the Data Center OpenAPI by the local instance.

let session: DatacenterSession;
let dataDir: string;
let tenantKey: string;
const leaked = fakeAwsKeyPair();

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-dc-coverage-'));
  session = await startDatacenterSession({ dataDir });
  await session.dc.createRepository('SEC', 'leaky', { files: { 'README.md': '# leaky\n', 'config/deploy.env': `AWS_ACCESS_KEY_ID=${leaked.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${leaked.secretAccessKey}\n` } });
  await session.dc.createRepository('SEC', 'clean', { files: { 'README.md': '# clean\n', 'src/a/b/c/d/e/f/deep.js': 'module.exports = 1;\n' } });
  await session.dc.createRepository('OPS', 'tools', { files: { 'README.md': '# tools\n' }, defaultBranch: 'trunk' });
  const token = newAccessToken();
  session.dc.addToken(token, 'PROJECT_ADMIN');
  const instance = await session.register({ name: 'Local DC', token, project: 'SEC' });
  tenantKey = tenantKeyOf(instance.instanceId);
}, 60_000);

afterAll(async () => {
  await session?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('coverage of a Data Center instance end to end', { timeout: 120_000 }, () => {
  it('discovers every repository and backfills each default branch head with a Code Insights report and build status', async () => {
    const { app, dc } = session;
    const results = app.results!;
    const scheduler = new CoverageScheduler({ store: app.store!, results, logger: createLogger('silent'), onQueued: () => app.wake() });
    // The first tick after the registration: the instance's first discovery, then its backfill.
    await scheduler.tick();
    await until('the backfill to finish', async () => ((await results.getCoverage(tenantKey))?.state === 'done' ? true : undefined));

    const repos = (await results.listRepositories(tenantKey)).sort((a, b) => a.fullName.localeCompare(b.fullName));
    expect(repos.map((r) => [r.fullName, r.mainBranch, r.project?.key])).toEqual([
      ['OPS/tools', 'trunk', 'OPS'],
      ['SEC/clean', 'main', 'SEC'],
      ['SEC/leaky', 'main', 'SEC'],
    ]);
    // Identified as the instance's webhooks identify them, so a push's results and the backfill's meet.
    for (const r of repos) expect(r.uuid).toBe(`{dc-${tenantKey.slice('datacenter:'.length)}-${dc.repository(r.fullName).id}}`);
    const coverage = await results.listRepositoryCoverage(tenantKey);
    expect(coverage.map((e) => [e.status, e.reason])).toEqual([['scanned', null], ['scanned', null], ['scanned', null]]);

    const head = async (fullName: string) => (await dc.repository(fullName).git.branchHead(dc.repository(fullName).defaultBranch))!;
    const leaky = dc.report('SEC/leaky', await head('SEC/leaky'), BRANCH_REPORT_ID)!;
    expect(leaky.body).toMatchObject({ result: 'FAIL' });
    expect(leaky.annotations.map((a) => a.path)).toContain('config/deploy.env');
    expect(JSON.stringify(leaky)).not.toContain(leaked.secretAccessKey);
    expect(dc.build('SEC/leaky', await head('SEC/leaky'), BRANCH_STATUS_KEY)?.body).toMatchObject({ state: 'FAILED', ref: 'refs/heads/main' });
    expect(dc.report('SEC/clean', await head('SEC/clean'), BRANCH_REPORT_ID)?.body).toMatchObject({ result: 'PASS' });
    expect(dc.build('OPS/tools', await head('OPS/tools'), BRANCH_STATUS_KEY)?.body).toMatchObject({ state: 'SUCCESSFUL', ref: 'refs/heads/trunk' });
    // The whole tree was read, the file six directories down included.
    const clean = coverage.find((e) => e.repoUuid === repos[1]!.uuid)!;
    expect(clean.files).toBe(2);
    expect(dc.violations).toEqual([]);
  });
});
