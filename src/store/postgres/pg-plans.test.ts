import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { PRUNE_SUPERSEDED_SCANS } from './pg-results-store.ts';

/**
 * Query plans of the periodic maintenance, on a table big enough for the planner to care:
 * what runs every minute must read an index in order, not sort every row it has.
 */
let db: TestDatabase & { pool: pg.Pool };
beforeAll(async () => {
  db = await createMigratedDatabase();
  // 20,000 scans: 200 pull requests of 50 heads each, and 10 branches of 1,000 pushes.
  await db.pool.query(`
    INSERT INTO scans (client_key, repo_uuid, commit_hash, kind, pr_id, summary, findings)
    SELECT 'tenant', '{repo}', md5(n::text), CASE WHEN n % 2 = 0 THEN 'pull_request' ELSE 'push' END,
           CASE WHEN n % 2 = 0 THEN n % 200 END,
           json_build_object('createdAt', to_char(timestamptz '2026-01-01' + n * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                             'branch', CASE WHEN n % 2 = 1 THEN 'b' || (n % 10) END),
           '[]'::json
    FROM generate_series(1, 20000) n`);
  await db.pool.query('ANALYZE scans');
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

async function plan(sql: string, values: unknown[]): Promise<string> {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, values);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe('PostgreSQL maintenance plans', () => {
  it('ranks scans for pruning by reading scans_prune_order in order, without sorting the table', async () => {
    const text = await plan(PRUNE_SUPERSEDED_SCANS, ['2026-06-01T00:00:00.000Z']);
    expect(text).toMatch(/Index (Only )?Scan using scans_prune_order/);
    expect(text).not.toMatch(/Sort Key: scans\.client_key/);
  });

  it('finds read dead jobs to prune through jobs_dead_read', async () => {
    const text = await plan(`SELECT id FROM jobs WHERE status = 'dead' AND read_at IS NOT NULL AND read_at <= $1 LIMIT 5000`, [new Date()]);
    expect(text).toMatch(/jobs_dead_read/);
  });
});
