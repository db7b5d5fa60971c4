import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileHandlePrototype } from '../../test/helpers/file-handle.ts';
import { isZeroFill } from '../../test/helpers/journal-files.ts';
import { pullRequestScan, secretFinding } from '../../test/helpers/scan-records.ts';
import { LowdbStore, MAX_SUPERSEDED_PER_CLAIM } from './lowdb-store.ts';
import { JournalResultsStore } from './results-store.ts';
import type { PullRequestRecord } from './results-types.ts';
import type { NewJob } from './types.ts';

/**
 * The hot operations cost the same with 10 or 10,000 jobs of one pull request queued: counted,
 * not timed. What is counted while one operation runs:
 *   - reads: FileHandle reads, i.e. payloads or findings read back from the journal;
 *   - writes and bytes written to the journal, records only: the zeros of the segment's
 *     runway (journal.ts) are written once per megabyte of records, whichever operation
 *     happens to cross the mark, so they are nobody's cost;
 *   - the largest walk over one Map or Set (entries visited by a single iteration), which is
 *     what "a scan of all jobs" is. Small walks by the test runner itself stay far below the
 *     threshold; a walk over every job of the 10,000 would not.
 */
const BIG_WALK = 1_000;

interface Cost {
  reads: number;
  writes: number;
  bytesWritten: number;
  largestWalk: number;
}

/** Runs `work` with the counters on; every patch is undone before it returns. */
async function cost<T>(work: () => Promise<T>): Promise<{ cost: Cost; value: T }> {
  const counted: Cost = { reads: 0, writes: 0, bytesWritten: 0, largestWalk: 0 };
  const handle = await fileHandlePrototype();
  const { read, write } = handle;
  handle.read = function (this: unknown, ...args: unknown[]) {
    counted.reads += 1;
    return read.apply(this, args);
  };
  handle.write = async function (this: unknown, ...args: unknown[]) {
    const result = await write.apply(this, args);
    if (!isZeroFill(args[0])) {
      counted.writes += 1;
      counted.bytesWritten += result.bytesWritten;
    }
    return result;
  };
  const restore: (() => void)[] = [];
  for (const proto of [Map.prototype, Set.prototype] as unknown as Record<string | symbol, unknown>[]) {
    for (const name of ['values', 'keys', 'entries', Symbol.iterator] as const) {
      const original = proto[name] as (this: Map<unknown, unknown>) => Iterator<unknown>;
      proto[name] = function (this: Map<unknown, unknown>) {
        const iterator = original.call(this);
        let visited = 0;
        return {
          next() {
            const step = iterator.next();
            if (!step.done) counted.largestWalk = Math.max(counted.largestWalk, ++visited);
            return step;
          },
          [Symbol.iterator]() {
            return this;
          },
        };
      };
      restore.push(() => {
        proto[name] = original;
      });
    }
    const forEach = proto.forEach as (this: Map<unknown, unknown>, fn: (...a: unknown[]) => void) => void;
    proto.forEach = function (this: Map<unknown, unknown>, fn: (...a: unknown[]) => void) {
      counted.largestWalk = Math.max(counted.largestWalk, this.size);
      return forEach.call(this, fn);
    };
    restore.push(() => {
      proto.forEach = forEach;
    });
  }
  try {
    return { cost: counted, value: await work() };
  } finally {
    handle.read = read;
    handle.write = write;
    for (const undo of restore) undo();
  }
}

const CLIENT = 'client-cost';
const GROUP = 'pr:{repo}:1';
/** About the size of a real pull-request event payload. */
const PAYLOAD = { pullRequest: { id: 1, title: 'x'.repeat(2_000) } };
const prJob = (n: number): NewJob => ({ clientKey: CLIENT, type: 'webhook:pullrequest:updated', payload: { ...PAYLOAD, n }, group: GROUP, supersedes: true });

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A store with `queued` jobs of one pull request waiting, accepted as a burst would be. */
async function storeWithQueue(queued: number): Promise<{ store: LowdbStore; ids: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-cost-'));
  dirs.push(dir);
  const store = new LowdbStore({ dataDir: dir });
  await store.open();
  const ids: string[] = [];
  for (let start = 0; start < queued; start += 1_000) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(1_000, queued - start) }, (_, k) => store.acceptDelivery({ id: `d-${start + k}`, clientKey: CLIENT, event: 'pullrequest:updated' }, prJob(start + k))),
    );
    ids.push(...batch.map((b) => b.jobId!));
  }
  return { store, ids };
}

describe('LowdbStore: hot operations counted with 10 and 10,000 jobs of one pull request queued', () => {
  it('costs the same to accept, find the newest job of the group, claim, update and read', { timeout: 120_000 }, async () => {
    const costs: Record<string, Cost>[] = [];
    const claimCalls: number[] = [];
    for (const queued of [10, 10_000]) {
      const { store, ids } = await storeWithQueue(queued);
      try {
        const c: Record<string, Cost> = {};
        c.accept = (await cost(() => store.acceptDelivery({ id: 'd-new', clientKey: CLIENT, event: 'pullrequest:updated' }, prJob(-1)))).cost;
        c.duplicate = (await cost(() => store.acceptDelivery({ id: 'd-new', clientKey: CLIENT, event: 'pullrequest:updated' }, prJob(-1)))).cost;
        const found = await cost(() => store.findSuperseder(ids[0]!));
        expect(found.value).toMatchObject({ supersedes: true });
        c.newestOfGroup = found.cost;
        c.countUnfinished = (await cost(() => store.countUnfinishedJobs(CLIENT, GROUP))).cost;
        // The newest job runs; every older one of its group is finished as superseded on the
        // way, a bounded number per claim: the claims until it is handed out are counted.
        let claim = await cost(() => store.claimJobs(1, new Date()));
        c.claim = { ...claim.cost };
        let calls = 1;
        while (claim.value.length === 0) {
          claim = await cost(() => store.claimJobs(1, new Date()));
          calls += 1;
          expect(claim.cost.writes).toBe(1);
          c.claim.bytesWritten = Math.max(c.claim.bytesWritten, claim.cost.bytesWritten);
          c.claim.largestWalk = Math.max(c.claim.largestWalk, claim.cost.largestWalk);
          c.claim.reads += claim.cost.reads;
        }
        expect(claim.value.map((j) => j.payload)).toEqual([{ ...PAYLOAD, n: -1 }]);
        expect((await store.getJob(ids.at(-1)!))?.lastError).toMatch(/^skipped: superseded by job /);
        expect(await store.countUnfinishedJobs(CLIENT, GROUP)).toBe(1);
        claimCalls.push(calls);
        c.update = (await cost(() => store.updateJob(claim.value[0]!.id, { status: 'done' }))).cost;
        c.getJob = (await cost(() => store.getJob(claim.value[0]!.id))).cost;
        costs.push(c);
      } finally {
        await store.close();
      }
    }
    const [small, large] = costs as [Record<string, Cost>, Record<string, Cost>];
    for (const op of Object.keys(small)) {
      // No walk over the jobs, at either size.
      expect(large[op]!.largestWalk, op).toBeLessThan(BIG_WALK);
      // Payloads are read only when the answer is a payload: the claimed job's, getJob's.
      expect([op, large[op]!.reads], op).toEqual([op, small[op]!.reads]);
      expect([op, large[op]!.writes], op).toEqual([op, small[op]!.writes]);
      if (op !== 'claim') expect(Math.abs(large[op]!.bytesWritten - small[op]!.bytesWritten), op).toBeLessThan(64);
    }
    expect(small.newestOfGroup!.reads + small.countUnfinished!.reads + small.update!.reads + small.duplicate!.reads).toBe(0);
    expect(small.claim!.reads).toBe(1);
    // One claim's record is bounded: at most MAX_SUPERSEDED_PER_CLAIM job states of ~250 bytes,
    // so 10,000 superseded jobs take 20 claims of one append each (and a 21st hands out
    // the newest), not one claim writing 2.5 MB.
    expect(claimCalls).toEqual([1, 10_000 / MAX_SUPERSEDED_PER_CLAIM + 1]);
    expect(large.claim!.bytesWritten).toBeLessThan(MAX_SUPERSEDED_PER_CLAIM * 300);
  });
});

describe('JournalResultsStore: a pull request\'s results read the same with 10 or 10,000 other pull requests stored', () => {
  it('reads the record, the scan list and one scan\'s findings without walking the others', { timeout: 120_000 }, async () => {
    const costs: Cost[] = [];
    for (const others of [10, 10_000]) {
      const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-cost-results-'));
      dirs.push(dir);
      const results = new JournalResultsStore({ dataDir: dir });
      await results.open();
      try {
        const record = (prId: number, commit: string): PullRequestRecord => ({
          clientKey: CLIENT, repoUuid: '{repo}', repoFullName: 'acme/repo', prId, state: 'OPEN', sourceBranch: 'f', destinationBranch: 'main',
          publishedCommit: commit, commentId: prId, lastResult: 'FAILED', mergeCommit: null, updatedAt: new Date().toISOString(),
        });
        for (let start = 0; start <= others; start += 1_000) {
          await Promise.all(
            Array.from({ length: Math.min(1_000, others + 1 - start) }, async (_, k) => {
              const prId = start + k + 1;
              const commit = prId.toString(16).padStart(40, '0');
              await results.putScan(pullRequestScan([secretFinding()], { clientKey: CLIENT, repoUuid: '{repo}', prId, commit }));
              await results.putPullRequest(record(prId, commit));
            }),
          );
        }
        const commit = (1).toString(16).padStart(40, '0');
        const read = await cost(async () => {
          const pr = await results.getPullRequest(CLIENT, '{repo}', 1);
          const scans = await results.listPullRequestScans(CLIENT, '{repo}', 1);
          const scan = await results.getScan(CLIENT, '{repo}', pr!.publishedCommit!, 'pull_request', 1);
          return { pr, scans, scan };
        });
        expect(read.value.scans.map((s) => s.commit)).toEqual([commit]);
        expect(read.value.scan?.findings).toHaveLength(1);
        costs.push(read.cost);
      } finally {
        await results.close();
      }
    }
    expect(costs[1]!.largestWalk).toBeLessThan(BIG_WALK);
    expect(costs[1]!.reads).toBe(costs[0]!.reads);
    expect(costs[1]!.reads).toBe(1);
    expect(costs[1]!.writes).toBe(0);
  });
});
