import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { BudgetExhaustedError, CallBudget, WEBHOOK_RESERVE_SHARE, type BudgetOptions } from '../../core/budget.ts';
import { LeasedBuckets } from '../../core/budget-leases.ts';
import { createPool } from './database.ts';
import { PgCallBank } from './pg-call-bank.ts';

/**
 * The shared call budget on PostgreSQL: two budgets, each on its own pool like two instances,
 * lease from one fresh database at once. Together they never make more calls than one
 * bucket allows, whatever the interleaving of their leases on the installation's row.
 */
describe('PgCallBank: one call budget per installation across instances', () => {
  let db: TestDatabase & { pool: pg.Pool };
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    db = await createMigratedDatabase();
  });

  afterAll(async () => {
    for (const pool of pools) await pool.end().catch(() => undefined);
    await db?.drop();
  });

  function instances(options: BudgetOptions): [CallBudget, CallBudget] {
    const make = () => {
      const pool = createPool(db.url);
      pools.push(pool);
      return new CallBudget(new LeasedBuckets(new PgCallBank(pool), options));
    };
    return [make(), make()];
  }

  const ok = (async () => new Response('')) as typeof fetch;

  async function attempt(call: typeof fetch, n: number): Promise<{ made: number; errors: unknown[] }> {
    const settled = await Promise.allSettled(Array.from({ length: n }, () => Promise.resolve().then(() => call('https://api.example/x'))));
    return { made: settled.filter((s) => s.status === 'fulfilled').length, errors: settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : [])) };
  }

  async function tokens(clientKey: string): Promise<number> {
    const { rows } = await db.pool.query<{ tokens: number }>('SELECT tokens FROM call_budgets WHERE client_key = $1', [clientKey]);
    return rows[0]!.tokens;
  }

  it('2 x 1,000 calls attempted at once with a burst of 50: 50 made in all, then refilled by the clock', async () => {
    let now = 1_000_000;
    const [a, b] = instances({ burst: 50, perHour: 3_600, now: () => now });
    const [ra, rb] = await Promise.all([attempt(a.meter('tenant-1', ok), 1_000), attempt(b.meter('tenant-1', ok), 1_000)]);
    expect(ra.made + rb.made).toBe(50);
    expect(ra.made).toBeGreaterThan(0);
    expect(rb.made).toBeGreaterThan(0);
    for (const error of [...ra.errors, ...rb.errors]) expect(error).toBeInstanceOf(BudgetExhaustedError);
    expect(ra.errors[0]).toMatchObject({ retryAfterMs: 1_000 });
    expect(await tokens('tenant-1')).toBe(0);

    // 12 s at one call a second: 12 calls for both together.
    now += 12_000;
    const [ma, mb] = await Promise.all([attempt(a.meter('tenant-1', ok), 100), attempt(b.meter('tenant-1', ok), 100)]);
    expect(ma.made + mb.made).toBe(12);
    // Never past the burst, however long idle.
    now += 3_600_000;
    const [fa, fb] = await Promise.all([attempt(a.meter('tenant-1', ok), 100), attempt(b.meter('tenant-1', ok), 100)]);
    expect(fa.made + fb.made).toBe(50);
  });

  it('background work on both instances leaves the reserve, which webhook work on either then spends', async () => {
    const burst = 40;
    const reserve = burst * WEBHOOK_RESERVE_SHARE;
    const [a, b] = instances({ burst, perHour: 3_600, now: () => 5_000 });
    const [ra, rb] = await Promise.all([attempt(a.background().meter('tenant-2', ok), 200), attempt(b.background().meter('tenant-2', ok), 200)]);
    expect(ra.made + rb.made).toBe(burst - reserve);
    expect(await tokens('tenant-2')).toBe(reserve);
    expect(rb.errors[0]).toMatchObject({ retryAfterMs: 1_000 });
    const [wa, wb] = await Promise.all([attempt(a.meter('tenant-2', ok), 200), attempt(b.meter('tenant-2', ok), 200)]);
    expect(wa.made + wb.made).toBe(reserve);
    // Installations apart: another one's bucket is full.
    await expect(a.background().meter('tenant-3', ok)('https://api.example/y')).resolves.toBeInstanceOf(Response);
  });

  it("on the database's clock without an injected one: a new bucket starts full and refills by itself", async () => {
    // One call every 100 ms.
    const [a, b] = instances({ burst: 5, perHour: 36_000 });
    const started = Date.now();
    const [ra, rb] = await Promise.all([attempt(a.meter('tenant-4', ok), 20), attempt(b.meter('tenant-4', ok), 20)]);
    const elapsed = Date.now() - started;
    expect(ra.made + rb.made).toBeGreaterThanOrEqual(5);
    expect(ra.made + rb.made).toBeLessThanOrEqual(5 + Math.ceil(elapsed / 100));
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(a.meter('tenant-4', ok)('https://api.example/z')).resolves.toBeInstanceOf(Response);
  });
});
