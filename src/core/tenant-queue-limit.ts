import type { Store } from '../store/types.ts';
import { deliveryKey, type Dispatcher } from './dispatch.ts';

/** Queued jobs one installation may have (TENANT_QUEUE_LIMIT); a busy workspace stays far below. */
export const DEFAULT_TENANT_QUEUE_LIMIT = 500;
/** How long a refused sender is asked to wait: about what the pool needs to work through a full queue's head. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 60;
/** A full tenant's queue is counted again at most this often, however fast its deliveries come. */
const RECOUNT_INTERVAL_MS = 1_000;

/** The tenant has too many queued jobs: the delivery was not recorded; the sender may try again later. */
export class TenantQueueFullError extends Error {
  override name = 'TenantQueueFullError';
  readonly retryAfterSeconds = QUEUE_FULL_RETRY_AFTER_SECONDS;
  constructor(
    readonly clientKey: string,
    readonly limit: number,
  ) {
    super(`This installation already has ${limit} jobs waiting; try again later`);
  }
}

interface Estimate {
  /** Queued jobs the store held when last counted. */
  counted: number;
  /** Jobs accepted since (or being accepted now). Jobs finished since are not seen: the estimate only errs high. */
  added: number;
  countedAt: number;
}

/**
 * Caps the queued jobs of each installation, so one tenant (or whoever holds its secret) cannot
 * fill the queue every tenant shares. Counting the store's queue on every delivery would make
 * each acknowledgement wait for the writes before it to be durable, so the count is an estimate that errs high: the
 * last count plus what was accepted since, counted again (at most once a second) only when the
 * estimate says the tenant is full. A redelivery of a recorded delivery always passes: it
 * enqueues nothing.
 */
export function limitQueuedJobs(dispatcher: Dispatcher, store: Pick<Store, 'countQueuedJobs' | 'getDelivery'>, options: { limit: number; now?: () => number }): Dispatcher {
  const { limit } = options;
  const now = options.now ?? Date.now;
  const estimates = new Map<string, Estimate>();

  async function count(clientKey: string): Promise<Estimate> {
    // An indexed count: never the jobs themselves (listing them read up to `limit` payloads back).
    const estimate = { counted: await store.countQueuedJobs(clientKey), added: 0, countedAt: now() };
    estimates.set(clientKey, estimate);
    return estimate;
  }

  return {
    ...dispatcher,
    async dispatch(tenant, event) {
      let estimate = estimates.get(tenant.clientKey) ?? (await count(tenant.clientKey));
      if (estimate.counted + estimate.added >= limit && now() - estimate.countedAt >= RECOUNT_INTERVAL_MS) {
        estimate = await count(tenant.clientKey);
      }
      if (estimate.counted + estimate.added >= limit && !(await store.getDelivery(deliveryKey(tenant.clientKey, event.deliveryId)))) {
        throw new TenantQueueFullError(tenant.clientKey, limit);
      }
      // Reserved before the await, so concurrent deliveries cannot all slip under the limit.
      estimate.added += 1;
      try {
        const result = await dispatcher.dispatch(tenant, event);
        if (result.jobId === null || result.duplicate) estimate.added -= 1;
        return result;
      } catch (error) {
        estimate.added -= 1;
        throw error;
      }
    },
  };
}
