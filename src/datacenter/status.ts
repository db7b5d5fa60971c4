import { BitbucketApiError, BitbucketNetworkError } from '../bitbucket/errors.ts';
import { TenantCredentialsRejectedError } from '../core/code-host.ts';
import { tokenFingerprintOf } from '../codehost/datacenter/index.ts';
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
  tokenRejected(tenantKey: string, message: string, credentials?: string): Promise<void>;
  /** A job gave up because the instance could not be reached (its retries are spent). */
  unreachable(tenantKey: string, message: string): Promise<void>;
  /** A job of the instance finished: whatever was wrong is not any more. */
  healthy(tenantKey: string): Promise<void>;
}

export function instanceHealth(deps: { store: Pick<DatacenterInstanceRegistry, 'getDatacenterInstance' | 'setDatacenterInstanceStatus'>; logger: Logger; now: () => Date }): InstanceHealth {
  // One check-and-set at a time per instance: jobs failing together see each other's change.
  const queue = new KeyedSerialQueue();
  // Instances this process saw refuse their token: registering a new token (`add`, perhaps from
  // another process) sets the stored status to ok silently, so the first job that succeeds
  // afterwards is where the operator learns, once, that the waiting jobs run again.
  const refused = new Set<string>();
  async function set(tenantKey: string, status: DatacenterInstanceStatus, message?: string, credentials?: string): Promise<void> {
    const instanceId = instanceIdOf(tenantKey);
    if (instanceId === undefined) return;
    await queue.run(instanceId, () => change(tenantKey, instanceId, status, message, credentials));
  }
  async function change(tenantKey: string, instanceId: string, status: DatacenterInstanceStatus, message?: string, credentials?: string): Promise<void> {
    const instance = await deps.store.getDatacenterInstance(instanceId);
    if (!instance) return;
    // A job that began before an operator registered a new token met the old one's refusal: the new one is untried.
    if (status === 'token_revoked' && credentials !== undefined && credentials !== tokenFingerprintOf(instance)) return;
    const log = deps.logger.child({ clientKey: tenantKey, instance: instance.name });
    if (status === 'token_revoked') refused.add(instanceId);
    if (status === 'ok' && instance.status === 'ok' && refused.delete(instanceId)) {
      log.info('Data Center instance accepted its new token; its waiting jobs run again');
    }
    if (instance.status === status) return;
    // A revoked token is only cleared by registering a new one (`add`), never by a job that
    // happened to need no call: a stale "ok" would hide why every other job fails.
    if (instance.status === 'token_revoked') return;
    const lastError = message === undefined ? undefined : { message, at: deps.now().toISOString() };
    await deps.store.setDatacenterInstanceStatus(instanceId, status, lastError);
    if (status === 'ok') log.info({ previous: instance.status }, 'Data Center instance reachable again');
    else if (status === 'token_revoked') log.warn({ status, reason: message }, 'Data Center instance refused its token; its jobs wait until a new token is registered (gatehouse datacenter add)');
    else log.error({ status, reason: message }, 'Data Center instance unreachable');
  }
  return {
    tokenRejected: (tenantKey, message, credentials) => set(tenantKey, 'token_revoked', message, credentials),
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
    if (outcome.error instanceof TenantCredentialsRejectedError) return health.tokenRejected(job.clientKey, outcome.error.message, outcome.error.credentials);
    if (outcome.final && isUnreachable(outcome.error)) return health.unreachable(job.clientKey, (outcome.error as Error).message);
  };
}

/** The job outcome hook a composition root hands createPipeline. */
export function datacenterJobOutcomes(deps: Parameters<typeof instanceHealth>[0]): (job: Job, outcome: AttemptOutcome) => Promise<void> {
  return recordJobOutcomes(instanceHealth(deps));
}
