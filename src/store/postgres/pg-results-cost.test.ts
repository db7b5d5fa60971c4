import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, emptyTables, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { storeDataSource } from '../../ui/data-source.ts';
import { PgResultsStore } from './pg-results-store.ts';

/**
 * A pull request's panel read (its record, then its newest scan for the head commit) on
 * PostgreSQL with 10 and with 10,000 other pull requests' scans stored in the same
 * repository: statements sent and `scans` rows read, counted (pg_stat_user_tables, as in
 * pg-cost.test.ts), not timed.
 */

const CLIENT = 'client-panel';
const REPO = '{repo}';
const PR = 1;
const HEAD = 'c'.repeat(40);

let db: TestDatabase & { pool: pg.Pool };
let one: pg.Pool;
let statements = 0;
beforeAll(async () => {
  db = await createMigratedDatabase();
  one = new pg.Pool({ connectionString: db.url, max: 1 });
  const send = one.query.bind(one) as (...args: unknown[]) => unknown;
  one.query = ((...args: unknown[]) => {
    statements += 1;
    return send(...args);
  }) as typeof one.query;
});
afterAll(async () => {
  await one?.end();
  await db?.drop();
});

async function scanRowsRead(): Promise<number> {
  await db.pool.query('SELECT pg_stat_force_next_flush()');
  // The measured connection's counts reach the shared statistics once it is idle; a second
  // flush on it makes sure they did.
  await one.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.pool.query<{ n: string }>("SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n FROM pg_stat_user_tables WHERE relname = 'scans'");
  return Number(rows[0]!.n);
}

const summary = (prId: number, commit: string) => ({
  clientKey: CLIENT, repoUuid: REPO, commit, kind: 'pull_request', prId, result: 'FAILED',
  counts: { critical: 0, high: 1, medium: 0, low: 0, new: 1, existing: 0, triaged: 0 },
  durationMs: 5, skipped: [], notices: [], createdAt: '2026-12-01T10:00:00.000Z',
});

describe('PgResultsStore: a pull request panel read with 10 and 10,000 scans of other pull requests stored', () => {
  it('sends the same statements and reads the same scan rows', { timeout: 120_000 }, async () => {
    const counted: { statements: number; rows: number }[] = [];
    for (const others of [10, 10_000]) {
      await emptyTables(db.pool);
      await db.pool.query(
        `INSERT INTO scans (client_key, repo_uuid, commit_hash, kind, pr_id, summary, findings)
         SELECT $1, $2, lpad(to_hex(n), 40, '0'), 'pull_request', n + 1, json_build_object('prId', n + 1, 'createdAt', '2026-12-01T09:00:00.000Z'), '[]'::json
         FROM generate_series(1, $3::integer) n`,
        [CLIENT, REPO, others],
      );
      await db.pool.query('INSERT INTO scans (client_key, repo_uuid, commit_hash, kind, pr_id, summary, findings) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        CLIENT, REPO, HEAD, 'pull_request', PR, JSON.stringify(summary(PR, HEAD)), '[]',
      ]);
      await db.pool.query('INSERT INTO pull_requests (client_key, repo_uuid, pr_id, doc) VALUES ($1, $2, $3, $4)', [CLIENT, REPO, PR, JSON.stringify({ clientKey: CLIENT, repoUuid: REPO, prId: PR, publishedCommit: HEAD })]);
      await db.pool.query('ANALYZE scans');

      const results = new PgResultsStore({ pool: one });
      await results.open();
      const source = storeDataSource(results, { countUnfinishedJobs: async () => 0 });
      try {
        // The first read of a store runs its periodic prune (once a minute, not per read).
        await source.pullRequestScan(CLIENT, REPO, PR, HEAD.slice(0, 12));
        const rowsBefore = await scanRowsRead();
        const sentBefore = statements;
        expect(await source.pullRequest(CLIENT, REPO, PR)).toMatchObject({ publishedCommit: HEAD });
        expect(await source.pullRequestScan(CLIENT, REPO, PR, HEAD.slice(0, 12))).toMatchObject({ commit: HEAD, prId: PR });
        const sent = statements - sentBefore;
        counted.push({ statements: sent, rows: (await scanRowsRead()) - rowsBefore });
      } finally {
        await results.close();
      }
    }
    const [small, large] = counted as [{ statements: number; rows: number }, { statements: number; rows: number }];
    expect(large.statements).toBe(small.statements);
    // The pull request's own scan, found twice (listed, then read in full), whatever else is stored.
    expect(large.rows).toBeLessThanOrEqual(Math.max(small.rows, 2));
  });
});
