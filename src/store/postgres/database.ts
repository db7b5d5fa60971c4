import pg from 'pg';
import type { Logger } from '../../log.ts';
import { StoreUnavailableError } from '../unavailable.ts';

/**
 * One connection pool per process for everything on PostgreSQL (Store, ResultsStore).
 *
 * When every connection is busy, further queries wait in the pool's queue rather than
 * fail (no connection timeout): under a burst, acknowledgements get slower, none is
 * dropped. A database that is down fails fast instead (connection refused), and that
 * failure becomes a StoreUnavailableError (a 503 to Bitbucket, which retries).
 */

export const DEFAULT_POOL_SIZE = 10;

export function createPool(databaseUrl: string, logger?: Logger, max = DEFAULT_POOL_SIZE): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000, application_name: 'gatehouse' });
  // An idle connection dropped by a database restart is reported here; without a listener
  // the process would crash. The next query opens a new connection.
  pool.on('error', (err) => logger?.warn({ err: { message: err.message } }, 'PostgreSQL connection lost; reconnecting on next use'));
  return pool;
}

/** Network failures and PostgreSQL's "connection exception" / "operator intervention" states. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

export function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  // node-postgres reports a socket closed under a query with these messages and no code.
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(err.message);
}

/** Runs a query, turning a lost database into StoreUnavailableError (other errors pass unchanged). */
export async function query<R extends pg.QueryResultRow>(db: pg.Pool | pg.PoolClient, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(text, values);
  } catch (err) {
    throw unavailableOr(err);
  }
}

export function unavailableOr(err: unknown): unknown {
  if (!isConnectionFailure(err)) return err;
  return new StoreUnavailableError(`the database cannot be reached: ${(err as Error).message}`, { cause: err });
}

/** Where a connection string points, without its password, for messages. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return 'the DATABASE_URL database';
  }
}
