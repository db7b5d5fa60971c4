import type { Logger } from '../log.ts';
import type { Job, Store } from '../store/types.ts';
import { BudgetExhaustedError } from './budget.ts';
import { LOOP_PRESSURE_DEFAULTS, loopPressure } from './loop-pressure.ts';

/**
 * The job runner: claims due jobs from the store and runs them on a pool of concurrent
 * slots, retrying failures with exponential backoff and jitter until `maxAttempts`,
 * then leaving the job `dead` with the reason.
 *
 * Crash safety comes from the store and from the handlers: a job is `running` in the store
 * while it runs, and a restart puts it back in the queue, so an accepted job is never lost;
 * handlers publish idempotently, so running a job again publishes nothing twice. The
 * attempt is counted durably before the handler starts, so a job that kills the process
 * every time still ends up dead instead of looping forever.
 *
 * Jobs of one group (one pull request) never run at the same time: a second one is put
 * back for a moment, which keeps publishing for a PR in acceptance order.
 */

/** What a handler reports for a job that needs no retry. */
export interface JobOutcome {
  /** Why the job did nothing (superseded, pull request closed...), for logs and the job record. */
  skipped?: string;
}

export type AttemptOutcome = { ok: true } | { ok: false; error: unknown; final: boolean };

export type JobHandler = (job: Job, log: Logger) => Promise<JobOutcome | void>;

/** A failure no retry can fix (bad payload, 4xx from Bitbucket): the job goes dead at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface WorkerOptions {
  store: Pick<Store, 'claimJobs' | 'updateJob'>;
  handlers: Readonly<Record<string, JobHandler>>;
  logger: Logger;
  concurrency?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often to look for due jobs when idle (a `wake()` shortcuts the wait). */
  pollMs?: number;
  /** Decides whether an error is worth retrying; PermanentJobError never is. */
  isPermanent?: (error: unknown) => boolean;
  /**
   * Failures that are nobody's fault but a missing precondition (no valid credentials until the
   * platform sends new ones): how long to wait before looking again. Such a job is put back
   * without spending an attempt, like one waiting for its call budget.
   */
  waitOf?: (error: unknown) => number | undefined;
  /** How long the failure itself asks to wait (a Retry-After), which the backoff never undercuts. */
  retryAfterOf?: (error: unknown) => number | undefined;
  /**
   * Called when a job goes dead, just before that is recorded: the place to take back what
   * the job announced (an INPROGRESS build status would otherwise spin forever). Its own
   * failure is logged, never retried.
   */
  onDead?: (job: Job, reason: string, log: Logger) => Promise<void>;
  /**
   * Told how each attempt ended (`final`: no retry follows), after it is recorded: the place
   * for what a tenant's jobs together reveal (a code host that refuses its credentials or
   * cannot be reached). Its own failure is logged, never retried.
   */
  onOutcome?: (job: Job, outcome: AttemptOutcome) => Promise<void>;
  /** Called by `start()`: the place to prepare what jobs use (scan threads). */
  onStart?: () => void;
  /**
   * Background work (backfill, history scans, advisory re-publication) that may use every slot
   * but one: however many installations backfill at once, a webhook's scan always finds a free
   * slot instead of queueing behind hours of backfill.
   */
  isBackground?: (job: Job) => boolean;
  /**
   * Whether the event loop is too busy for more job work (default: its utilization over the last
   * 50 ms above one half, see loop-pressure.ts). Jobs share the loop with the webhook route, and
   * a job costs many times an acknowledgement, so while this says yes no job is claimed (running
   * ones finish) and acknowledgements keep their latency; jobs, background ones too, take the slack.
   */
  busy?: () => boolean;
  /** How often `busy()` is asked again while it says yes. */
  busyRecheckMs?: number;
  /**
   * The starvation guard: however busy the loop stays, one job is claimed when no claim was made
   * for this long, so the queue always moves.
   */
  starvationMs?: number;
  now?: () => Date;
  random?: () => number;
}

export const WORKER_DEFAULTS = {
  concurrency: 4,
  maxAttempts: 6,
  baseDelayMs: 2_000,
  maxDelayMs: 5 * 60_000,
  pollMs: 200,
  /** A job whose group is busy waits this long before it is looked at again. */
  groupBusyDelayMs: 200,
  busyRecheckMs: LOOP_PRESSURE_DEFAULTS.windowMs,
  starvationMs: 250,
} as const;

export class WorkerPool {
  readonly #o: Required<WorkerOptions>;
  readonly #running = new Map<string, Promise<void>>();
  readonly #busyGroups = new Set<string>();
  readonly #background = new Set<string>();
  #state: 'idle' | 'running' | 'stopping' = 'idle';
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  /** False while held back by a busy loop: every acknowledgement wakes the pool, to no purpose then. */
  #wakeable = true;
  #wakePending = false;
  /** performance.now() of the last claim, for the starvation guard. */
  #claimedAt = -Infinity;

  constructor(options: WorkerOptions) {
    const concurrency = options.concurrency ?? WORKER_DEFAULTS.concurrency;
    const maxAttempts = options.maxAttempts ?? WORKER_DEFAULTS.maxAttempts;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('worker concurrency must be a whole number >= 1');
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('worker maxAttempts must be a whole number >= 1');
    this.#o = {
      store: options.store,
      handlers: options.handlers,
      logger: options.logger,
      concurrency,
      maxAttempts,
      baseDelayMs: options.baseDelayMs ?? WORKER_DEFAULTS.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? WORKER_DEFAULTS.maxDelayMs,
      pollMs: options.pollMs ?? WORKER_DEFAULTS.pollMs,
      isPermanent: options.isPermanent ?? ((error) => error instanceof PermanentJobError),
      waitOf: options.waitOf ?? (() => undefined),
      retryAfterOf: options.retryAfterOf ?? (() => undefined),
      onDead: options.onDead ?? (async () => {}),
      onOutcome: options.onOutcome ?? (async () => {}),
      onStart: options.onStart ?? (() => {}),
      isBackground: options.isBackground ?? (() => false),
      busy: options.busy ?? loopPressure(),
      busyRecheckMs: options.busyRecheckMs ?? WORKER_DEFAULTS.busyRecheckMs,
      starvationMs: options.starvationMs ?? WORKER_DEFAULTS.starvationMs,
      now: options.now ?? (() => new Date()),
      random: options.random ?? Math.random,
    };
  }

  start(): void {
    if (this.#state !== 'idle') throw new Error('the worker pool is already started');
    this.#state = 'running';
    this.#o.onStart();
    this.#loop = this.#run();
  }

  /**
   * Looks for work soon instead of at the next poll (called after a webhook is accepted): once
   * the current callback is done, so the acknowledgement that queued the job is sent before the
   * claim runs, and a burst of wakes within one turn of the loop makes one claim.
   */
  wake(): void {
    if (this.#wakePending) return;
    this.#wakePending = true;
    setImmediate(() => {
      this.#wakePending = false;
      if (this.#wakeable) this.#wakeUp?.();
    });
  }

  /** Stops claiming, waits for running jobs to finish. Jobs still queued stay queued. */
  async stop(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#wakeUp?.();
    await this.#loop;
    await Promise.allSettled(this.#running.values());
    this.#state = 'idle';
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      const free = this.#o.concurrency - this.#running.size;
      const limit = free > 0 ? this.#claimLimit(free) : 0;
      if (free > 0 && limit === 0) {
        await this.#pause(Math.min(this.#o.busyRecheckMs, this.#claimedAt + this.#o.starvationMs - performance.now()), false);
        continue;
      }
      let claimed: Job[] = [];
      if (limit > 0) {
        this.#claimedAt = performance.now();
        try {
          claimed = await this.#o.store.claimJobs(limit, this.#o.now());
        } catch (error) {
          this.#o.logger.error({ err: error }, 'could not claim jobs; trying again shortly');
        }
      }
      for (const job of claimed) this.#launch(job);
      if (claimed.length === 0 || this.#running.size >= this.#o.concurrency) await this.#pause(this.#o.pollMs, true);
    }
  }

  /** How many of the free slots may be filled now: all when the loop has slack, else the guard's one or none. */
  #claimLimit(free: number): number {
    if (!this.#o.busy()) return free;
    return performance.now() - this.#claimedAt >= this.#o.starvationMs ? 1 : 0;
  }

  #launch(job: Job): void {
    if (job.group !== undefined && this.#busyGroups.has(job.group)) {
      this.#putBack(job, 'a job whose pull request is busy');
      return;
    }
    const background = this.#o.isBackground(job);
    if (background && this.#o.concurrency > 1 && this.#background.size >= this.#o.concurrency - 1) {
      this.#putBack(job, 'background work while the slot kept for webhooks would be taken');
      return;
    }
    if (job.group !== undefined) this.#busyGroups.add(job.group);
    if (background) this.#background.add(job.id);
    const work = this.#execute(job).finally(() => {
      if (job.group !== undefined) this.#busyGroups.delete(job.group);
      this.#background.delete(job.id);
    });
    this.#track(job.id, work);
  }

  /** Back in the queue, unchanged but for a short delay: claimed now, it could not start. */
  #putBack(job: Job, what: string): void {
    const later = new Date(this.#o.now().getTime() + WORKER_DEFAULTS.groupBusyDelayMs).toISOString();
    const put = this.#o.store.updateJob(job.id, { status: 'queued', runAfter: later }).catch((error: unknown) => {
      this.#o.logger.error({ err: error, jobId: job.id }, `could not put back ${what}`);
    });
    this.#track(job.id, put);
  }

  #track(id: string, work: Promise<void>): void {
    this.#running.set(id, work);
    void work.finally(() => {
      this.#running.delete(id);
      this.wake();
    });
  }

  async #execute(job: Job): Promise<void> {
    const log = this.#o.logger.child({ jobId: job.id, jobType: job.type, clientKey: job.clientKey });
    const attempts = job.attempts + 1;
    try {
      await this.#o.store.updateJob(job.id, { attempts });
      const handler = this.#o.handlers[job.type];
      if (!handler) throw new PermanentJobError(`no handler for job type ${JSON.stringify(job.type)}`);
      const outcome = await handler({ ...job, attempts }, log);
      await this.#o.store.updateJob(job.id, { status: 'done', ...(outcome?.skipped ? { lastError: `skipped: ${outcome.skipped}` } : {}) });
      log.info({ attempts, skipped: outcome?.skipped }, outcome?.skipped ? 'job skipped' : 'job done');
      await this.#report({ ...job, attempts }, { ok: true }, log);
    } catch (error) {
      const final = await this.#fail(job, attempts, error, log).catch((storeError: unknown) => {
        // The job stays `running` in the store; the next start puts it back in the queue.
        log.error({ err: storeError }, 'could not record a job failure');
        return false;
      });
      await this.#report({ ...job, attempts }, { ok: false, error, final }, log);
    }
  }

  async #report(job: Job, outcome: AttemptOutcome, log: Logger): Promise<void> {
    await this.#o.onOutcome(job, outcome).catch((hookError: unknown) => log.warn({ err: hookError }, 'could not report a job outcome'));
  }

  /** Records the failure; true when the job is dead (no retry follows). */
  async #fail(job: Job, attempts: number, error: unknown, log: Logger): Promise<boolean> {
    const reason = describe(error);
    const now = this.#o.now().getTime();
    if (error instanceof BudgetExhaustedError) {
      // Not the job's fault: wait for the budget without spending an attempt.
      await this.#o.store.updateJob(job.id, { status: 'queued', attempts: attempts - 1, runAfter: new Date(now + error.retryAfterMs).toISOString(), lastError: reason });
      log.warn({ retryAfterMs: error.retryAfterMs }, 'call budget spent; job postponed');
      return false;
    }
    const waitMs = this.#o.waitOf(error);
    if (waitMs !== undefined) {
      await this.#o.store.updateJob(job.id, { status: 'queued', attempts: attempts - 1, runAfter: new Date(now + waitMs).toISOString(), lastError: reason });
      // Debug only: whoever records the tenant's condition says it once (a Data Center instance's
      // token_revoked status, a Forge installation's token notice); a line per waiting job every
      // few minutes would bury that one line.
      log.debug({ waitMs, reason }, 'job waits: it cannot run yet');
      return false;
    }
    if (this.#o.isPermanent(error) || attempts >= this.#o.maxAttempts) {
      const why = this.#o.isPermanent(error) ? reason : `gave up after ${attempts} attempts: ${reason}`;
      // The hook runs first: a crash in between reruns the job, which dies again and calls
      // the (idempotent) hook again, rather than leaving a dead job whose hook never ran.
      await this.#o.onDead({ ...job, attempts }, why, log).catch((hookError: unknown) => log.warn({ err: hookError }, 'could not settle a dead job'));
      await this.#o.store.updateJob(job.id, { status: 'dead', lastError: why });
      log.error({ err: error, attempts }, 'job dead');
      return true;
    }
    const delay = Math.max(backoffMs(attempts, this.#o.baseDelayMs, this.#o.maxDelayMs, this.#o.random), this.#o.retryAfterOf(error) ?? 0);
    await this.#o.store.updateJob(job.id, { status: 'queued', runAfter: new Date(now + delay).toISOString(), lastError: reason });
    log.warn({ err: error, attempts, retryInMs: delay }, 'job failed; will retry');
    return false;
  }

  /** Waits `ms`, or less if `wakeable` and wake() is called; stop() always ends the wait. */
  #pause(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = null;
        this.#wakeable = true;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#wakeUp = done;
      this.#wakeable = wakeable;
    });
  }
}

/** Exponential backoff with equal jitter: uniform in [c/2, c] where c = min(max, base * 2^(attempt-1)). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 1_000);
}
