import type pg from 'pg';
import type { Lease, LeaseBank, LeaseRequest } from '../../core/budget-leases.ts';
import { query } from './database.ts';

/**
 * The installations' call buckets in PostgreSQL (table call_budgets), leased from by every
 * instance (core/budget-leases.ts). One UPDATE refills a bucket to the lease's time and takes
 * the lease: concurrent leases of one installation queue on its row, and each is computed
 * from the row as the one before left it, so together they never take more than the bucket
 * holds. Time is the database's clock unless the request brings its own (tests), so
 * instances whose clocks differ refill one bucket alike.
 *
 * A lease is at most what was asked, at most a tenth of what the bucket holds above the
 * reserve (at least one call), and none that would leave less than the reserve.
 */

const LEASE = `
UPDATE call_budgets AS b
SET (tokens, updated_ms, last_lease) = (
  SELECT r.tokens - g.granted, r.at, g.granted
  FROM (
    SELECT LEAST($2::float8, b.tokens + GREATEST(0, n.ms - b.updated_ms) * $3::float8) AS tokens, GREATEST(b.updated_ms, n.ms) AS at
    FROM (SELECT COALESCE($6::float8, extract(epoch FROM clock_timestamp()) * 1000) AS ms) n
  ) r,
  LATERAL (
    SELECT CASE WHEN r.tokens - $5::float8 >= 1 THEN LEAST($4::int, GREATEST(1, floor((r.tokens - $5::float8) / 10)))::int ELSE 0 END AS granted
  ) g
)
WHERE b.client_key = $1
RETURNING b.last_lease AS granted, b.tokens AS left`;

/** A new installation's bucket starts full. */
const CREATE = `
INSERT INTO call_budgets (client_key, tokens, updated_ms, last_lease)
VALUES ($1, $2::float8, COALESCE($3::float8, extract(epoch FROM clock_timestamp()) * 1000), 0)
ON CONFLICT (client_key) DO NOTHING`;

export class PgCallBank implements LeaseBank {
  constructor(private readonly pool: pg.Pool) {}

  async lease(request: LeaseRequest): Promise<Lease> {
    const at = request.at ?? null;
    const values = [request.clientKey, request.burst, request.perHour / 3_600_000, request.want, request.reserve, at];
    let { rows } = await query<{ granted: number; left: number }>(this.pool, LEASE, values);
    if (rows.length === 0) {
      await query(this.pool, CREATE, [request.clientKey, request.burst, at]);
      ({ rows } = await query<{ granted: number; left: number }>(this.pool, LEASE, values));
    }
    const row = rows[0];
    if (!row) throw new Error(`the call budget of installation ${request.clientKey} has no row after it was created`);
    return { granted: row.granted, left: row.left };
  }
}
