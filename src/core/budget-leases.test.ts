import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError, CallBudget, LocalBuckets, WEBHOOK_RESERVE_SHARE, type BudgetOptions, type CallBuckets } from './budget.ts';
import { LEASE_MAX, LEASE_MS, LeasedBuckets, type Lease, type LeaseBank, type LeaseRequest } from './budget-leases.ts';

/**
 * The shared bucket in memory, by the rule of PgCallBank's statement (refill to the lease's
 * time, then at most what was asked, at most a tenth above the reserve, none below it),
 * answering after a tick like a database would.
 */
class MemoryBank implements LeaseBank {
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  readonly requests: LeaseRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failWith: Error | undefined;

  async lease(request: LeaseRequest): Promise<Lease> {
    this.requests.push(request);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight -= 1;
    if (this.failWith) throw this.failWith;
    const at = request.at ?? 0;
    const bucket = this.buckets.get(request.clientKey) ?? { tokens: request.burst, at };
    bucket.tokens = Math.min(request.burst, bucket.tokens + Math.max(0, at - bucket.at) * (request.perHour / 3_600_000));
    bucket.at = Math.max(bucket.at, at);
    const above = bucket.tokens - request.reserve;
    const granted = above >= 1 ? Math.min(request.want, Math.max(1, Math.floor(above / 10))) : 0;
    bucket.tokens -= granted;
    this.buckets.set(request.clientKey, bucket);
    return { granted, left: bucket.tokens };
  }
}

const ok = (async () => new Response('')) as typeof fetch;

/** Attempts `n` calls at once; how many were made, and the errors of the others. */
async function attempt(call: typeof fetch, n: number): Promise<{ made: number; errors: unknown[] }> {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => Promise.resolve().then(() => call('https://api.example/x'))));
  return { made: settled.filter((s) => s.status === 'fulfilled').length, errors: settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : [])) };
}

function instances(bank: LeaseBank, options: BudgetOptions, n = 2): CallBudget[] {
  return Array.from({ length: n }, () => new CallBudget(new LeasedBuckets(bank, options)));
}

describe('LeasedBuckets: one budget per installation across instances', () => {
  it('two instances together make at most the burst, each leasing from the shared bucket', async () => {
    const now = 0;
    const bank = new MemoryBank();
    const [a, b] = instances(bank, { burst: 50, perHour: 3_600, now: () => now });
    const [ra, rb] = await Promise.all([attempt(a!.meter('tenant', ok), 1_000), attempt(b!.meter('tenant', ok), 1_000)]);
    expect(ra.made + rb.made).toBe(50);
    expect(ra.made).toBeGreaterThan(0);
    expect(rb.made).toBeGreaterThan(0);
    for (const error of [...ra.errors, ...rb.errors]) expect(error).toBeInstanceOf(BudgetExhaustedError);
    // One call at 3,600 an hour is a second away.
    expect(ra.errors[0]).toMatchObject({ retryAfterMs: 1_000 });
  });

  it('fails against per-process buckets: the same two instances each make the burst', async () => {
    const [a, b] = [new CallBudget(new LocalBuckets({ burst: 50, perHour: 3_600, now: () => 0 })), new CallBudget(new LocalBuckets({ burst: 50, perHour: 3_600, now: () => 0 }))];
    const made = (await attempt(a.meter('tenant', ok), 1_000)).made + (await attempt(b.meter('tenant', ok), 1_000)).made;
    // What the shared bucket prevents (the test above would fail with 100).
    expect(made).toBe(100);
  });

  it('refills over time, shared: a second at 3,600 an hour is one more call for both instances together', async () => {
    let now = 0;
    const bank = new MemoryBank();
    const [a, b] = instances(bank, { burst: 20, perHour: 3_600, now: () => now });
    await Promise.all([attempt(a!.meter('t', ok), 100), attempt(b!.meter('t', ok), 100)]);
    now += 10_000;
    const [ra, rb] = await Promise.all([attempt(a!.meter('t', ok), 100), attempt(b!.meter('t', ok), 100)]);
    expect(ra.made + rb.made).toBe(10);
  });

  it('leases a few calls at a time, growing to LEASE_MAX: no bank round trip per call', async () => {
    const bank = new MemoryBank();
    const [budget] = instances(bank, { burst: 600, perHour: 3_600, now: () => 0 }, 1);
    const call = budget!.meter('t', ok);
    for (let i = 0; i < 100; i++) await call('https://api.example/x');
    expect(bank.requests.map((r) => r.want).slice(0, 6)).toEqual([1, 2, 4, 8, LEASE_MAX, LEASE_MAX]);
    expect(bank.requests.length).toBe(4 + Math.ceil((100 - 15) / LEASE_MAX));
  });

  it('concurrent takes of one instance wait for the lease in flight instead of leasing at once', async () => {
    const bank = new MemoryBank();
    const [budget] = instances(bank, { burst: 600, perHour: 3_600, now: () => 0 }, 1);
    const { made } = await attempt(budget!.meter('t', ok), 40);
    expect(made).toBe(40);
    expect(bank.maxInFlight).toBe(1);
  });

  it('leased calls lapse after LEASE_MS, unspent and never given back, and the next lease shrinks to what was spent', async () => {
    let now = 0;
    const bank = new MemoryBank();
    const [budget] = instances(bank, { burst: 600, perHour: 1, now: () => now }, 1);
    const call = budget!.meter('t', ok);
    for (let i = 0; i < 1 + 2 + 4 + 1; i++) await call('https://api.example/x');
    // 15 leased (1, 2, 4, 8), 8 spent: 7 held.
    expect(bank.buckets.get('t')!.tokens).toBe(600 - 15);
    now += LEASE_MS;
    await call('https://api.example/x');
    expect(bank.requests.at(-1)?.want).toBe(1);
    // The 7 held calls lapsed: the bucket does not get them back, and they are never spent.
    expect(Math.floor(bank.buckets.get('t')!.tokens)).toBe(600 - 16);
    expect(bank.requests).toHaveLength(5);
  });

  it('background work leases none below the reserve across instances, which webhook work then spends', async () => {
    const bank = new MemoryBank();
    const burst = 100;
    const reserve = burst * WEBHOOK_RESERVE_SHARE;
    const [a, b] = instances(bank, { burst, perHour: 3_600, now: () => 0 });
    const [ra, rb] = await Promise.all([attempt(a!.background().meter('t', ok), 500), attempt(b!.background().meter('t', ok), 500)]);
    expect(ra.made + rb.made).toBe(burst - reserve);
    expect(bank.buckets.get('t')!.tokens).toBe(reserve);
    // The wait is until a call above the reserve is back: a second.
    expect(ra.errors[0]).toMatchObject({ retryAfterMs: 1_000 });
    const [wa, wb] = await Promise.all([attempt(a!.meter('t', ok), 500), attempt(b!.meter('t', ok), 500)]);
    expect(wa.made + wb.made).toBe(reserve);
    // Another installation's background work is not held back.
    await expect(a!.background().meter('other', ok)('https://api.example/z')).resolves.toBeInstanceOf(Response);
  });

  it('webhook calls leased into the reserve are not spent by background work on the same instance', async () => {
    const bank = new MemoryBank();
    const [budget] = instances(bank, { burst: 100, perHour: 3_600, now: () => 0 }, 1);
    // Background work takes everything above the reserve; webhook work leases from the reserve.
    await attempt(budget!.background().meter('t', ok), 500);
    await budget!.meter('t', ok)('https://api.example/x');
    await expect(budget!.background().meter('t', ok)('https://api.example/y')).rejects.toBeInstanceOf(BudgetExhaustedError);
  });

  it('a bank that fails rejects the take with its error, and the next take leases again', async () => {
    const bank = new MemoryBank();
    const [budget] = instances(bank, { burst: 10, perHour: 3_600, now: () => 0 }, 1);
    bank.failWith = new Error('database away');
    await expect(budget!.meter('t', ok)('https://api.example/x')).rejects.toThrow('database away');
    bank.failWith = undefined;
    await expect(budget!.meter('t', ok)('https://api.example/x')).resolves.toBeInstanceOf(Response);
  });

  it('remaining() and msUntil() answer from the last lease, refilled since, plus the calls held', async () => {
    let now = 0;
    const bank = new MemoryBank();
    const [a, b] = instances(bank, { burst: 100, perHour: 3_600, now: () => now });
    expect(a!.remaining('t')).toBe(100);
    for (let i = 0; i < 3; i++) await a!.meter('t', ok)('https://api.example/x');
    // Leased 1 then 2 and spent them: 97 in the bank, none held.
    expect(a!.remaining('t')).toBe(97);
    for (let i = 0; i < 30; i++) await b!.meter('t', ok)('https://api.example/x');
    // What b spent since a's last lease is not seen until a leases again (the documented lag).
    expect(a!.remaining('t')).toBe(97);
    await a!.meter('t', ok)('https://api.example/x');
    expect(a!.remaining('t')).toBe(bank.buckets.get('t')!.tokens + 3);
    now += 2_000;
    expect(a!.remaining('t')).toBe(bank.buckets.get('t')!.tokens + 2 + 3);
    expect(a!.msUntil('t', 100)).toBe((100 - a!.remaining('t')) * 1_000);
  });
});

describe('CallBudget on any buckets', () => {
  it('takes synchronously from memory, so the in-memory budget still throws before any promise', () => {
    const budget = new CallBudget({ burst: 1, perHour: 3_600, now: () => 0 });
    const call = budget.meter('t', ok);
    void call('https://api.example/x');
    expect(() => call('https://api.example/x')).toThrow(BudgetExhaustedError);
  });

  it('waits for a lease before the request is sent, and meters it like any call', async () => {
    const sent: string[] = [];
    const buckets: CallBuckets = new LeasedBuckets(new MemoryBank(), { burst: 10, perHour: 3_600, now: () => 0 });
    const budget = new CallBudget(buckets);
    const observed: number[] = [];
    budget.observe((_key, outcome) => observed.push(outcome.status ?? 0));
    const call = budget.meter('t', (async (url: string) => {
      sent.push(url);
      return new Response('', { status: 201 });
    }) as unknown as typeof fetch);
    const pending = call('https://api.example/x');
    expect(sent).toEqual([]);
    await pending;
    expect(sent).toEqual(['https://api.example/x']);
    expect(observed).toEqual([201]);
  });
});
