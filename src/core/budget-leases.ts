import { BudgetExhaustedError, checkBudgetOptions, type BudgetOptions, type CallBuckets } from './budget.ts';

/**
 * One call budget per installation across every instance on one PostgreSQL database, without
 * a database round trip per call: an instance leases a small block of calls from the
 * installation's shared bucket (LeaseBank, one atomic statement) and spends them from memory.
 *
 * Leased calls are spent within LEASE_MS or lapse; they are never given back. Lapsing is the
 * safe side: a call leaves the shared bucket when it is leased, so a lapsed call is one the
 * installation could have made and did not (fewer calls than its budget, never more), and
 * no crash, kill or lost connection can leave calls counted twice. The lifetime bounds how
 * late a leased call may be spent after the bucket counted it: in any window an installation
 * spends at most burst + rate x (window + LEASE_MS), with the default 3,600 per hour 5 calls
 * more than one strict bucket, however many instances share it.
 *
 * A lease grows while its calls are used up (1, 2, 4, 8, then LEASE_MAX) and shrinks to what
 * was spent of one that lapsed, so an instance making a call now and then strands little.
 * The bank leases at most a tenth of what the bucket holds above the reserve, so instances
 * sharing a nearly spent bucket take a call at a time instead of stranding the last calls in
 * each other's leases.
 *
 * Background work (CallBudget.background) leases apart from webhook work, passing its reserve:
 * the bank never leases it a call that would leave the shared bucket below the reserve, so
 * the reserve holds across instances, and webhook calls leased into the reserve are never
 * spent by background work.
 */

/** Most calls one lease takes. */
export const LEASE_MAX = 10;
/** How long leased calls may be spent before they lapse. */
export const LEASE_MS = 5_000;

export interface LeaseRequest {
  clientKey: string;
  /** Calls wanted; fewer are granted when the bucket is low. */
  want: number;
  /** Calls the lease must leave in the bucket (background work's reserve; 0 for webhook work). */
  reserve: number;
  burst: number;
  perHour: number;
  /** The time of the lease on an injected clock (tests); absent, the bank's own clock. */
  at?: number;
}

export interface Lease {
  granted: number;
  /** Calls left in the shared bucket after the lease (refilled to its time). */
  left: number;
}

/** The installations' shared buckets (PgCallBank): refills, then leases, in one atomic step. */
export interface LeaseBank {
  lease(request: LeaseRequest): Promise<Lease>;
}

interface Pool {
  /** Leased calls not yet spent. */
  calls: number;
  /** Calls the current lease granted, and when (this process's clock). */
  leased: number;
  at: number;
  /** Calls the next lease asks for. */
  next: number;
  /** The lease in flight: concurrent takes wait for it instead of leasing again. */
  pending: Promise<Lease> | undefined;
}

export class LeasedBuckets implements CallBuckets {
  readonly burst: number;
  readonly perHour: number;
  readonly #bank: LeaseBank;
  readonly #perMs: number;
  readonly #now: () => number;
  readonly #injectedClock: boolean;
  /** Per clientKey, one pool per reserve (webhook work's 0, background work's). */
  readonly #pools = new Map<string, Map<number, Pool>>();
  /** Per clientKey, the shared bucket as the last lease found it. */
  readonly #seen = new Map<string, { left: number; at: number }>();

  constructor(bank: LeaseBank, options: BudgetOptions) {
    checkBudgetOptions(options);
    this.#bank = bank;
    this.burst = options.burst;
    this.perHour = options.perHour;
    this.#perMs = options.perHour / 3_600_000;
    this.#now = options.now ?? Date.now;
    this.#injectedClock = options.now !== undefined;
  }

  take(clientKey: string, reserve: number): void | Promise<void> {
    const pool = this.#pool(clientKey, reserve);
    if (this.#spend(pool)) return;
    return this.#takeLeased(clientKey, reserve, pool);
  }

  /**
   * The shared bucket as this instance's last lease found it, refilled since, plus the calls
   * it holds leased. It lags by what other instances spent since that lease: while this
   * instance makes calls, at most LEASE_MAX of its own calls (it leases again at least that
   * often) or LEASE_MS; for an installation it has not called, the full burst.
   */
  remaining(clientKey: string): number {
    const seen = this.#seen.get(clientKey);
    if (!seen) return this.burst;
    const now = this.#now();
    let held = 0;
    for (const pool of this.#pools.get(clientKey)?.values() ?? []) if (now - pool.at < LEASE_MS) held += pool.calls;
    const shared = Math.min(this.burst, seen.left + (now - seen.at) * this.#perMs);
    return Math.floor(Math.min(this.burst, shared + held));
  }

  async #takeLeased(clientKey: string, reserve: number, pool: Pool): Promise<void> {
    for (;;) {
      pool.pending ??= this.#lease(clientKey, reserve, pool).finally(() => {
        pool.pending = undefined;
      });
      const { granted, left } = await pool.pending;
      if (this.#spend(pool)) return;
      // Granted calls others waiting on the same lease took first: lease again.
      if (granted > 0) continue;
      throw new BudgetExhaustedError(clientKey, Math.max(1, Math.ceil((1 + reserve - left) / this.#perMs)));
    }
  }

  async #lease(clientKey: string, reserve: number, pool: Pool): Promise<Lease> {
    const request: LeaseRequest = { clientKey, want: pool.next, reserve, burst: this.burst, perHour: this.perHour };
    if (this.#injectedClock) request.at = this.#now();
    const lease = await this.#bank.lease(request);
    const now = this.#now();
    Object.assign(pool, { calls: lease.granted, leased: lease.granted, at: now });
    this.#seen.set(clientKey, { left: lease.left, at: now });
    return lease;
  }

  /** Spends one leased call when the pool holds one still valid. */
  #spend(pool: Pool): boolean {
    if (pool.calls === 0) return false;
    if (this.#now() - pool.at >= LEASE_MS) {
      pool.next = Math.max(1, pool.leased - pool.calls);
      pool.calls = 0;
      return false;
    }
    pool.calls -= 1;
    if (pool.calls === 0) pool.next = Math.min(LEASE_MAX, pool.leased * 2);
    return true;
  }

  #pool(clientKey: string, reserve: number): Pool {
    let pools = this.#pools.get(clientKey);
    if (!pools) this.#pools.set(clientKey, (pools = new Map()));
    let pool = pools.get(reserve);
    if (!pool) pools.set(reserve, (pool = { calls: 0, leased: 0, at: 0, next: 1, pending: undefined }));
    return pool;
  }
}
