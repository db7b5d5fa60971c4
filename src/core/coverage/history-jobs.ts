import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/types.ts';

/**
 * The durable jobs of history scans (history.ts runs them): queued on an admin's request, one
 * group per installation so that one clone runs at a time, and read back for the coverage view
 * (which repositories wait or are being read). Kept apart from history.ts so that what shows
 * coverage does not load git and the scan engine.
 */

export const HISTORY_JOB_TYPE = 'coverage:history';
export const historyGroup = (clientKey: string) => `coverage-history:${clientKey}`;

type JobStore = Pick<Store, 'acceptDelivery' | 'listJobs'>;

/** Queues a history scan of the repository unless one is queued or running; false when one was. */
export async function queueHistoryScan(store: JobStore, clientKey: string, repoUuid: string): Promise<boolean> {
  const open = await historyJobs(store, clientKey);
  if (open.some((j) => j.repoUuid === repoUuid)) return false;
  await store.acceptDelivery(
    { id: `gatehouse:coverage:${randomUUID()}`, clientKey, event: 'gatehouse:coverage:history' },
    { clientKey, type: HISTORY_JOB_TYPE, payload: { repoUuid }, group: historyGroup(clientKey) },
  );
  return true;
}

/** History scans asked for and not finished yet, oldest first. */
export async function historyJobs(store: Pick<Store, 'listJobs'>, clientKey: string): Promise<{ repoUuid: string; state: 'queued' | 'running'; since: string }[]> {
  const [queued, running] = await Promise.all(['queued', 'running'].map((status) => store.listJobs({ clientKey, type: HISTORY_JOB_TYPE, status: status as 'queued' | 'running' })));
  return [...(running ?? []), ...(queued ?? [])].flatMap((job) => {
    const repoUuid = (job.payload as { repoUuid?: unknown } | null)?.repoUuid;
    return typeof repoUuid === 'string' ? [{ repoUuid, state: job.status as 'queued' | 'running', since: job.createdAt }] : [];
  });
}
