import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { datacenterInstancesIn } from './datacenter-instance-file.ts';
import { DAY_MS } from './job-index.ts';
import { LowdbStore } from './lowdb-store.ts';
import { createPool } from './postgres/database.ts';
import { withAdvisoryLock } from './postgres/advisory-lock.ts';
import { migrate } from './postgres/migrate.ts';
import { PgResultsStore } from './postgres/pg-results-store.ts';
import { PgStore } from './postgres/pg-store.ts';
import { PgDiagnosticsCounters } from './postgres/pg-diagnostics.ts';
import type { DiagnosticsCounterStore } from '../core/diagnostics/shared.ts';
import type { BudgetOptions, CallBuckets } from '../core/budget.ts';
import { LeasedBuckets } from '../core/budget-leases.ts';
import { PgCallBank } from './postgres/pg-call-bank.ts';
import { JobWakeups } from './postgres/wakeups.ts';
import { JournalResultsStore } from './results-store.ts';
import type { ResultsStore } from './results-types.ts';
import type { DatacenterInstanceRegistry, Store } from './types.ts';

/**
 * The stores the server runs on, chosen by the configuration: PostgreSQL when DATABASE_URL
 * is set (migrated first, under a lock), else the embedded files in DATA_DIR (one process,
 * enforced by the DATA_DIR lock).
 */
export interface OpenStores {
  store: Store;
  results: ResultsStore;
  /**
   * How often an idle worker pool looks for due jobs by itself. With PostgreSQL, other
   * instances' jobs arrive as wake-ups (LISTEN/NOTIFY), so this is only a safety net and
   * the clock for retries whose runAfter comes due.
   */
  pollMs?: number;
  /**
   * Runs `work` unless another instance is running work of the same name (PostgreSQL: an
   * advisory lock; embedded: one process holds DATA_DIR, so it always runs). Undefined when
   * another instance had it.
   */
  runAlone<T>(name: string, work: () => Promise<T>): Promise<{ value: T } | undefined>;
  /** The Health view's counters shared by every instance (PostgreSQL); absent with the embedded store, whose one instance keeps them in DATA_DIR. */
  diagnostics?: DiagnosticsCounterStore;
  /**
   * The installations' call budgets shared by every instance (PostgreSQL: leased from the
   * database, core/budget-leases.ts); absent with the embedded store, whose one process keeps
   * them in memory.
   */
  callBuckets?: (options: BudgetOptions) => CallBuckets;
  /** Calls `wake` whenever any instance queues a job or frees a pull request's next one. */
  listen(wake: () => void): Promise<void>;
  close(): Promise<void>;
}

/** A safety poll, not the way work is found (see OpenStores.pollMs). */
const SHARED_QUEUE_POLL_MS = 2_000;

export async function openStores(config: Config, logger: Logger): Promise<OpenStores> {
  const retentionMs = (config.deliveryRetentionDays ?? 7) * DAY_MS;
  const retention = { deliveryMs: retentionMs, doneJobMs: retentionMs };
  if (config.databaseUrl === undefined) {
    const store = new LowdbStore({ dataDir: config.dataDir, takeOverLockFromOtherHost: config.takeOverLockFromOtherHost, retention });
    await store.open();
    const results = new JournalResultsStore({ dataDir: config.dataDir, supersededScanMs: retentionMs });
    try {
      await results.open();
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    return {
      store,
      results,
      runAlone: async (_name, work) => ({ value: await work() }),
      // One process: every job is queued here, and the webhook intake wakes the pool itself.
      listen: async () => undefined,
      close: async () => {
        await results.close();
        await store.close();
      },
    };
  }

  const databaseUrl = config.databaseUrl;
  await migrate(databaseUrl, { info: (m) => logger.info(m), warn: (m) => logger.warn(m) });
  const pool = createPool(databaseUrl, logger);
  const store = new PgStore({ pool, logger, retention });
  const results = new PgResultsStore({ pool, supersededScanMs: retentionMs });
  let wakeups: JobWakeups | null = null;
  try {
    await store.open();
    await results.open();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    store,
    results,
    pollMs: SHARED_QUEUE_POLL_MS,
    diagnostics: new PgDiagnosticsCounters(pool),
    callBuckets: (options) => new LeasedBuckets(new PgCallBank(pool), options),
    runAlone: (name, work) => withAdvisoryLock(pool, `gatehouse:${name}`, work),
    listen: async (wake) => {
      wakeups = new JobWakeups(databaseUrl, wake, logger);
      await wakeups.start();
    },
    close: async () => {
      await wakeups?.stop();
      await results.close();
      try {
        await store.close();
      } finally {
        await pool.end();
      }
    },
  };
}

/**
 * Only the Data Center instance registry, for the `gatehouse datacenter` command while a
 * server may be running: in DATA_DIR its own document under a short lock of its own (the
 * server holds the DATA_DIR lock), or the database's table, which any process may change.
 * The schema is the server's to migrate; an unmigrated database is refused by open().
 */
export async function openDatacenterInstances(config: Config): Promise<{ instances: DatacenterInstanceRegistry; close(): Promise<void> }> {
  if (config.databaseUrl === undefined) return { instances: datacenterInstancesIn(config.dataDir), close: async () => undefined };
  const pool = createPool(config.databaseUrl, undefined, 1);
  const store = new PgStore({ pool });
  try {
    await store.open();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    instances: store,
    close: async () => {
      try {
        await store.close();
      } finally {
        await pool.end();
      }
    },
  };
}
