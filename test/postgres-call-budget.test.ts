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
import { freePort, simulatedBitbucketEnv, spawnServer, waitHealthy } from './helpers/server-process.ts';

/**
 * Two server processes (`node dist/server.js`) on one PostgreSQL database spend one call
 * budget per installation. With BITBUCKET_CALL_BUDGET=40/1 (40 calls, then one an hour) and
 * far more work than 40 calls (a backfill of every repository and a pull request in each,
 * delivered through a round-robin balancer), both instances run out of calls and postpone
 * jobs, and the simulated Bitbucket sees at most 40 calls in all. Per-process buckets would
 * let each instance make 40.
 */
const BURST = 40;
const REPOSITORIES = 8;
const LEAK = (i: number) => `export const key${i} = "AKIAZ3MQ7XKPLR4TBN2W";\n`;

describe('two instances on one PostgreSQL database share the call budget', () => {
  let db: TestDatabase;
  let sim: Simulator;
  let balancer: Balancer;
  const dataDirs: string[] = [];
  const instances: { port: number; proc: ChildProcess; postponed: number }[] = [];
  const KEY = randomBytes(32).toString('hex');

  beforeAll(async () => {
    db = await createTestDatabase();
    balancer = await startBalancer(() => instances.map((i) => i.port));
    sim = await startSimulator({ appBaseUrl: balancer.url, retryDelayMs: 0 });
    for (let i = 0; i < 2; i++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-pg-budget-'));
      dataDirs.push(dataDir);
      const env = {
        ...simulatedBitbucketEnv({ baseUrl: balancer.url, dataDir, encryptionKey: KEY, sim, logLevel: 'warn' }),
        DATABASE_URL: db.url,
        WORKER_CONCURRENCY: '3',
        BITBUCKET_CALL_BUDGET: `${BURST}/1`,
      };
      const instance = { port: await freePort(), proc: undefined as unknown as ChildProcess, postponed: 0 };
      instance.proc = spawnServer({
        port: instance.port,
        env,
        entry: 'dist',
        onLog: (line) => {
          if (line.includes('call budget spent; job postponed')) instance.postponed += 1;
        },
      });
      instances.push(instance);
    }
    await Promise.all(instances.map((i) => waitHealthy(i.port, i.proc)));
  }, 60_000);

  afterAll(async () => {
    for (const { proc } of instances) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await sim?.stop();
    await balancer?.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('makes at most the burst of calls in all, while both instances run out of calls', { timeout: 120_000 }, async () => {
    const slugs = Array.from({ length: REPOSITORIES }, (_, i) => `budget-${i}`);
    for (const [i, slug] of slugs.entries()) {
      await sim.createRepository('acme', slug);
      await sim.createBranch(`acme/${slug}`, 'leak');
      await sim.commit(`acme/${slug}`, 'leak', { 'key.js': LEAK(i) }, 'Leak');
    }
    await sim.install();
    await Promise.all(slugs.map((slug) => sim.openPullRequest(`acme/${slug}`, { source: 'leak', title: 'Leak' })));
    for (const { port } of instances) expect(balancer.answered.get(port) ?? 0).toBeGreaterThan(0);

    // Settled: nothing running and nothing due within the next minute (a postponed job waits
    // about an hour for one call at 1 per hour).
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const busy = async () =>
        Number((await admin.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE status = 'running' OR (status = 'queued' AND run_after < now() + interval '1 minute')")).rows[0]!.n);
      const deadline = Date.now() + 90_000;
      while ((await busy()) > 0 || instances.some((i) => i.postponed === 0)) {
        if (Date.now() > deadline) throw new Error(`not settled: ${await busy()} jobs busy, postponed per instance ${instances.map((i) => i.postponed).join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const calls = sim.apiCalls.filter((c) => c.path.startsWith('/2.0/'));
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.length).toBeLessThanOrEqual(BURST);
      const { rows } = await admin.query<{ tokens: number }>('SELECT tokens FROM call_budgets');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.tokens).toBeLessThan(1);
    } finally {
      await admin.end();
    }
  });
});
