import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, emptyTables, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { UNFINISHED_COUNT_CAP, type NewJob } from '../types.ts';
import { PgStore } from './pg-store.ts';

/**
 * PgStore's hot operations with 10 and with 10,000 jobs of one pull request queued, counted
 * by PostgreSQL itself (pg_stat_user_tables for the jobs table: rows read by sequential
 * scans and rows fetched through indexes), not timed. The store gets a pool of one
 * connection, so the statistics flushed after an operation are that operation's.
 */
interface Reads {
  seqRows: number;
  indexRows: number;
}

let db: TestDatabase & { pool: pg.Pool };
let one: pg.Pool;
beforeAll(async () => {
  db = await createMigratedDatabase();
  one = new pg.Pool({ connectionString: db.url, max: 1 });
});
afterAll(async () => {
  await one?.end();
  await db?.drop();
});

async function tableReads(): Promise<Reads> {
  // Sent after the operation on the same connection: its pending counts reach the shared
  // statistics when the backend next goes idle, before the read below.
  await one.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await one.query<{ seq: string; idx: string }>(
    "SELECT coalesce(seq_tup_read, 0) AS seq, coalesce(idx_tup_fetch, 0) AS idx FROM pg_stat_user_tables WHERE relname = 'jobs'",
  );
  return { seqRows: Number(rows[0]!.seq), indexRows: Number(rows[0]!.idx) };
}

async function reads<T>(work: () => Promise<T>): Promise<{ reads: Reads; value: T }> {
  const before = await tableReads();
  const value = await work();
  const after = await tableReads();
  return { value, reads: { seqRows: after.seqRows - before.seqRows, indexRows: after.indexRows - before.indexRows } };
}

const CLIENT = 'client-cost';
const GROUP = 'pr:{repo}:1';
const prJob = (n: number): NewJob => ({ clientKey: CLIENT, type: 'webhook:pullrequest:updated', payload: { n, title: 'x'.repeat(2_000) }, group: GROUP, supersedes: true });

describe('PgStore: hot operations counted with 10 and 10,000 jobs of one pull request queued', () => {
  it('reads a bounded number of job rows per operation, whatever the queue holds', { timeout: 180_000 }, async () => {
    const results: Record<string, Reads>[] = [];
    for (const queued of [10, 10_000]) {
      await emptyTables(db.pool);
      const filler = new PgStore({ pool: db.pool });
      await filler.open();
      const ids: string[] = [];
      for (let start = 0; start < queued; start += 500) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(500, queued - start) }, (_, k) => filler.acceptDelivery({ id: `d-${start + k}`, clientKey: CLIENT, event: 'pullrequest:updated' }, prJob(start + k))),
        );
        ids.push(...batch.map((b) => b.jobId!));
      }
      await filler.close();
      // The planner sees the table as it is, as autovacuum would let it.
      await db.pool.query('ANALYZE jobs');

      // Retention's periodic prune would count towards whatever operation it overlaps.
      const store = new PgStore({ pool: one, pruneEveryMs: 3_600_000 });
      await store.open();
      try {
        const r: Record<string, Reads> = {};
        r.accept = (await reads(() => store.acceptDelivery({ id: 'd-new', clientKey: CLIENT, event: 'pullrequest:updated' }, prJob(-1)))).reads;
        r.duplicate = (await reads(() => store.acceptDelivery({ id: 'd-new', clientKey: CLIENT, event: 'pullrequest:updated' }, prJob(-1)))).reads;
        const found = await reads(() => store.findSuperseder(ids[0]!));
        expect(found.value).toMatchObject({ supersedes: true });
        r.newestOfGroup = found.reads;
        r.countUnfinished = (await reads(() => store.countUnfinishedJobs(CLIENT, GROUP))).reads;
        // Every older job is finished as superseded, a bounded number per claim; the claims
        // until the newest is handed out are counted one by one.
        let claim = await reads(() => store.claimJobs(1, new Date()));
        r.claim = { ...claim.reads };
        while (claim.value.length === 0) {
          claim = await reads(() => store.claimJobs(1, new Date()));
          r.claim.seqRows = Math.max(r.claim.seqRows, claim.reads.seqRows);
          r.claim.indexRows = Math.max(r.claim.indexRows, claim.reads.indexRows);
        }
        expect(claim.value.map((j) => (j.payload as { n: number }).n)).toEqual([-1]);
        r.update = (await reads(() => store.updateJob(claim.value[0]!.id, { status: 'done' }))).reads;
        r.getJob = (await reads(() => store.getJob(claim.value[0]!.id))).reads;
        results.push(r);
      } finally {
        await store.close();
      }
    }
    const [small, large] = results as [Record<string, Reads>, Record<string, Reads>];
    const rows = (r: Reads) => r.seqRows + r.indexRows;
    for (const op of Object.keys(large)) {
      // A claim looks at CLAIM_SCAN (500) queued jobs at most, a few index lookups each;
      // a count stops at UNFINISHED_COUNT_CAP. Everything else reads what a tiny table does
      // (where the planner rightly prefers a sequential scan of its 11 rows).
      const bound = op === 'claim' ? 3_000 : op === 'countUnfinished' ? UNFINISHED_COUNT_CAP + 2 : Math.max(rows(small[op]!), 2);
      expect(rows(large[op]!), op).toBeLessThanOrEqual(bound);
    }
    // No question about one job or one group reads the queue.
    for (const op of ['accept', 'duplicate', 'newestOfGroup', 'update', 'getJob']) expect(rows(large[op]!), op).toBeLessThanOrEqual(2);
  });
});
