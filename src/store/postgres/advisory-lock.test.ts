import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_BASE_URL } from '../../../test/helpers/postgres.ts';
import { withAdvisoryLock } from './advisory-lock.ts';

describe('withAdvisoryLock', () => {
  const pools = [new pg.Pool({ connectionString: TEST_DATABASE_BASE_URL, max: 2 }), new pg.Pool({ connectionString: TEST_DATABASE_BASE_URL, max: 2 })];
  afterAll(async () => Promise.all(pools.map((p) => p.end())));
  const name = `gatehouse-covinv-test-${process.pid}-${Date.now()}`;

  it('runs the work of one instance at a time and frees the lock afterwards, even when the work fails', async () => {
    let inner: unknown = 'not run';
    const outer = await withAdvisoryLock(pools[0]!, name, async () => {
      inner = await withAdvisoryLock(pools[1]!, name, async () => 'ran twice');
      return 'first';
    });
    expect(outer).toEqual({ value: 'first' });
    expect(inner).toBeUndefined();
    await expect(withAdvisoryLock(pools[1]!, name, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withAdvisoryLock(pools[0]!, name, async () => 'again')).toEqual({ value: 'again' });
  });
});
