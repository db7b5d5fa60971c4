import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../src/store/postgres/database.ts';
import { migrate } from '../../src/store/postgres/migrate.ts';

/**
 * A fresh, uniquely named PostgreSQL database per test file, created from a base URL and
 * dropped afterwards, so suites never share a schema (with each other or with other
 * helpers on the same server). GATEHOUSE_TEST_DATABASE_URL overrides the base.
 *
 * An unreachable server fails the suite with what to do: CI must not pass by skipping the
 * PostgreSQL half of the contract.
 */

export const TEST_DATABASE_BASE_URL = process.env.GATEHOUSE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (closing whatever is still connected to it). */
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_BASE_URL, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `The PostgreSQL tests need a server at ${TEST_DATABASE_BASE_URL} (${(err as Error).message}). ` +
        'Start it (.ci/run does: pg_ctlcluster --skip-systemctl-redirect <version> main start) or set GATEHOUSE_TEST_DATABASE_URL.',
      { cause: err },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `prefix` names who created it (a bench's databases are told apart from the tests'). */
export async function createTestDatabase(prefix = 'gatehouse_test_'): Promise<TestDatabase> {
  const name = `${prefix}${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_DATABASE_BASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export const silentMigrateLog = { info: () => undefined, warn: () => undefined };

/** A migrated test database and a pool on it. */
export async function createMigratedDatabase(): Promise<TestDatabase & { pool: pg.Pool }> {
  const db = await createTestDatabase();
  await migrate(db.url, silentMigrateLog);
  const pool = createPool(db.url);
  return {
    ...db,
    pool,
    drop: async () => {
      await pool.end().catch(() => undefined);
      await db.drop();
    },
  };
}

/** Empties every Gatehouse table (identities restart), for a fresh store within one database. */
export async function emptyTables(pool: pg.Pool): Promise<void> {
  await pool.query(
    'TRUNCATE installations, datacenter_instances, forge_installations, deliveries, jobs, policies, triage_marks, pull_requests, scans, inventories, repositories, repository_coverage, coverage_states, api_tokens, diagnostics_counters, call_budgets RESTART IDENTITY',
  );
}
