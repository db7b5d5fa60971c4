import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { describeDatabase } from './database.ts';

/**
 * Versioned schema migrations (node-pg-migrate, SQL files in migrations/postgres/).
 *
 * Every instance runs them at start-up; `npx gatehouse db migrate` runs them alone. They
 * run under one session advisory lock, so instances starting together migrate once (the
 * others wait, then find nothing to do), and all pending files run in one transaction, so
 * an instance killed half-way leaves the schema as it was (and the lock goes with its
 * connection). A database whose schema has migrations this code does not know (a newer
 * Gatehouse migrated it) is refused: running old code on it could corrupt what the new
 * code wrote.
 */

/** Resolved from this module, so the same in src/ (tsx) and dist/ (compiled). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/postgres/', import.meta.url));
export const MIGRATIONS_TABLE = 'gatehouse_migrations';
/** node-pg-migrate's own lock id, taken around the version check too (session locks nest). */
const LOCK_ID = '7241865325823964';

export class SchemaError extends Error {
  override name = 'SchemaError';
}

/** Migration names this code knows, in order. */
export async function knownMigrations(): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  return files.map((f) => f.slice(0, -'.sql'.length));
}

async function appliedMigrations(db: pg.ClientBase): Promise<string[]> {
  const table = await db.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [MIGRATIONS_TABLE]);
  if (!table.rows[0]?.exists) return [];
  const rows = await db.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`);
  return rows.rows.map((r) => r.name);
}

/** Throws SchemaError when the database holds migrations this code does not know. */
function refuseNewer(applied: readonly string[], known: readonly string[]): void {
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new SchemaError(
      `the database schema is newer than this Gatehouse: it has migration(s) ${unknown.join(', ')}, this version knows up to ${known.at(-1) ?? 'none'}. ` +
        'Run the Gatehouse version that migrated it (or newer), or point DATABASE_URL at another database.',
    );
  }
}

/** Connects one client for a migration or a check, with a message that says where it failed. */
export async function connectClient(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'gatehouse-migrate', connectionTimeoutMillis: 10_000 });
  // Errors after connect (the server going away) surface on the next query; do not crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new SchemaError(`cannot connect to PostgreSQL at ${describeDatabase(databaseUrl)}: ${(err as Error).message}${code ? ` (${code})` : ''}`, { cause: err });
  }
  return client;
}

export interface MigrateLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrate(databaseUrl: string, log: MigrateLog): Promise<string[]> {
  const known = await knownMigrations();
  const client = await connectClient(databaseUrl);
  try {
    await client.query(`SELECT pg_advisory_lock(${LOCK_ID})`);
    try {
      refuseNewer(await appliedMigrations(client), known);
      const ran = await runner({
        dbClient: client,
        dir: MIGRATIONS_DIR,
        migrationsTable: MIGRATIONS_TABLE,
        direction: 'up',
        singleTransaction: true,
        checkOrder: true,
        advisoryLockMode: 'wait',
        logger: { debug: () => undefined, info: () => undefined, warn: (m: string) => log.warn(m), error: (m: string) => log.warn(m) },
      });
      if (ran.length > 0) log.info(`database schema migrated: ${ran.map((m) => m.name).join(', ')}`);
      return ran.map((m) => m.name);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${LOCK_ID})`).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** For a store opening: the schema must be exactly what this code knows. */
export async function checkSchema(db: pg.ClientBase | pg.Pool): Promise<void> {
  const known = await knownMigrations();
  const client = db instanceof pg.Pool ? await db.connect() : db;
  try {
    const applied = await appliedMigrations(client);
    refuseNewer(applied, known);
    const missing = known.filter((name) => !applied.includes(name));
    if (missing.length > 0) throw new SchemaError(`the database schema is not migrated (missing ${missing.join(', ')}): run \`npx gatehouse db migrate\` or start the server, which migrates`);
  } finally {
    if (client !== db) (client as pg.PoolClient).release();
  }
}
