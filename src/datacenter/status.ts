import { BitbucketApiError, BitbucketNetworkError } from '../bitbucket/errors.ts';
import { TenantCredentialsRejectedError } from '../core/code-host.ts';
import { KeyedSerialQueue } from '../core/keyed-queue.ts';
import type { AttemptOutcome } from '../core/worker.ts';
import type { Logger } from '../log.ts';
import type { DatacenterInstanceRegistry, DatacenterInstanceStatus, Job } from '../store/types.ts';
import { instanceIdOf } from './instance.ts';

/**
 * What jobs learn about a Data Center instance, recorded on its status for the operator
 * (`datacenter list`, the operator API): the token was refused, the instance could not be
 * reached, or it answered again. Only a change is written and logged, so a thousand jobs
 * failing on the same revoked token make one log line and one write, not a thousand.
 */
export interface InstanceHealth {
  /** The instance refused its token: every job of it will fail until a new token is registered. */
  tokenRejected(tenantKey: string, message: string): Promise<void>;
  /** A job gave up because the instance could not be reached (its retries are spent). */
  unreachable(tenantKey: string, message: string): Promise<void>;
  /** A job of the instance finished: whatever was wrong is not any more. */
  healthy(tenantKey: string): Promise<void>;
}

export function instanceHealth(deps: { store: Pick<DatacenterInstanceRegistry, 'getDatacenterInstance' | 'setDatacenterInstanceStatus'>; logger: Logger; now: () => Date }): InstanceHealth {
  // One check-and-set at a time per instance: jobs failing together see each other's change.
  const queue = new KeyedSerialQueue();
  async function set(tenantKey: string, status: DatacenterInstanceStatus, message?: string): Promise<void> {
    const instanceId = instanceIdOf(tenantKey);
    if (instanceId === undefined) return;
    await queue.run(instanceId, () => change(tenantKey, instanceId, status, message));
  }
  async function change(tenantKey: string, instanceId: string, status: DatacenterInstanceStatus, message?: string): Promise<void> {
    const instance = await deps.store.getDatacenterInstance(instanceId);
    if (!instance || instance.status === status) return;
    // A revoked token is only cleared by registering a new one (`add`), never by a job that
    // happened to need no call: a stale "ok" would hide why every other job fails.
    if (instance.status === 'token_revoked' && status !== 'token_revoked') return;
    const lastError = message === undefined ? undefined : { message, at: deps.now().toISOString() };
    await deps.store.setDatacenterInstanceStatus(instanceId, status, lastError);
    const log = deps.logger.child({ clientKey: tenantKey, instance: instance.name });
    if (status === 'ok') log.info({ previous: instance.status }, 'Data Center instance reachable again');
    else log.error({ status, reason: message }, status === 'token_revoked' ? 'Data Center instance refused its token; its jobs wait until a new token is registered (gatehouse datacenter add)' : 'Data Center instance unreachable');
  }
  return {
    tokenRejected: (tenantKey, message) => set(tenantKey, 'token_revoked', message),
    unreachable: (tenantKey, message) => set(tenantKey, 'unreachable', message),
    healthy: (tenantKey) => set(tenantKey, 'ok'),
  };
}

/** The instance could not be reached or kept failing on its side (5xx, connection failures, timeouts). */
function isUnreachable(error: unknown): boolean {
  return error instanceof BitbucketNetworkError || (error instanceof BitbucketApiError && error.status >= 500);
}

/**
 * The job runner's outcome hook for Data Center tenants: a refused token is recorded at the
 * first job that meets it (the job itself waits for a new token, as every later one does); an
 * instance is marked unreachable only once a job gave up on it (until then it is retried with
 * backoff, and a blip is not worth an operator's attention); any job that succeeds clears that.
 */
export function recordJobOutcomes(health: InstanceHealth): (job: Job, outcome: AttemptOutcome) => Promise<void> {
  return async (job, outcome) => {
    if (instanceIdOf(job.clientKey) === undefined) return;
    if (outcome.ok) return health.healthy(job.clientKey);
    if (outcome.error instanceof TenantCredentialsRejectedError) return health.tokenRejected(job.clientKey, outcome.error.message);
    if (outcome.final && isUnreachable(outcome.error)) return health.unreachable(job.clientKey, (outcome.error as Error).message);
  };
}

/** The job outcome hook a composition root hands createPipeline. */
export function datacenterJobOutcomes(deps: Parameters<typeof instanceHealth>[0]): (job: Job, outcome: AttemptOutcome) => Promise<void> {
  return recordJobOutcomes(instanceHealth(deps));
}
