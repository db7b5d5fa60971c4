import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { Job } from '../store/types.ts';
import { loopPressure } from './loop-pressure.ts';
import { WorkerPool, type WorkerOptions } from './worker.ts';

const logger = createLogger('silent');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue in memory that records every claim's limit. */
function fakeStore(types: string[]) {
  const at = new Date(0).toISOString();
  const queued: Job[] = types.map((type, i) => ({ id: `j${i}`, clientKey: 'c1', type, payload: {}, status: 'queued', attempts: 0, runAfter: at, createdAt: at, updatedAt: at }));
  const claims: number[] = [];
  const claimedAt: number[] = [];
  const store: WorkerOptions['store'] = {
    async claimJobs(limit) {
      claims.push(limit);
      claimedAt.push(performance.now());
      return queued.splice(0, limit);
    },
    async updateJob() {},
  };
  return { store, claims, claimedAt };
}

describe('WorkerPool under a busy event loop', () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.stop();
    pool = undefined;
  });

  it('claims nothing, background work included, while the loop is busy, and everything once it is not', async () => {
    const { store, claims } = fakeStore(['t', 'bg', 't']);
    const ran: string[] = [];
    let busy = true;
    const handler = async (job: Job) => void ran.push(job.id);
    pool = new WorkerPool({ store, handlers: { t: handler, bg: handler }, logger, pollMs: 5, busy: () => busy, busyRecheckMs: 5, starvationMs: 60_000, isBackground: (job) => job.type === 'bg' });
    pool.start();
    // The first claim is the guard's (no claim yet): one job.
    await sleep(20);
    expect(claims).toEqual([1]);
    for (let i = 0; i < 20; i++) pool.wake();
    await sleep(100);
    expect(claims).toEqual([1]);
    expect(ran).toEqual(['j0']);
    busy = false;
    await sleep(200);
    expect(ran.sort()).toEqual(['j0', 'j1', 'j2']);
    expect(claims[1]).toBe(4);
  });

  it('still claims one job per starvation interval under sustained pressure', async () => {
    const { store, claims, claimedAt } = fakeStore(Array(20).fill('t'));
    let ran = 0;
    pool = new WorkerPool({ store, handlers: { t: async () => void ran++ }, logger, pollMs: 5, busy: () => true, busyRecheckMs: 5, starvationMs: 100 });
    pool.start();
    await sleep(450);
    // At 0, 100, 200, 300 and 400 ms, give or take a timer's lateness on a loaded machine.
    expect(claims.every((limit) => limit === 1)).toBe(true);
    expect(ran).toBe(claims.length);
    expect(ran).toBeGreaterThanOrEqual(3);
    expect(ran).toBeLessThanOrEqual(5);
    for (let i = 1; i < claimedAt.length; i++) expect(claimedAt[i]! - claimedAt[i - 1]!).toBeGreaterThanOrEqual(99);
  });

  it('stops at once while held back', async () => {
    const { store } = fakeStore(Array(5).fill('t'));
    pool = new WorkerPool({ store, handlers: { t: async () => {} }, logger, busy: () => true, busyRecheckMs: 60_000, starvationMs: 60_000 });
    pool.start();
    await sleep(20);
    const asked = performance.now();
    await pool.stop();
    expect(performance.now() - asked).toBeLessThan(1_000);
  });
});

describe('loopPressure', () => {
  it('says busy after a window spent running, and not after a window spent waiting', async () => {
    const busy = loopPressure({ threshold: 0.5, windowMs: 40 });
    const spinUntil = performance.now() + 60;
    while (performance.now() < spinUntil);
    expect(busy()).toBe(true);
    // Within the window the reading is reused.
    expect(busy()).toBe(true);
    // Long enough that other work on a loaded machine (the test runner's own) cannot fill half of it.
    await sleep(300);
    expect(busy()).toBe(false);
  });

  it('given a request count, says busy only for a busy window in which requests arrived', () => {
    let requests = 0;
    const busy = loopPressure({ threshold: 0.5, windowMs: 40, arrivals: () => requests });
    const spin = () => {
      const until = performance.now() + 60;
      while (performance.now() < until);
    };
    spin();
    expect(busy()).toBe(false);
    requests += 1;
    spin();
    expect(busy()).toBe(true);
  });
});
