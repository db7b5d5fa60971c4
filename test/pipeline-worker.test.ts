import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../src/core/budget.ts';
import { backoffMs, PermanentJobError, WorkerPool, type JobHandler } from '../src/core/worker.ts';
import { createLogger } from '../src/log.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import type { Job } from '../src/store/types.ts';

const logger = createLogger('silent');

describe('WorkerPool', () => {
  let dir: string;
  let store: LowdbStore;
  let pool: WorkerPool | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-worker-'));
    store = new LowdbStore({ dataDir: dir });
    await store.open();
  });
  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function enqueue(n: number, group?: (i: number) => string | undefined): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const g = group?.(i);
      const { jobId } = await store.acceptDelivery({ id: `d-${i}-${Math.random()}`, clientKey: 'c1', event: 'test' }, { clientKey: 'c1', type: 't', payload: { i }, ...(g ? { group: g } : {}) });
      ids.push(jobId!);
    }
    return ids;
  }

  async function settled(): Promise<Job[]> {
    for (let k = 0; k < 500; k++) {
      const jobs = await store.listJobs();
      if (jobs.every((j) => j.status === 'done' || j.status === 'dead')) return jobs;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('jobs did not settle');
  }

  function run(handler: JobHandler, opts: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}): void {
    pool = new WorkerPool({ store, handlers: { t: handler }, logger, pollMs: 5, baseDelayMs: 5, maxDelayMs: 50, ...opts });
    pool.start();
  }

  it('keeps one slot for webhook work however much background work is queued', async () => {
    for (let i = 0; i < 5; i++) await store.acceptDelivery({ id: `bg-${i}`, clientKey: 'c1', event: 'backfill' }, { clientKey: 'c1', type: 'bg', payload: { i } });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    let most = 0;
    const webhookRan: number[] = [];
    const bg: JobHandler = async () => {
      most = Math.max(most, ++running);
      await held;
      running--;
    };
    pool = new WorkerPool({ store, handlers: { bg, t: async () => void webhookRan.push(running) }, logger, pollMs: 5, concurrency: 3, isBackground: (job) => job.type === 'bg' });
    pool.start();
    for (let k = 0; k < 200 && running < 2; k++) await new Promise((r) => setTimeout(r, 5));
    await enqueue(1);
    for (let k = 0; k < 400 && webhookRan.length === 0; k++) await new Promise((r) => setTimeout(r, 5));
    // The webhook's job ran while two background jobs held their slots, and no third took the last one.
    expect(webhookRan).toEqual([2]);
    expect(most).toBe(2);
    release();
    expect((await settled()).map((j) => j.status)).toEqual(Array(6).fill('done'));
  });

  it('retries a failing job with backoff and finishes it', async () => {
    const [id] = await enqueue(1);
    const seen: number[] = [];
    run(async (job) => {
      seen.push(job.attempts);
      if (job.attempts < 3) throw new Error(`flaky ${job.attempts}`);
    });
    const [job] = await settled();
    expect(job).toMatchObject({ id, status: 'done', attempts: 3, lastError: 'Error: flaky 2' });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('gives up after maxAttempts and keeps the reason', async () => {
    await enqueue(1);
    run(async () => {
      throw new Error('Bitbucket is down');
    }, { maxAttempts: 3 });
    const [job] = await settled();
    expect(job).toMatchObject({ status: 'dead', attempts: 3 });
    expect(job!.lastError).toBe('gave up after 3 attempts: Error: Bitbucket is down');
  });

  it('tells onDead once, with the reason, when a job goes dead, and survives the hook failing', async () => {
    await enqueue(2);
    const dead: { attempts: number; reason: string }[] = [];
    run(
      async () => {
        throw new Error('Bitbucket is down');
      },
      {
        maxAttempts: 2,
        onDead: async (job, reason) => {
          dead.push({ attempts: job.attempts, reason });
          throw new Error('and the status call failed too');
        },
      },
    );
    const jobs = await settled();
    expect(jobs.map((j) => j.status)).toEqual(['dead', 'dead']);
    expect(dead).toEqual([
      { attempts: 2, reason: 'gave up after 2 attempts: Error: Bitbucket is down' },
      { attempts: 2, reason: 'gave up after 2 attempts: Error: Bitbucket is down' },
    ]);
  });

  it('reports how every attempt ended to onOutcome, after it is recorded, and survives the hook failing', async () => {
    const [id] = await enqueue(1);
    const seen: { attempts: number; ok: boolean; final?: boolean; status?: string }[] = [];
    run(
      async (job) => {
        if (job.attempts < 3) throw new Error(`flaky ${job.attempts}`);
      },
      {
        onOutcome: async (job, outcome) => {
          seen.push({ attempts: job.attempts, ok: outcome.ok, ...(outcome.ok ? {} : { final: outcome.final }), status: (await store.getJob(id!))?.status });
          throw new Error('the hook failed');
        },
      },
    );
    await settled();
    for (let k = 0; k < 100 && seen.length < 3; k++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([
      { attempts: 1, ok: false, final: false, status: expect.stringMatching(/queued|running/) },
      { attempts: 2, ok: false, final: false, status: expect.stringMatching(/queued|running/) },
      { attempts: 3, ok: true, status: 'done' },
    ]);
  });

  it('reports a dead job as final', async () => {
    await enqueue(1);
    const finals: boolean[] = [];
    run(
      async () => {
        throw new PermanentJobError('never');
      },
      { onOutcome: async (_job, outcome) => void finals.push(!outcome.ok && outcome.final) },
    );
    await settled();
    for (let k = 0; k < 100 && finals.length < 1; k++) await new Promise((r) => setTimeout(r, 10));
    expect(finals).toEqual([true]);
  });

  it('sends a permanent failure and an unknown job type straight to dead', async () => {
    await enqueue(1);
    await store.acceptDelivery({ id: 'other', clientKey: 'c1', event: 'x' }, { clientKey: 'c1', type: 'nobody-handles-this', payload: {} });
    run(async () => {
      throw new PermanentJobError('payload is not an event');
    });
    const jobs = await settled();
    expect(jobs.map((j) => [j.status, j.attempts, j.lastError])).toEqual([
      ['dead', 1, 'PermanentJobError: payload is not an event'],
      ['dead', 1, 'PermanentJobError: no handler for job type "nobody-handles-this"'],
    ]);
  });

  it('postpones a job whose call budget is spent without spending an attempt', async () => {
    await enqueue(1);
    let calls = 0;
    run(async () => {
      calls++;
      if (calls === 1) throw new BudgetExhaustedError('c1', 30);
    }, { maxAttempts: 1 });
    const [job] = await settled();
    expect(job).toMatchObject({ status: 'done', attempts: 1 });
    expect(calls).toBe(2);
  });

  it('waits at least as long as the failure asks before the next attempt', async () => {
    const [id] = await enqueue(1);
    let failedAt = 0;
    run(async () => {
      failedAt = Date.now();
      throw Object.assign(new Error('429'), { retryAfterMs: 60_000 });
    }, { retryAfterOf: (error) => (error as { retryAfterMs?: number }).retryAfterMs });
    let job = await store.getJob(id!);
    while (job?.status !== 'queued' || job.attempts !== 1) {
      await new Promise((r) => setTimeout(r, 5));
      job = await store.getJob(id!);
    }
    expect(Date.parse(job.runAfter) - failedAt).toBeGreaterThanOrEqual(60_000);
    expect(job.lastError).toBe('Error: 429');
  });

  it('never runs two jobs of one group at once, but runs different groups in parallel', async () => {
    await enqueue(6, (i) => (i < 3 ? 'pr-1' : `pr-${i}`));
    const running = new Map<string, number>();
    let maxSameGroup = 0;
    let maxOverall = 0;
    let overall = 0;
    run(async (job) => {
      const g = job.group ?? '';
      running.set(g, (running.get(g) ?? 0) + 1);
      overall++;
      maxSameGroup = Math.max(maxSameGroup, running.get(g)!);
      maxOverall = Math.max(maxOverall, overall);
      await new Promise((r) => setTimeout(r, 30));
      running.set(g, running.get(g)! - 1);
      overall--;
    }, { concurrency: 4 });
    const jobs = await settled();
    expect(jobs.every((j) => j.status === 'done')).toBe(true);
    expect(maxSameGroup).toBe(1);
    expect(maxOverall).toBeGreaterThan(1);
  });

  it('stop() waits for the running job and leaves queued ones queued', async () => {
    await enqueue(3, () => 'same');
    let finished = 0;
    run(async () => {
      await new Promise((r) => setTimeout(r, 50));
      finished++;
    }, { concurrency: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await pool!.stop();
    const jobs = await store.listJobs();
    expect(finished).toBe(1);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'queued', 'queued']);
  });
});

describe('backoffMs', () => {
  it('doubles per attempt within [c/2, c] and stops at the cap', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffMs(20, 1000, 60_000, () => 1)).toBe(60_000);
    expect(backoffMs(20, 1000, 60_000, () => 0)).toBe(30_000);
  });
});
