import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { freePort, kill9, simulatedBitbucketEnv, startServerProcess } from './helpers/server-process.ts';

/**
 * Exactly-once publishing across a kill -9 at the worst moment: the report, its annotations
 * and the build status are on the commit, the comment is not yet, and nothing recorded that
 * they were published. The real server process (src/server.ts) is killed while Bitbucket
 * holds the job's comment lookup; restarted on the same DATA_DIR, it must finish that
 * publication with the same report and status (not a rescan's different ones, not an
 * INPROGRESS status going back over the result) and exactly one comment.
 */
const LEAK = 'export const key = "AKIAZ3MQ7XKPLR4TBN2W";\n';

describe('publishing end to end: kill -9 between the report and the record of it', () => {
  let dataDir: string;
  let sim: Simulator;
  let port: number;
  let child: ChildProcess | undefined;
  const KEY = randomBytes(32).toString('hex');
  const startServer = () =>
    startServerProcess({
      port,
      entry: 'src',
      showLog: Boolean(process.env.PUBLISH_TEST_LOG),
      env: simulatedBitbucketEnv({ baseUrl: `http://127.0.0.1:${port}`, dataDir, encryptionKey: KEY, sim, logLevel: process.env.PUBLISH_TEST_LOG }),
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-publish-once-'));
    port = await freePort();
    sim = await startSimulator({ appBaseUrl: `http://127.0.0.1:${port}`, retryDelayMs: 0 });
    child = await startServer();
    await sim.install();
  }, 60_000);

  afterAll(async () => {
    if (child) await kill9(child);
    await sim?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function until(what: string, done: () => boolean, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('finishes the cut-short publication with the same report and status and one comment', { timeout: 180_000 }, async () => {
    await sim.createRepository('acme', 'once');
    await sim.createBranch('acme/once', 'leak');
    await sim.commit('acme/once', 'leak', { 'key.js': LEAK }, 'Leak');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const commentsPath = /\/pullrequests\/\d+\/comments/;
    sim.faults.add({ pathPattern: commentsPath, method: 'GET', count: 1, kind: 'slow', until: held });
    const { id } = await sim.openPullRequest('acme/once', { source: 'leak', title: 'Leak' });
    const repo = sim.repository('acme/once');
    const head = sim.pullRequest('acme/once', id).sourceHash;
    const statusPosts = () => sim.apiCalls.filter((c) => c.method === 'POST' && c.path.endsWith(`/commit/${head}/statuses/build`)).length;
    const reportPuts = () => sim.apiCalls.filter((c) => c.method === 'PUT' && c.path.endsWith(`/commit/${head}/reports/gatehouse-security`)).length;

    // The job looks for its comment: report, annotations and FAILED status are published.
    await until('the comment lookup', () => sim.apiCalls.some((c) => c.method === 'GET' && commentsPath.test(c.path)));
    await kill9(child!);
    release();
    const report = structuredClone((repo.reports.get(head) ?? []).find((r) => r.externalId === 'gatehouse-security'));
    const status = structuredClone(repo.statuses.get(head)?.get('gatehouse-security')?.body);
    expect(report?.body.result).toBe('FAILED');
    expect(report?.annotations).toHaveLength(1);
    expect(status?.state).toBe('FAILED');
    expect(sim.pullRequest('acme/once', id).comments).toHaveLength(0);
    const [postsBefore, putsBefore] = [statusPosts(), reportPuts()];

    child = await startServer();
    await until('the comment', () => sim.pullRequest('acme/once', id).comments.length > 0);
    // Settle: nothing else is published after the comment.
    await new Promise((r) => setTimeout(r, 1_000));

    // Published again, identically: the same report (scan duration and all), the same status,
    // and not an INPROGRESS in between; one comment, created once.
    const reports = (repo.reports.get(head) ?? []).filter((r) => r.externalId === 'gatehouse-security');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.body).toEqual(report!.body);
    expect(reports[0]!.annotations.map((a) => a.body)).toEqual(report!.annotations.map((a) => a.body));
    expect(repo.statuses.get(head)?.get('gatehouse-security')?.body).toEqual(status);
    expect(statusPosts() - postsBefore).toBe(1);
    expect(reportPuts() - putsBefore).toBe(1);
    expect(sim.pullRequest('acme/once', id).comments).toHaveLength(1);
    expect(sim.apiCalls.filter((c) => c.method === 'POST' && c.path.endsWith(`/pullrequests/${id}/comments`))).toHaveLength(1);
    expect(sim.violations).toEqual([]);
  });
});
