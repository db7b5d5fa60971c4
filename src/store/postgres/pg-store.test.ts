import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createMigratedDatabase, emptyTables, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { storeContract } from '../contract.ts';
import { coverageStoreContract } from '../coverage-contract.ts';
import { resultsStoreContract, type ResultsStoreFactory } from '../results-contract.ts';
import { resultsRetentionContract } from '../results-retention-contract.ts';
import { retentionContract } from '../retention-contract.ts';
import type { Retention } from '../job-index.ts';
import { PgResultsStore } from './pg-results-store.ts';
import { PgStore } from './pg-store.ts';

let db: TestDatabase & { pool: pg.Pool };
beforeAll(async () => {
  db = await createMigratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function storeFactory(options: { now?: () => Date; retention?: Retention } = {}) {
  await emptyTables(db.pool);
  const open = async () => {
    const store = new PgStore({ pool: db.pool, ...options });
    await store.open();
    return store;
  };
  let current = await open();
  return {
    store: current as PgStore,
    reopen: async () => (current = await open()),
    cleanup: () => current.close(),
  };
}

storeContract('PgStore', () => storeFactory());
retentionContract('PgStore', (options) => storeFactory(options));

const pgResults: ResultsStoreFactory = async () => {
  await emptyTables(db.pool);
  const open = async () => {
    const store = new PgResultsStore({ pool: db.pool });
    await store.open();
    return store;
  };
  let current = await open();
  return { store: current, reopen: async () => (current = await open()), cleanup: () => current.close() };
};
resultsStoreContract('PgResultsStore', pgResults);
coverageStoreContract('PgResultsStore', pgResults);

resultsRetentionContract('PgResultsStore', async ({ now, supersededScanMs }) => {
  await emptyTables(db.pool);
  const open = async () => {
    const store = new PgResultsStore({ pool: db.pool, now, supersededScanMs });
    await store.open();
    return store;
  };
  let current = await open();
  return { store: current, reopen: async () => (current = await open()), cleanup: () => current.close() };
});
