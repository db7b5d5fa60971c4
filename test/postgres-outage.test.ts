import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { WorkerPool } from '../src/core/worker.ts';
import { createLogger } from '../src/log.ts';
import { createPool } from '../src/store/postgres/database.ts';
import { PgResultsStore } from '../src/store/postgres/pg-results-store.ts';
import { PgStore } from '../src/store/postgres/pg-store.ts';
import { fakeTokenEndpoint, install, newTenant, postWebhook, readFixture, T0, testConfig, type SignedApp } from './helpers/connect-tenant.ts';
import { createMigratedDatabase, TEST_DATABASE_BASE_URL, type TestDatabase } from './helpers/postgres.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

/**
 * The database lost while the app runs (the connection to PostgreSQL cut under it):
 * webhook acknowledgements answer 503 with Retry-After instead of 202, so Bitbucket
 * delivers again; nothing is half-recorded; once the database is back, the redelivery is
 * accepted and the queued jobs run.
 */
const PR_CREATED = readFixture('pullrequest-created/froggit-go.json');

describe('PostgreSQL lost while running', () => {
  let db: TestDatabase & { pool: pg.Pool };
  let proxy: TcpProxy;
  let pool: pg.Pool;
  let store: PgStore;
  let results: PgResultsStore;
  let t: SignedApp;

  beforeAll(async () => {
    db = await createMigratedDatabase();
    const base = new URL(TEST_DATABASE_BASE_URL);
    proxy = await startTcpProxy({ host: base.hostname, port: Number(base.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    pool = createPool(viaProxy.toString());
    store = new PgStore({ pool });
    await store.open();
    results = new PgResultsStore({ pool });
    await results.open();
    const config = testConfig();
    const clock = { now: T0 };
    const app = createApp({ config, store, results, logger: createLogger('silent'), now: () => clock.now, clientTuning: { maxRetries: 0, fetch: fakeTokenEndpoint } });
    t = { app, config, clock };
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
  });

  it('answers 503 while the database is away, then accepts the redelivery and runs the jobs', { timeout: 60_000 }, async () => {
    const tenant = newTenant();
    await install(t, tenant);
    const first = await postWebhook(t, tenant, PR_CREATED, { eventKey: 'pullrequest:created', wrap: true });
    expect(first.status).toBe(202);
    const { type } = (await store.getJob(first.body.jobId as string))!;
    // Nothing runs until the outage: the first job waits in the queue through it.

    const ran: string[] = [];
    const worker = new WorkerPool({
      store,
      handlers: { [type]: async (job) => void ran.push(job.id) },
      logger: createLogger('silent'),
      pollMs: 50,
    });

    await proxy.cut();
    const during = await postWebhook(t, tenant, PR_CREATED, { eventKey: 'pullrequest:created', wrap: true, requestUuid: 'redelivered-after-outage' });
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('5');
    expect(during.body).toEqual({ error: { code: 'store_unavailable', message: expect.any(String) } });
    // The worker keeps trying through the outage instead of stopping.
    worker.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toEqual([]);

    await proxy.restore();
    const again = await postWebhook(t, tenant, PR_CREATED, { eventKey: 'pullrequest:created', wrap: true, requestUuid: 'redelivered-after-outage' });
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(false);
    const deadline = Date.now() + 20_000;
    while (!ran.includes(again.body.jobId as string) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await worker.stop();
    // The worker may claim the first job in the moment between the database coming back
    // and the redelivery arriving; otherwise the newer event supersedes it. Either way the
    // redelivered event's job runs exactly once and nothing runs twice.
    if (ran.length === 2) {
      expect(ran).toEqual([first.body.jobId, again.body.jobId]);
      expect(await store.getJob(first.body.jobId as string)).toMatchObject({ status: 'done' });
    } else {
      expect(ran).toEqual([again.body.jobId]);
      expect(await store.getJob(first.body.jobId as string)).toMatchObject({ status: 'done', lastError: `skipped: superseded by job ${again.body.jobId}` });
    }
    expect(await store.countDeliveries()).toBe(2);
  });
});
