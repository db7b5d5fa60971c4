import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { freePort, kill9, simulatedBitbucketEnv, startServerProcess } from './helpers/server-process.ts';

/**
 * The real server process (`src/server.ts`, what `npm start` runs) killed with SIGKILL while
 * its workers are busy, twice, then started again on the same DATA_DIR. The simulator lives
 * in this process, so it keeps every publication across the restarts.
 */
const PRS = 8;
const LEAK = (i: number) => `export const key${i} = "AKIAZ3MQ7XKPLR4TBN2W";\n`;

describe('pipeline end to end: kill -9 while jobs run, then restart', () => {
  let dataDir: string;
  let sim: Simulator;
  let port: number;
  let child: ChildProcess | undefined;
  const env = () => ({
    ...simulatedBitbucketEnv({ baseUrl: `http://127.0.0.1:${port}`, dataDir, encryptionKey: KEY, sim, logLevel: process.env.CRASH_TEST_LOG }),
    WORKER_CONCURRENCY: '3',
  });
  const KEY = randomBytes(32).toString('hex');

  const startServer = () => startServerProcess({ port, env: env(), entry: 'src', showLog: Boolean(process.env.CRASH_TEST_LOG) });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-crash-'));
    port = await freePort();
    sim = await startSimulator({ appBaseUrl: `http://127.0.0.1:${port}`, retryDelayMs: 0 });
    child = await startServer();
    await sim.install();
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await sim?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const finished = (slug: string, id: number) => {
    const repo = sim.repository(`acme/${slug}`);
    const head = sim.pullRequest(`acme/${slug}`, id).sourceHash;
    return repo.statuses.get(head)?.get('gatehouse-security')?.body.state === 'FAILED' && sim.pullRequest(`acme/${slug}`, id).comments.length > 0;
  };

  it('finishes every accepted job and publishes nothing twice', { timeout: 120_000 }, async () => {
    // Slow Bitbucket down so that jobs are mid-flight (some before, some after publishing) when killed.
    sim.faults.add({ pathPattern: /\/(diff|comments|statuses)\b/, count: 10_000, kind: 'slow', delayMs: 400 });
    const prs: { slug: string; id: number }[] = [];
    for (let i = 0; i < PRS; i++) {
      const slug = `crash-${i}`;
      await sim.createRepository('acme', slug);
      await sim.createBranch(`acme/${slug}`, 'leak');
      await sim.commit(`acme/${slug}`, 'leak', { 'key.js': LEAK(i) }, 'Leak');
      prs.push({ slug, id: (await sim.openPullRequest(`acme/${slug}`, { source: 'leak', title: 'Leak' })).id });
    }
    // Every webhook was acknowledged (202) before the first kill: these jobs must all finish.
    expect(sim.deliveries.every((d) => d.attempts.at(-1)?.status === 202)).toBe(true);

    const unfinishedAtKill: number[] = [];
    for (const delay of [300, 1200]) {
      await new Promise((r) => setTimeout(r, delay));
      unfinishedAtKill.push(prs.filter((p) => !finished(p.slug, p.id)).length);
      await kill9(child!);
      child = await startServer();
    }
    // The kills hit work in progress, or this test proves nothing.
    expect(unfinishedAtKill[0]).toBeGreaterThan(0);
    sim.faults.clear();

    const deadline = Date.now() + 90_000;
    while (!prs.every((p) => finished(p.slug, p.id))) {
      if (Date.now() > deadline) throw new Error(`unfinished: ${prs.filter((p) => !finished(p.slug, p.id)).map((p) => p.slug).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    for (const { slug, id } of prs) {
      const repo = sim.repository(`acme/${slug}`);
      const head = sim.pullRequest(`acme/${slug}`, id).sourceHash;
      const reports = (repo.reports.get(head) ?? []).filter((r) => r.externalId === 'gatehouse-security');
      expect(reports, slug).toHaveLength(1);
      expect(reports[0]!.annotations.map((a) => a.externalId), slug).toHaveLength(1);
      expect(sim.pullRequest(`acme/${slug}`, id).comments, slug).toHaveLength(1);
    }

    // A graceful stop, then the store itself: no webhook job queued, running or dead. The
    // installation's coverage chain (discovery, backfill) goes on in the background by design
    // and may be waiting for its next step when the server stops.
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    const store = new LowdbStore({ dataDir });
    await store.open();
    try {
      const jobs = await store.listJobs();
      expect(jobs.length).toBeGreaterThanOrEqual(PRS * 2);
      expect(jobs.filter((j) => !j.type.startsWith('coverage:') && j.status !== 'done').map((j) => `${j.type} ${j.status} ${j.lastError ?? ''}`)).toEqual([]);
    } finally {
      await store.close();
    }
    expect(sim.violations).toEqual([]);
  });
});
