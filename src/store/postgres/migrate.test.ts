import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, silentMigrateLog, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { createPool } from './database.ts';
import { knownMigrations, migrate, MIGRATIONS_TABLE, SchemaError } from './migrate.ts';
import { PgStore } from './pg-store.ts';

describe('PostgreSQL migrations', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('instances starting together migrate once; a second run finds nothing to do', async () => {
    db = await createTestDatabase();
    const runs = await Promise.all([1, 2, 3].map(() => migrate(db!.url, silentMigrateLog)));
    const known = await knownMigrations();
    expect(runs.flat().sort()).toEqual([...known].sort());
    expect(await migrate(db.url, silentMigrateLog)).toEqual([]);
    const pool = createPool(db.url);
    try {
      const { rows } = await pool.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
      expect(rows.map((r: { name: string }) => r.name)).toEqual(known);
    } finally {
      await pool.end();
    }
  });

  it('refuses a schema newer than the code, both to migrate and to open', async () => {
    db = await createTestDatabase();
    await migrate(db.url, silentMigrateLog);
    const pool = createPool(db.url);
    try {
      await pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, run_on) VALUES ('9999999999999_from-the-future', now())`);
      await expect(migrate(db.url, silentMigrateLog)).rejects.toThrow(/schema is newer than this Gatehouse: it has migration\(s\) 9999999999999_from-the-future/);
      await expect(new PgStore({ pool }).open()).rejects.toBeInstanceOf(SchemaError);
    } finally {
      await pool.end();
    }
  });

  it('a store refuses to open on a schema that was never migrated', async () => {
    db = await createTestDatabase();
    const pool = createPool(db.url);
    try {
      await expect(new PgStore({ pool }).open()).rejects.toThrow(/not migrated .*gatehouse db migrate/);
    } finally {
      await pool.end();
    }
  });

  it('says where it could not connect, without the password', async () => {
    const error = await migrate('postgres://gatehouse:s3cret-pw@127.0.0.1:1/nowhere', silentMigrateLog).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/nowhere/);
    expect((error as Error).message).not.toContain('s3cret-pw');
  });
});
