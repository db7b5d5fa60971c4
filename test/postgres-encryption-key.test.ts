import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE } from '../src/store/postgres/migrate.ts';
import { run } from './fixtures/cli/harness.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';

/**
 * Instances sharing a database must share the key that encrypts tenant secrets: a server in
 * PostgreSQL mode without ENCRYPTION_KEY refuses to start (rather than generating a key of its
 * own that the other instances cannot use), before it migrates or writes anything. The schema
 * migration alone holds no secret and runs without the key.
 */
const ROOT = path.resolve(import.meta.dirname, '..');

async function tableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('ENCRYPTION_KEY in PostgreSQL mode', () => {
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    db = undefined;
    dataDir = undefined;
  });

  it('the server refuses to start without it, naming the variable, with nothing migrated or written', { timeout: 60_000 }, async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-pg-key-'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: db.url };
    const proc = spawn(process.execPath, ['dist/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));

    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ENCRYPTION_KEY: required with DATABASE_URL \(every instance sharing the database/)]);
    expect(stderr).not.toContain(db.url);
    expect(existsSync(path.join(dataDir, 'encryption.key'))).toBe(false);
    expect(await tableCount(db.url)).toBe(0);
  });

  it('db migrate runs without it', { timeout: 60_000 }, async () => {
    db = await createTestDatabase();
    const result = await run(['db', 'migrate'], { cwd: ROOT, env: { DATABASE_URL: db.url } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^applied \d+ migration\(s\)/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT name FROM ${MIGRATIONS_TABLE}`);
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
