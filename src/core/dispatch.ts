import type { Store } from '../store/types.ts';
import { jobGroupOf, jobTypeOf, type DomainEvent, type EventEnvelope, type Tenant } from './events.ts';

export interface DispatchResult {
  /** True when this delivery id was seen before: nothing was enqueued this time. */
  duplicate: boolean;
  /** The job created for the event; null for duplicates and ignored events. */
  jobId: string | null;
}

export interface Dispatcher {
  /** Records the delivery and enqueues the event's job durably, once per delivery id. */
  dispatch(tenant: Tenant, event: DomainEvent): Promise<DispatchResult>;
  /** Records a delivery the app does not act on, so a redelivery is recognised too. */
  ignore(tenant: Tenant, delivery: EventEnvelope): Promise<DispatchResult>;
}

/**
 * The one place where a verified, normalised event becomes work. Front doors call this and
 * answer their platform as soon as it resolves; the job runner picks the job up later.
 * Recording the delivery and enqueueing the job is a single store operation, so a crash in
 * between cannot leave a delivery that was acknowledged but never worked on.
 */
/**
 * The store key of a delivery. The delivery id comes from the sender (X-Request-UUID), so it
 * is only unique per tenant: keyed by id alone, one installation could claim another's id
 * first and have that tenant's real delivery dropped as a "redelivery".
 */
export function deliveryKey(clientKey: string, deliveryId: string): string {
  return `${clientKey}\n${deliveryId}`;
}

export function createDispatcher(store: Store): Dispatcher {
  return {
    async dispatch(tenant, event) {
      const group = jobGroupOf(event);
      return store.acceptDelivery(
        { id: deliveryKey(tenant.clientKey, event.deliveryId), clientKey: tenant.clientKey, event: event.sourceEvent },
        {
          clientKey: tenant.clientKey,
          type: jobTypeOf(event),
          payload: event,
          // An event of a pull request rescans its current head: it covers older queued jobs.
          ...(group === undefined ? {} : { group, supersedes: true }),
        },
      );
    },
    async ignore(tenant, delivery) {
      return store.acceptDelivery({ id: deliveryKey(tenant.clientKey, delivery.deliveryId), clientKey: tenant.clientKey, event: delivery.sourceEvent }, null);
    },
  };
}
