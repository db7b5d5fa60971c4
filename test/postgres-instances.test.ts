import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { startBalancer, type Balancer } from './helpers/balancer.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { freePort, kill9, simulatedBitbucketEnv, spawnServer, waitHealthy } from './helpers/server-process.ts';

/**
 * Two server processes (`node dist/server.js`, what `npm start` runs) on one PostgreSQL
 * database behind a round-robin balancer, both migrating at start-up. A burst of pull
 * requests is delivered through the balancer, so each instance accepts part of it; one
 * instance is killed with SIGKILL while jobs run; the other finishes everything, taking
 * over the killed one's jobs when their leases run out. Publications are counted at the
 * simulated Bitbucket.
 */
const PRS = 6;
const LEAK = (i: number) => `export const key${i} = "AKIAZ3MQ7XKPLR4TBN2W";\n`;

describe('two instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let sim: Simulator;
  let balancer: Balancer;
  const dataDirs: string[] = [];
  const instances: { port: number; proc: ChildProcess }[] = [];
  const KEY = randomBytes(32).toString('hex');

  async function startInstance(port: number): Promise<ChildProcess> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-pg-instance-'));
    dataDirs.push(dataDir);
    const env = {
      ...simulatedBitbucketEnv({ baseUrl: balancer.url, dataDir, encryptionKey: KEY, sim, logLevel: process.env.INSTANCES_TEST_LOG }),
      DATABASE_URL: db.url,
      WORKER_CONCURRENCY: '3',
    };
    return spawnServer({ port, env, entry: 'dist', showLog: Boolean(process.env.INSTANCES_TEST_LOG) });
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const ports = [await freePort(), await freePort()];
    balancer = await startBalancer(() => instances.filter((i) => i.proc.exitCode === null && i.proc.signalCode === null).map((i) => i.port));
    sim = await startSimulator({ appBaseUrl: balancer.url, retryDelayMs: 0 });
    // Started together: both migrate, under the lock, and the schema is built once.
    for (const port of ports) instances.push({ port, proc: await startInstance(port) });
    await Promise.all(instances.map((i) => waitHealthy(i.port, i.proc)));
    await sim.install();
  }, 60_000);

  afterAll(async () => {
    for (const { proc } of instances) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await sim?.stop();
    await balancer?.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    await db?.drop();
  });

  const head = (slug: string, id: number) => sim.pullRequest(`acme/${slug}`, id).sourceHash;
  const finished = (slug: string, id: number) =>
    sim.repository(`acme/${slug}`).statuses.get(head(slug, id))?.get('gatehouse-security')?.body.state === 'FAILED' &&
    sim.pullRequest(`acme/${slug}`, id).comments.length > 0;

  it('processes every delivery once and publishes each result once, with one instance killed mid-run', { timeout: 240_000 }, async () => {
    const slugs = Array.from({ length: PRS }, (_, i) => `multi-${i}`);
    for (const [i, slug] of slugs.entries()) {
      await sim.createRepository('acme', slug);
      await sim.createBranch(`acme/${slug}`, 'leak');
      await sim.commit(`acme/${slug}`, 'leak', { 'key.js': LEAK(i) }, 'Leak');
    }
    // Slow Bitbucket down so that jobs are in flight on both instances when one is killed,
    // then open every pull request at once.
    sim.faults.add({ pathPattern: /\/(diff|comments|statuses)\b/, count: 100_000, kind: 'slow', delayMs: 500 });
    const prs = await Promise.all(slugs.map(async (slug) => ({ slug, id: (await sim.openPullRequest(`acme/${slug}`, { source: 'leak', title: 'Leak' })).id })));
    // A second push to half of them: the newer event supersedes the older job.
    await Promise.all(prs.slice(0, PRS / 2).map(({ slug, id }) => sim.updatePullRequest(`acme/${slug}`, id, { 'more.js': 'export const x = 1;\n' }, 'More')));
    expect(sim.deliveries.every((d) => d.attempts.at(-1)?.status === 202)).toBe(true);
    // Both instances accepted part of the burst.
    for (const { port } of instances) expect(balancer.answered.get(port) ?? 0).toBeGreaterThan(2);

    await new Promise((r) => setTimeout(r, 300));
    const victim = instances[0]!;
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const running = await admin.query<{ grp: string }>(`SELECT grp FROM jobs WHERE status = 'running' AND lease_owner LIKE $1`, [`${victim.proc.pid}-%`]);
      await kill9(victim.proc);
      // The kill hit work in progress on the victim, or this test proves nothing.
      expect(running.rows.length).toBeGreaterThan(0);
      const inFlightAtKill = running.rows.length;

      const deadline = Date.now() + 100_000;
      while (!prs.every((p) => finished(p.slug, p.id))) {
        if (Date.now() > deadline) throw new Error(`unfinished: ${prs.filter((p) => !finished(p.slug, p.id)).map((p) => p.slug).join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      sim.faults.clear();

      let extraReports = 0;
      for (const { slug, id } of prs) {
        const repo = sim.repository(`acme/${slug}`);
        const reports = (repo.reports.get(head(slug, id)) ?? []).filter((r) => r.externalId === 'gatehouse-security');
        expect(reports, slug).toHaveLength(1);
        expect(sim.pullRequest(`acme/${slug}`, id).comments, slug).toHaveLength(1);
        const commentPosts = sim.apiCalls.filter((c) => c.method === 'POST' && c.path === `/2.0/repositories/acme/${slug}/pullrequests/${id}/comments`);
        expect(commentPosts, slug).toHaveLength(1);
        const reportPuts = sim.apiCalls.filter((c) => c.method === 'PUT' && c.path === `/2.0/repositories/acme/${slug}/commit/${head(slug, id)}/reports/gatehouse-security`);
        extraReports += reportPuts.length - 1;
        expect(reportPuts.length, slug).toBeGreaterThanOrEqual(1);
      }
      // A job killed between publishing and recording it publishes again when it reruns
      // (the same report, idempotently); nothing else is ever published twice.
      expect(extraReports).toBeLessThanOrEqual(inFlightAtKill);

      // Nothing lost or stuck: every webhook job done (run or superseded), none dead. The
      // installation's coverage chain (discovery, backfill) goes on in the background by
      // design. A job records that it finished just after its last publication, so the last
      // ones may still read 'running' for a moment after the simulator saw them published.
      const unfinished = async () =>
        (await admin.query<{ type: string; status: string }>("SELECT type, status FROM jobs WHERE status <> 'done' AND type NOT LIKE 'coverage:%' ORDER BY id")).rows.map((r) => `${r.type} ${r.status}`);
      const settleBy = Date.now() + 30_000;
      while ((await unfinished()).length > 0 && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 100));
      expect(await unfinished()).toEqual([]);
      expect(sim.violations).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
