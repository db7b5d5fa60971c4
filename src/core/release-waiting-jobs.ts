import type { Store } from '../store/types.ts';

/**
 * A tenant's jobs that wait for credentials run now rather than at the end of their wait, because
 * new credentials were registered. A waiting job is a queued one whose `runAfter` is ahead and
 * whose `lastError` says what it waits for (the worker's waitOf put it back so: src/core/worker.ts).
 * Only asked when credentials change, which is rare, and the tenant's queued jobs are bounded by
 * its queue limit. Returns how many were released.
 */
export async function releaseWaitingJobs(store: Pick<Store, 'listJobs' | 'updateJob'>, clientKey: string, now: Date, waitsFor: (lastError: string) => boolean): Promise<number> {
  let released = 0;
  for (const job of await store.listJobs({ clientKey, status: 'queued' })) {
    if (Date.parse(job.runAfter) <= now.getTime() || !job.lastError || !waitsFor(job.lastError)) continue;
    await store.updateJob(job.id, { runAfter: now.toISOString() });
    released++;
  }
  return released;
}
