import type pg from 'pg';

/**
 * Runs `work` only if no other session holds the named PostgreSQL advisory lock, holding it
 * on one pooled connection meanwhile. A connection that dies frees the lock with it, so a
 * killed instance never leaves the work locked out. Undefined when another session had it.
 */
export async function withAdvisoryLock<T>(pool: pg.Pool, name: string, work: () => Promise<T>): Promise<{ value: T } | undefined> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS got', [name]);
    if (!rows[0]?.got) return undefined;
    try {
      return { value: await work() };
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
