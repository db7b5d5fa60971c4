import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import { waitForDatacenterResults } from '../src/simulator/datacenter/results.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession, type RegisteredInstance } from '../src/simulator/datacenter/session.ts';
import type { Job } from '../src/store/types.ts';
import { until } from './helpers/until.ts';

// What goes wrong between a Data Center webhook and its job, on the local Data Center: the
// instance is down for a while, the repository is deleted before the job runs, and a pull
// request changes 10,000 files.

const TIMEOUT = 90_000;
// Small enough that 10,000 changed files overrun it; the Cloud path reads diffs within the same bounds.
const MAX_DIFF_BYTES = 256 * 1024;

let session: DatacenterSession;
let instance: RegisteredInstance;
let dataDir: string;

async function jobsOf(type: string): Promise<Job[]> {
  return session.app.store!.listJobs({ clientKey: `datacenter:${instance.instanceId}`, type });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-dc-failures-'));
  session = await startDatacenterSession({ dataDir, pipeline: { retryBaseDelayMs: 200, diffLimits: { maxFileBytes: 64 * 1024, maxDiffBytes: MAX_DIFF_BYTES } } });
  await session.dc.createRepository('SEC', DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
  await session.dc.createRepository('SEC', 'doomed', { files: mainBranchFiles() });
  await session.dc.createRepository('SEC', 'monorepo', { files: { 'README.md': '# monorepo\n' } });
  const token = newAccessToken();
  session.dc.addToken(token, 'PROJECT_ADMIN');
  instance = await session.register({ name: 'Failing DC', token, project: 'SEC' });
}, 60_000);

afterAll(async () => {
  await session?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('Bitbucket Data Center failures, on the local Data Center', { timeout: 180_000 }, () => {
  it('an instance that is down (503s, then dropped connections) is retried with backoff and the job completes when it is back', async () => {
    const repo = `SEC/${DEMO_REPOSITORY.slug}`;
    await session.dc.createBranch(repo, 'feature/outage');
    await session.dc.commit(repo, 'feature/outage', pullRequestFiles(fakeAwsKeyPair()), 'Add the export');
    // Every call to the instance fails for a while: more failures than the client retries within one attempt.
    const prPaths = `/repos/${DEMO_REPOSITORY.slug}/pull-requests`;
    session.dc.addFault({ pathPattern: prPaths, count: 8, kind: '503' });
    session.dc.addFault({ pathPattern: prPaths, count: 4, kind: 'drop' });
    const pr = await session.dc.openPullRequest(repo, { from: 'feature/outage', title: 'During the outage' });
    const published = await waitForDatacenterResults(session.dc, repo, pr.id, TIMEOUT);
    expect(published.report.body.result).toBe('FAIL');
    expect(published.comments).toBe(1);
    expect(session.dc.faults.triggered.filter((f) => f.kind === '503')).toHaveLength(8);
    expect(session.dc.faults.triggered.filter((f) => f.kind === 'drop')).toHaveLength(4);
    const job = await until('the job to be done', async () => (await jobsOf('event:pull_request:opened')).find((j) => j.status === 'done'));
    // The job itself was retried: the outage outlasted what one attempt's client retries cover.
    expect(job.attempts).toBeGreaterThan(1);
    const { body } = await session.admin(`/admin/datacenter/instances/${instance.instanceId}`);
    expect(body.status).toBe('ok');
  });

  it('a repository deleted between the webhook and the job: the job ends once with a clear reason and nothing is published', async () => {
    const repo = 'SEC/doomed';
    await session.dc.createBranch(repo, 'feature/x');
    await session.dc.commit(repo, 'feature/x', pullRequestFiles(fakeAwsKeyPair()), 'Add the export');
    // The branch's own push scan ends first: only the pull request's job meets the deletion.
    await until('the push scan of the branch', async () => {
      const pushes = (await jobsOf('event:push')).filter((j) => JSON.stringify(j.payload).includes('SEC/doomed'));
      return pushes.length > 0 && pushes.every((j) => j.status === 'done') ? true : undefined;
    });
    const since = session.dc.calls.length;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The job's first call to the repository is held until the repository is gone.
    session.dc.addFault({ pathPattern: '/repos/doomed', count: 1, kind: 'slow', until: held });
    await session.dc.openPullRequest(repo, { from: 'feature/x', title: 'Soon gone' });
    await until('the job to call the instance', () => (session.dc.faults.triggered.some((f) => f.url.includes('/repos/doomed')) ? true : undefined));
    session.dc.deleteRepository(repo);
    release();
    const ended = await until('the job to end', async () => {
      const jobs = (await jobsOf('event:pull_request:opened')).filter((j) => JSON.stringify(j.payload).includes('SEC/doomed') && j.status !== 'queued' && j.status !== 'running');
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(ended.map((j) => j.status)).toEqual(['dead']);
    expect(ended[0]!.attempts).toBe(1);
    expect(ended[0]!.lastError).toMatch(/answered 404 .*Repository SEC\/doomed does not exist/);
    const writes = session.dc.calls.slice(since).filter((c) => c.method !== 'GET' && c.path.includes('/repos/doomed'));
    expect(writes.filter((c) => c.status < 300)).toEqual([]);
  });

  // Committing 10,000 files and diffing them is the slow part of this file: on a loaded 2-core
  // machine it has taken over 90 s, so this case waits longer than the others.
  it('a pull request with 10,000 changed files completes within the diff bounds and says what it did not scan', { timeout: 300_000 }, async () => {
    const repo = 'SEC/monorepo';
    await session.dc.createBranch(repo, 'feature/generated');
    const files: Record<string, string> = {};
    for (let i = 0; i < 10_000; i++) files[`gen/part${Math.floor(i / 500)}/file${i}.ts`] = `export const value${i} = ${i};\n`.repeat(3);
    await session.dc.commit(repo, 'feature/generated', files, 'Generate everything');
    const pr = await session.dc.openPullRequest(repo, { from: 'feature/generated', title: 'Ten thousand files' });
    const published = await waitForDatacenterResults(session.dc, repo, pr.id, 2 * TIMEOUT);
    expect(published.report.body.result).toBe('PASS');
    expect(String(published.report.body.details)).toMatch(/not scanned|was not read|cut off|stopped/i);
    expect(published.comment.text).toMatch(/not scanned|was not read|cut off|stopped/i);
    // The job records that it finished just after its last publication: wait for that.
    const jobs = await until('the job to be recorded done', async () => {
      const mine = (await jobsOf('event:pull_request:opened')).filter((j) => JSON.stringify(j.payload).includes('SEC/monorepo'));
      return mine.some((j) => j.status === 'queued' || j.status === 'running') ? undefined : mine;
    });
    expect(jobs.map((j) => j.status)).toEqual(['done']);
    expect(session.dc.violations).toEqual([]);
  });
});
