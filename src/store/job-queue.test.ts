import { describe, expect, it } from 'vitest';
import { JobQueue } from './job-queue.ts';

/** A queue item whose runAfter counts how often it is read: the work a claim does. */
function counted() {
  let reads = 0;
  const item = (seq: number, runAfter: string) => {
    let due = runAfter;
    return {
      seq,
      job: {
        get runAfter() {
          reads += 1;
          return due;
        },
      },
      putOff(to: string) {
        due = to;
      },
    };
  };
  return { item, reads: () => reads, reset: () => (reads = 0) };
}

const T = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
const take = <T>(queue: JobQueue<T & { seq: number; job: { runAfter: string } }>, now: string, limit = Infinity) => {
  const out: T[] = [];
  for (const item of queue.takeDue(now)) {
    if (out.length >= limit) break;
    out.push(item);
  }
  return out;
};

describe('JobQueue', () => {
  it('claims the due jobs without looking at the backlog that is not due yet', () => {
    const { item, reads, reset } = counted();
    const queue = new JobQueue<ReturnType<typeof item>>();
    // 10,000 jobs waiting for a Retry-After an hour away, accepted before the three due ones.
    for (let seq = 1; seq <= 10_000; seq++) queue.add(item(seq, T(60)));
    const due = [10_001, 10_002, 10_003].map((seq) => item(seq, T(0)));
    for (const d of due) queue.add(d);
    reset();
    expect(take(queue, T(1)).map((i) => i.seq)).toEqual([10_001, 10_002, 10_003]);
    // Walking every queued job (the old claim) read 10,003 runAfters.
    expect(reads()).toBeLessThanOrEqual(3);
    expect(queue.size).toBe(10_000);
    expect(take(queue, T(60), 2).map((i) => i.seq)).toEqual([1, 2]);
  });

  it('hands due jobs out oldest first, and keeps the ones the caller did not take', () => {
    const { item } = counted();
    const queue = new JobQueue<ReturnType<typeof item>>();
    const [a, b, c] = [item(1, T(5)), item(2, T(0)), item(3, T(1))];
    for (const i of [c, b, a]) queue.add(i);
    expect(take(queue, T(2), 1)).toEqual([b]);
    expect(take(queue, T(10))).toEqual([a, c]);
    expect(take(queue, T(10))).toEqual([]);
  });

  it('forgets removed jobs, and re-queues a job under its new runAfter', () => {
    const { item } = counted();
    const queue = new JobQueue<ReturnType<typeof item>>();
    const [a, b] = [item(1, T(0)), item(2, T(0))];
    queue.add(a);
    queue.add(b);
    queue.remove(a);
    b.putOff(T(30));
    queue.add(b);
    expect(take(queue, T(10))).toEqual([]);
    expect(queue.size).toBe(1);
    expect(take(queue, T(30))).toEqual([b]);
    expect(queue.size).toBe(0);
  });

  it('does not hand out at an earlier now what a later claim found due', () => {
    const { item } = counted();
    const queue = new JobQueue<ReturnType<typeof item>>();
    const a = item(1, T(20));
    queue.add(a);
    // Found due at minute 30 but not taken; a claim at minute 10 must not see it.
    for (const found of queue.takeDue(T(30))) {
      expect(found).toBe(a);
      break;
    }
    expect(take(queue, T(10))).toEqual([]);
    expect(take(queue, T(20))).toEqual([a]);
  });
});
