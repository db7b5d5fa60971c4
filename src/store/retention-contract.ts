import { describe, expect, it } from 'vitest';
import { DAY_MS, type Retention } from './job-index.ts';
import type { NewJob, Store } from './types.ts';
import { storagePerTest } from './contract-storage.ts';

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
    const at = (days: number) => {
      now = START + days * DAY_MS;
    };
    const reopen = storagePerTest(
      () => {
        now = START;
        return makeStore({ now: () => new Date(now), retention: RETENTION });
      },
      (opened) => (store = opened),
    );

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

    it('keeps a dead job an operator read for the normal retention from the read, never past 30 days from its death', async () => {
      const { jobId: early } = await store.acceptDelivery(delivery('d-early'), job(1));
      const { jobId: late } = await store.acceptDelivery(delivery('d-late'), job(2));
      const { jobId: unread } = await store.acceptDelivery(delivery('d-unread'), job(3, { clientKey: 'other-client' }));
      await store.claimJobs(3, new Date(now));
      await store.updateJob(early!, { status: 'dead', lastError: 'gave up early' });
      await store.updateJob(unread!, { status: 'dead', lastError: 'nobody looked' });
      at(1);
      await store.updateJob(late!, { status: 'dead', lastError: 'gave up late' });

      at(2);
      const read = await store.readDeadJobs({ limit: 10, clientKey: CLIENT });
      expect(read.map((j) => [j.id, j.lastError, j.readAt])).toEqual([
        [late, 'gave up late', new Date(now).toISOString()],
        [early, 'gave up early', new Date(now).toISOString()],
      ]);
      expect(read[0]).not.toHaveProperty('payload');
      at(3);
      // Read again: the first read stands, so the job does not stay longer for being looked at.
      expect((await store.readDeadJobs({ limit: 1, clientKey: CLIENT })).map((j) => [j.id, j.readAt])).toEqual([[late, new Date(START + 2 * DAY_MS).toISOString()]]);

      at(8.9);
      await reopen();
      expect(await store.getJob(early!)).toMatchObject({ status: 'dead', readAt: new Date(START + 2 * DAY_MS).toISOString() });
      at(9.1);
      expect(await store.getJob(early!)).toBeUndefined();
      expect(await store.getJob(late!)).toBeUndefined();
      await reopen();
      expect(await store.getJob(early!)).toBeUndefined();
      // Not read: the 30 days from its death.
      expect(await store.getJob(unread!)).toMatchObject({ status: 'dead', lastError: 'nobody looked' });
      at(30.1);
      expect(await store.getJob(unread!)).toBeUndefined();
    });

    it('forgets a read when the dead job changes, and caps a late read at 30 days from the death', async () => {
      const { jobId: lateRead } = await store.acceptDelivery(delivery('d-late-read'), job(1));
      const { jobId: retried } = await store.acceptDelivery(delivery('d-retried'), job(2));
      await store.claimJobs(2, new Date(now));
      await store.updateJob(lateRead!, { status: 'dead', lastError: 'read on day 29' });
      at(0.5);
      await store.updateJob(retried!, { status: 'dead', lastError: 'first death' });
      at(1);
      expect((await store.readDeadJobs({ limit: 1 })).map((j) => j.id)).toEqual([retried]);
      // Requeued (by an operator) and dead again on day 2: the read of its first death does not count.
      at(2);
      await store.updateJob(retried!, { status: 'queued', lastError: 'requeued' });
      await store.claimJobs(1, new Date(now));
      await store.updateJob(retried!, { status: 'dead', lastError: 'second death' });
      at(9);
      expect(await store.getJob(retried!)).toMatchObject({ status: 'dead', lastError: 'second death' });
      at(29);
      expect((await store.readDeadJobs({ limit: 10 })).map((j) => j.id)).toEqual([retried, lateRead]);
      at(30.1);
      expect(await store.getJob(lateRead!)).toBeUndefined();
      expect(await store.getJob(retried!)).toMatchObject({ status: 'dead', lastError: 'second death' });
      at(32.1);
      expect(await store.getJob(retried!)).toBeUndefined();
    });

    it('refuses a malformed dead-job read', async () => {
      await expect(store.readDeadJobs({ limit: -1 })).rejects.toThrow(/limit/);
      expect(await store.readDeadJobs({ limit: 0 })).toEqual([]);
    });
  });
}
