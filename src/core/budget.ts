/**
 * A per-installation budget of outbound Bitbucket calls: a token bucket per clientKey.
 * Bitbucket rate-limits each installation; one busy workspace must neither exhaust that
 * limit in a burst nor starve the others. When a bucket is empty the call is not made:
 * `BudgetExhaustedError` tells the job runner when to try the job again. Bitbucket counts an
 * installation's calls whichever instance makes them, so with several instances on one
 * PostgreSQL database they share one bucket per installation (budget-leases.ts); the embedded
 * store's one process keeps its buckets in memory.
 */

import type { CallOutcome } from './diagnostics/recorder.ts';

export interface BudgetOptions {
  /** Calls an installation may make in a burst. */
  burst: number;
  /** Sustained calls per hour. */
  perHour: number;
  /** Tests' clock; with shared buckets, the buckets' clock too (else the database's). */
  now?: () => number;
}

export const DEFAULT_BUDGET: BudgetOptions = { burst: 600, perHour: 3_600 };

/**
 * The share of an installation's burst that background work (discovery, backfill, history
 * scans) leaves untouched: a backfill running flat out still leaves this many calls for the
 * push and pull-request scans that developers wait for.
 */
export const WEBHOOK_RESERVE_SHARE = 0.25;

/** Something that meters a fetch against an installation's calls (a CallBudget, or its background view). */
export interface CallMeter {
  meter(clientKey: string, fetchImpl: typeof fetch): typeof fetch;
}

export class BudgetExhaustedError extends Error {
  override name = 'BudgetExhaustedError';
  constructor(
    readonly clientKey: string,
    readonly retryAfterMs: number,
  ) {
    super(`outbound call budget of installation ${clientKey} is spent; next call possible in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** Told how each metered call ended (see CallBudget.observe). */
export type CallObserver = (clientKey: string, outcome: CallOutcome) => void;

/**
 * Where an installation's calls are taken from: this process's buckets (LocalBuckets, the
 * embedded store's one process), or the one bucket per installation that every instance on
 * a PostgreSQL database shares (LeasedBuckets, budget-leases.ts).
 */
export interface CallBuckets {
  readonly burst: number;
  readonly perHour: number;
  /**
   * Takes one call from the installation's bucket, or throws BudgetExhaustedError. With a
   * `reserve`, refuses when the call would leave fewer than that many in the bucket.
   * Synchronous when it can answer from memory; a promise when it must wait (for a lease).
   */
  take(clientKey: string, reserve: number): void | Promise<void>;
  /** Calls left in the installation's bucket, as far as this process knows. */
  remaining(clientKey: string): number;
}

/** Rejects options no bucket can work with. */
export function checkBudgetOptions(options: BudgetOptions): void {
  if (!(options.burst >= 1) || !(options.perHour > 0)) throw new RangeError('a call budget needs burst >= 1 and perHour > 0');
}

/** A token bucket per clientKey in this process's memory. */
export class LocalBuckets implements CallBuckets {
  readonly burst: number;
  readonly perHour: number;
  readonly #perMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: BudgetOptions = DEFAULT_BUDGET) {
    checkBudgetOptions(options);
    this.burst = options.burst;
    this.perHour = options.perHour;
    this.#perMs = options.perHour / 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  take(clientKey: string, reserve: number): void {
    const now = this.#now();
    const bucket = this.#buckets.get(clientKey) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(clientKey, bucket);
    if (bucket.tokens < 1 + reserve) throw new BudgetExhaustedError(clientKey, Math.ceil((1 + reserve - bucket.tokens) / this.#perMs));
    bucket.tokens -= 1;
  }

  remaining(clientKey: string): number {
    const bucket = this.#buckets.get(clientKey);
    if (!bucket) return this.burst;
    return Math.floor(Math.min(this.burst, bucket.tokens + (this.#now() - bucket.at) * this.#perMs));
  }
}

/**
 * Meters Bitbucket calls against an installation's buckets: in this process by default, or
 * the shared ones it is given (PostgreSQL mode, see createPipeline).
 */
export class CallBudget {
  readonly #observers: CallObserver[] = [];
  readonly #buckets: CallBuckets;

  constructor(buckets: BudgetOptions | CallBuckets = DEFAULT_BUDGET) {
    this.#buckets = 'take' in buckets ? buckets : new LocalBuckets(buckets);
  }

  /**
   * Takes one call from the installation's bucket, or throws BudgetExhaustedError (or, when
   * the take had to wait for a shared lease, rejects with it). With a `reserve`, refuses when
   * the call would leave fewer than that many in the bucket.
   */
  take(clientKey: string, reserve = 0): void | Promise<void> {
    return this.#buckets.take(clientKey, reserve);
  }

  /** Calls left; with shared buckets, as of this instance's last lease (see LeasedBuckets.remaining). */
  remaining(clientKey: string): number {
    return this.#buckets.remaining(clientKey);
  }

  /** How long until the installation's bucket holds `tokens` calls (0 when it does now); at most a full refill of the burst. */
  msUntil(clientKey: string, tokens: number): number {
    const missing = Math.min(tokens, this.burst) - this.remaining(clientKey);
    return missing <= 0 ? 0 : Math.ceil(missing / (this.#buckets.perHour / 3_600_000));
  }

  get burst(): number {
    return this.#buckets.burst;
  }

  /**
   * Every metered call's outcome is told to these (diagnostics): this is the one place all
   * of an installation's Bitbucket calls pass, whichever client makes them.
   */
  observe(observer: CallObserver): void {
    this.#observers.push(observer);
  }

  /** A fetch that spends from `clientKey`'s bucket before every request, retries included. */
  meter(clientKey: string, fetchImpl: typeof fetch, reserve = 0): typeof fetch {
    return (input, init) => {
      // From memory a spent budget is thrown here, before any promise; a shared bucket may
      // first wait for a lease and then reject with the same BudgetExhaustedError. The
      // transport passes either to its caller unchanged (it is no network failure), and
      // the job runner postpones the job.
      const taken = this.take(clientKey, reserve);
      if (taken instanceof Promise) return taken.then(() => this.#send(clientKey, fetchImpl, input, init));
      return this.#send(clientKey, fetchImpl, input, init);
    };
  }

  #send(clientKey: string, fetchImpl: typeof fetch, input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): Promise<Response> {
    if (this.#observers.length === 0) return fetchImpl(input, init);
    return this.#observed(clientKey, fetchImpl, input, init);
  }

  async #observed(clientKey: string, fetchImpl: typeof fetch, input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): Promise<Response> {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    try {
      const res = await fetchImpl(input, init);
      this.#tell(clientKey, { method, url, status: res.status, error: null });
      return res;
    } catch (error) {
      this.#tell(clientKey, { method, url, status: null, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      throw error;
    }
  }

  #tell(clientKey: string, outcome: CallOutcome): void {
    for (const observer of this.#observers) {
      try {
        observer(clientKey, outcome);
      } catch {
        // An observer's failure is its own: the call it watched went through.
      }
    }
  }

  /** The same buckets for background work: it stops short of the last WEBHOOK_RESERVE_SHARE of the burst. */
  background(): CallMeter {
    const reserve = Math.floor(this.burst * WEBHOOK_RESERVE_SHARE);
    return { meter: (clientKey, fetchImpl) => this.meter(clientKey, fetchImpl, reserve) };
  }
}
