import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDatabase, emptyTables, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { createPool } from './database.ts';
import { LeaseLostError, PgStore } from './pg-store.ts';
import { JobWakeups } from './wakeups.ts';

/**
 * What the PostgreSQL queue adds to the Store contract for several instances: two stores
 * here are two instances (each its own owner, as two processes would be).
 */

let db: TestDatabase & { pool: pg.Pool };
beforeAll(async () => {
  db = await createMigratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const CLIENT = 'client-queue';
const job = (n: number, group?: string) => ({ clientKey: CLIENT, type: 'webhook:pullrequest:updated', payload: { n }, ...(group ? { group } : {}) });
const delivery = (id: string) => ({ id, clientKey: CLIENT, event: 'pullrequest:updated' });

describe('PgStore queue across instances', () => {
  let a: PgStore;
  let b: PgStore;
  const opened: PgStore[] = [];
  const open = async (leaseMs?: number, pool = db.pool) => {
    const store = new PgStore({ pool, ...(leaseMs ? { leaseMs } : {}) });
    await store.open();
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    await emptyTables(db.pool);
    a = await open();
    b = await open();
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  });

  it('retries a dead job once when two instances are asked at the same moment', async () => {
    const { jobId } = await a.acceptDelivery(delivery('d-1'), job(1));
    await a.claimJobs(1, new Date());
    await a.updateJob(jobId!, { status: 'dead', lastError: 'gave up' });
    const retry = { runAfter: new Date().toISOString(), lastError: 'retried by admin' };
    const outcomes = await Promise.all([a, b, a, b].map((store) => store.retryDeadJob(jobId!, CLIENT, retry)));
    expect(outcomes.sort()).toEqual(['not_dead', 'not_dead', 'not_dead', 'retried']);
    expect(await b.countQueuedJobs(CLIENT)).toBe(1);
  });

  it('runs one job of a pull request at a time, whichever instance claims', async () => {
    const { jobId: first } = await a.acceptDelivery(delivery('g-1'), job(1, 'pr:1'));
    const { jobId: second } = await b.acceptDelivery(delivery('g-2'), job(2, 'pr:1'));
    const { jobId: other } = await b.acceptDelivery(delivery('g-3'), job(3, 'pr:2'));
    const [fromA, fromB] = await Promise.all([a.claimJobs(10, new Date()), b.claimJobs(10, new Date())]);
    expect([...fromA, ...fromB].map((j) => j.id).sort()).toEqual([first, other].sort());
    expect(await b.claimJobs(10, new Date())).toEqual([]);
    const holder = fromA.some((j) => j.id === first) ? a : b;
    await holder.updateJob(first!, { status: 'done' });
    expect((await b.claimJobs(10, new Date())).map((j) => j.id)).toEqual([second]);
  });

  it('keeps a pull request in acceptance order while another claim holds its oldest job', async () => {
    const { jobId: first } = await a.acceptDelivery(delivery('o-1'), job(1, 'pr:1'));
    const { jobId: second } = await a.acceptDelivery(delivery('o-2'), job(2, 'pr:1'));
    const { jobId: other } = await a.acceptDelivery(delivery('o-3'), job(3, 'pr:2'));
    // Another instance's claim, caught after locking the first job's row: the moment in which
    // a claim beside it used to skip that job and run the second one first.
    const racing = await db.pool.connect();
    try {
      await racing.query('BEGIN');
      await racing.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [first]);
      expect((await b.claimJobs(10, new Date())).map((j) => j.id)).toEqual([other]);
      await racing.query('ROLLBACK');
    } finally {
      racing.release();
    }
    expect((await b.claimJobs(10, new Date())).map((j) => j.id)).toEqual([first]);
    await b.updateJob(first!, { status: 'done' });
    expect((await a.claimJobs(10, new Date())).map((j) => j.id)).toEqual([second]);
  });

  it('hands a job of a dead instance to another once its lease ran out', async () => {
    const { jobId } = await a.acceptDelivery(delivery('l-1'), job(1, 'pr:1'));
    // An instance whose connections are gone: it can neither renew nor finish (a kill -9).
    const deadPool = createPool(db.url);
    const dying = await open(1_000, deadPool);
    expect((await dying.claimJobs(1, new Date())).map((j) => j.id)).toEqual([jobId]);
    await deadPool.end();
    expect(await b.claimJobs(1, new Date())).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_300));
    const taken = await b.claimJobs(1, new Date());
    expect(taken.map((j) => j.id)).toEqual([jobId]);
    expect(taken[0]!.status).toBe('running');
  });

  it('refuses a write from an instance whose lease another took over', async () => {
    const { jobId } = await a.acceptDelivery(delivery('f-1'), job(1));
    await a.claimJobs(1, new Date());
    await a.updateJob(jobId!, { attempts: 1 });
    // As if a stalled a let its lease run out: b takes the job.
    await db.pool.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [jobId]);
    expect((await b.claimJobs(1, new Date())).map((j) => j.id)).toEqual([jobId]);
    await expect(a.updateJob(jobId!, { status: 'done' })).rejects.toBeInstanceOf(LeaseLostError);
    await b.updateJob(jobId!, { status: 'dead', lastError: 'b decided' });
    expect(await a.getJob(jobId!)).toMatchObject({ status: 'dead', lastError: 'b decided', attempts: 1 });
  });

  it('keeps a running job leased while its instance renews, past the lease length', async () => {
    const renewing = await open(1_000);
    const { jobId } = await a.acceptDelivery(delivery('r-1'), job(1));
    await renewing.claimJobs(1, new Date());
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await b.claimJobs(1, new Date())).toEqual([]);
    await renewing.updateJob(jobId!, { status: 'done' });
    expect((await a.getJob(jobId!))!.status).toBe('done');
  });

  it('gives a closing instance its running jobs back to the queue', async () => {
    const { jobId } = await a.acceptDelivery(delivery('c-1'), job(1));
    await a.claimJobs(1, new Date());
    await a.close();
    expect((await b.claimJobs(1, new Date())).map((j) => j.id)).toEqual([jobId]);
  });

  it('wakes a listening instance for a burst of jobs with a few notices sent after their commits, every job found', async () => {
    // b claims on each wake-up only (no poll): a notice sent before a job's commit, or one
    // lost while another was on its way, would leave that job unclaimed here.
    const claimed = new Set<string>();
    let notices = 0;
    let claiming = Promise.resolve();
    const wakeups = new JobWakeups(db.url, () => {
      notices += 1;
      claiming = claiming.then(async () => {
        for (const j of await b.claimJobs(100, new Date())) claimed.add(j.id);
      });
    });
    await wakeups.start();
    try {
      const accepted = await Promise.all(Array.from({ length: 40 }, (_, n) => a.acceptDelivery(delivery(`n-${n}`), job(n))));
      for (let waited = 0; claimed.size < 40 && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      await claiming;
      expect([...claimed].sort()).toEqual(accepted.map((r) => r.jobId).sort());
      // Not one notice per job: each would be a commit serialised behind the database's notify lock.
      expect(notices).toBeGreaterThanOrEqual(1);
      expect(notices).toBeLessThan(40);
    } finally {
      await wakeups.stop();
    }
  });
});
