import { tokenFingerprintOf } from '../codehost/datacenter/index.ts';
import { releaseWaitingJobs } from '../core/release-waiting-jobs.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { tenantKeyOf } from './instance.ts';

/** How often the registered tokens are compared: a new token is acted on within this. */
export const TOKEN_WATCH_MS = 2_000;

/** What a job waiting for a Data Center token has as its lastError (the worker writes `${error.name}: ${error.message}`). */
const WAITS_FOR_TOKEN = 'TenantCredentialsRejectedError:';

export interface TokenWatchDeps {
  store: Pick<Store, 'listDatacenterInstances' | 'listJobs' | 'updateJob'>;
  logger: Logger;
  now: () => Date;
  /** Jobs were released: the worker should look at the queue now. */
  onReleased: () => void;
  intervalMs?: number;
}

/**
 * Jobs of an instance whose token Data Center refused wait (src/core/pipeline.ts,
 * credentialsWaitMs: five minutes between looks). A new token can be registered from any process
 * (`gatehouse datacenter add` writes the instance registry beside a running server; the operator
 * API; another server on the same database), so this compares the stored tokens every
 * TOKEN_WATCH_MS and, for an instance whose token changed and is not known refused, releases its
 * waiting jobs at once (as a new Forge system token does) and wakes the worker. Each look reads
 * the instance registry only (a stat of its file, or one small query); jobs are read only when a
 * token changed. The first look counts every instance as changed: a token registered while the
 * server was down releases its jobs at start.
 */
export class DatacenterTokenWatch {
  readonly #deps: TokenWatchDeps;
  /** instanceId -> fingerprint of the token last looked at. */
  readonly #seen = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #looking: Promise<void> | undefined;

  constructor(deps: TokenWatchDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.look(), this.#deps.intervalMs ?? TOKEN_WATCH_MS);
    this.#timer.unref();
    void this.look();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#looking;
  }

  /** One comparison (never two at once); a failure is logged and the next look tries again. */
  look(): Promise<void> {
    this.#looking ??= this.#compare()
      .catch((err: unknown) => this.#deps.logger.warn({ err }, 'could not compare Data Center tokens; waiting jobs keep their schedule'))
      .finally(() => {
        this.#looking = undefined;
      });
    return this.#looking;
  }

  async #compare(): Promise<void> {
    const { store, logger, now } = this.#deps;
    const instances = await store.listDatacenterInstances();
    const present = new Set(instances.map((i) => i.instanceId));
    for (const id of [...this.#seen.keys()]) if (!present.has(id)) this.#seen.delete(id);
    let woken = false;
    for (const instance of instances) {
      const fingerprint = tokenFingerprintOf(instance);
      if (this.#seen.get(instance.instanceId) === fingerprint) continue;
      // A refused token stays unseen: its jobs would only meet the refusal again.
      if (instance.status === 'token_revoked') continue;
      const clientKey = tenantKeyOf(instance.instanceId);
      const released = await releaseWaitingJobs(store, clientKey, now(), (lastError) => lastError.startsWith(WAITS_FOR_TOKEN));
      this.#seen.set(instance.instanceId, fingerprint);
      if (released === 0) continue;
      woken = true;
      logger.info({ clientKey, instance: instance.name, released }, 'new Data Center token: jobs that waited for one run now');
    }
    if (woken) this.#deps.onReleased();
  }
}
