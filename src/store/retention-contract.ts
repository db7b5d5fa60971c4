import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS, type Retention } from './job-index.ts';
import type { NewJob, Store } from './types.ts';

/**
 * What every Store keeps and lets go of, with a clock the suite moves (so it would run on a
 * Postgres store too). `makeStore` opens a store over fresh storage reading `clock.now`;
 * `reopen()` opens another over the same storage, after the suite closed the first.
 */
export type RetentionStoreFactory = (opts: { now: () => Date; retention: Retention }) => Promise<{
  store: Store;
  reopen: () => Promise<Store>;
  cleanup: () => Promise<void>;
}>;

const RETENTION: Retention = { deliveryMs: 7 * DAY_MS, doneJobMs: 7 * DAY_MS, deadJobMs: 30 * DAY_MS };
const START = Date.parse('2026-03-01T00:00:00.000Z');
const CLIENT = 'client-retention';

const job = (n: number, overrides: Partial<NewJob> = {}): NewJob => ({ clientKey: CLIENT, type: 'event:push', payload: { n }, ...overrides });
const delivery = (id: string) => ({ id, clientKey: CLIENT, event: 'repo:push' });

export function retentionContract(name: string, makeStore: RetentionStoreFactory): void {
  describe(`Store retention contract: ${name}`, () => {
    let now = START;
    let store: Store;
    let reopenStorage: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    const at = (days: number) => {
      now = START + days * DAY_MS;
    };

    beforeEach(async () => {
      now = START;
      ({ store, reopen: reopenStorage, cleanup } = await makeStore({ now: () => new Date(now), retention: RETENTION }));
    });
    afterEach(async () => {
      await cleanup();
    });

    async function reopen(): Promise<void> {
      await store.close();
      store = await reopenStorage();
    }

    it('remembers a delivery id for the dedupe window, then lets it be accepted again', async () => {
      const first = await store.acceptDelivery(delivery('d-1'), job(1));
      at(6.9);
      expect(await store.acceptDelivery(delivery('d-1'), job(2))).toEqual({ duplicate: true, jobId: first.jobId });
      await reopen();
      expect(await store.acceptDelivery(delivery('d-1'), job(2))).toEqual({ duplicate: true, jobId: first.jobId });
      at(7.01);
      expect(await store.getDelivery('d-1')).toBeUndefined();
      const again = await store.acceptDelivery(delivery('d-1'), job(3));
      expect(again.duplicate).toBe(false);
      expect(again.jobId).not.toBe(first.jobId);
      await reopen();
      expect((await store.getDelivery('d-1'))?.jobId).toBe(again.jobId);
      expect(await store.countDeliveries()).toBe(1);
    });

    it('keeps done jobs for the retention period after they finish, and unfinished jobs however old', async () => {
      const { jobId: done } = await store.acceptDelivery(delivery('d-done'), job(1));
      const { jobId: waiting } = await store.acceptDelivery(delivery('d-wait'), job(2));
      const { jobId: running } = await store.acceptDelivery(delivery('d-run'), job(3));
      await store.updateJob(waiting!, { runAfter: new Date(START + 60 * DAY_MS).toISOString() });
      at(1);
      const claimed = await store.claimJobs(2, new Date(now));
      expect(claimed.map((j) => j.id)).toEqual([done, running]);
      await store.updateJob(done!, { status: 'done' });
      at(7.9);
      expect(await store.getJob(done!)).toMatchObject({ status: 'done', payload: { n: 1 } });
      at(8.01);
      expect(await store.getJob(done!)).toBeUndefined();
      at(40);
      await reopen();
      expect(await store.getJob(done!)).toBeUndefined();
      // Unfinished work is never pruned: the waiting job and the one a crash left running.
      expect(await store.getJob(waiting!)).toMatchObject({ status: 'queued', payload: { n: 2 } });
      expect(await store.getJob(running!)).toMatchObject({ status: 'queued', payload: { n: 3 } });
      expect(await store.countQueuedJobs(CLIENT)).toBe(2);
    });

    it('keeps dead jobs for 30 days, and counts only what is live', async () => {
      const { jobId: dead } = await store.acceptDelivery(delivery('d-dead'), job(1, { group: 'pr:1', supersedes: true }));
      await store.claimJobs(1, new Date(now));
      await store.updateJob(dead!, { status: 'dead', lastError: 'gave up' });
      at(29.9);
      await reopen();
      expect(await store.getJob(dead!)).toMatchObject({ status: 'dead', lastError: 'gave up', payload: { n: 1 } });
      at(30.1);
      expect(await store.getJob(dead!)).toBeUndefined();
      expect(await store.listJobs()).toEqual([]);
      expect(await store.countUnfinishedJobs(CLIENT, 'pr:1')).toBe(0);
      // A later job of the group is not "superseded" by one that is gone.
      const { jobId: later } = await store.acceptDelivery(delivery('d-later'), job(2, { group: 'pr:1' }));
      expect(await store.findSuperseder(later!)).toBeUndefined();
    });
  });
}
