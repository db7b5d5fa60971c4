import { describe, expect, it } from 'vitest';
import { DAY_MS } from './job-index.ts';
import type { InventoryRecord, PullRequestRecord, ResultsStore, ScanRecord } from './results-types.ts';
import { storagePerTest } from './contract-storage.ts';

/**
 * What every ResultsStore keeps of its scans and what it lets go, on a clock the suite moves
 * (so it runs on any store). `make` opens a store over fresh storage reading `now`, with a
 * grace period of `supersededScanMs`; `reopen()` opens another over the same storage after
 * the suite closed the first.
 */
export type ResultsRetentionFactory = (opts: { now: () => Date; supersededScanMs: number }) => Promise<{
  store: ResultsStore;
  reopen: () => Promise<ResultsStore>;
  cleanup: () => Promise<void>;
}>;

const GRACE = 7 * DAY_MS;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const A = 'client-results-retention';
const REPO = '{22222222-3333-4444-5555-666666666666}';
const commit = (n: number) => n.toString(16).padStart(40, '0');
const iso = (days: number) => new Date(START + days * DAY_MS).toISOString();

const prScan = (n: number, prId: number, days: number): ScanRecord => ({
  clientKey: A, repoUuid: REPO, commit: commit(n), kind: 'pull_request', prId, result: 'PASSED',
  counts: { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: iso(days), findings: [],
});
const pushScan = (n: number, branch: string, days: number): ScanRecord => ({ ...prScan(n, 0, days), kind: 'push', prId: null, branch });

const pr = (prId: number, published: number | null, days: number): PullRequestRecord => ({
  clientKey: A, repoUuid: REPO, repoFullName: 'acme/web', prId, state: 'OPEN', sourceBranch: 'f', destinationBranch: 'main',
  publishedCommit: published === null ? null : commit(published), commentId: null, lastResult: 'PASSED', mergeCommit: null, updatedAt: iso(days),
});
const inventory = (n: number, days: number): InventoryRecord => ({
  clientKey: A, repoUuid: REPO, repoFullName: 'acme/web', branch: 'main', environment: null, commit: commit(n), files: {}, packages: [], sbom: '{}', updatedAt: iso(days),
});

export function resultsRetentionContract(name: string, make: ResultsRetentionFactory): void {
  describe(`ResultsStore retention contract: ${name}`, () => {
    let now = START;
    let store: ResultsStore;
    const at = (days: number) => {
      now = START + days * DAY_MS;
    };
    const has = async (n: number, kind: ScanRecord['kind'], prId: number | null) => (await store.getScan(A, REPO, commit(n), kind, prId)) !== undefined;
    const reopen = storagePerTest(
      () => {
        now = START;
        return make({ now: () => new Date(now), supersededScanMs: GRACE });
      },
      (opened) => (store = opened),
    );

    it("keeps a pull request's newest scan, and an older one for the grace period after a newer one replaced it", async () => {
      await store.putScan(prScan(1, 4, 0));
      await store.putScan(prScan(2, 4, 1));
      await store.putScan(prScan(3, 5, 1));
      at(7.9);
      expect((await store.listPullRequestScans(A, REPO, 4)).map((s) => s.commit).sort()).toEqual([commit(1), commit(2)]);
      at(8.1);
      expect(await has(1, 'pull_request', 4)).toBe(false);
      expect((await store.listPullRequestScans(A, REPO, 4)).map((s) => s.commit)).toEqual([commit(2)]);
      at(400);
      await reopen();
      expect(await has(1, 'pull_request', 4)).toBe(false);
      expect((await store.listPullRequestScans(A, REPO, 4)).map((s) => s.commit)).toEqual([commit(2)]);
      expect((await store.listPullRequestScans(A, REPO, 5)).map((s) => s.commit)).toEqual([commit(3)]);
      expect((await store.listScans(A, REPO)).map((s) => s.commit).sort()).toEqual([commit(2), commit(3)]);
    });

    it("keeps the scan a pull-request record published while it is published, then for the grace period", async () => {
      await store.putScan(prScan(1, 4, 0));
      await store.putPullRequest(pr(4, 1, 0));
      // A newer head was scanned but its results never published (a crash in between).
      await store.putScan(prScan(2, 4, 1));
      at(30);
      await reopen();
      expect(await has(1, 'pull_request', 4)).toBe(true);
      await store.putPullRequest(pr(4, 2, 30));
      at(36.9);
      expect(await has(1, 'pull_request', 4)).toBe(true);
      at(37.1);
      expect(await has(1, 'pull_request', 4)).toBe(false);
      expect(await has(2, 'pull_request', 4)).toBe(true);
    });

    it("keeps each branch's newest push scan and the one the inventory shows", async () => {
      await store.putScan(pushScan(1, 'main', 0));
      await store.putInventory(inventory(1, 0));
      await store.putScan(pushScan(2, 'main', 1));
      await store.putScan(pushScan(3, 'feature', 1));
      await store.putScan(pushScan(4, 'old-feature', 2));
      await store.putScan(pushScan(5, 'old-feature', 2));
      at(20);
      await reopen();
      // main's newest, the inventory's commit, feature's only scan, old-feature's newest.
      expect([await has(1, 'push', null), await has(2, 'push', null), await has(3, 'push', null), await has(4, 'push', null), await has(5, 'push', null)])
        .toEqual([true, true, true, false, true]);
      await store.putInventory(inventory(2, 20));
      at(27.1);
      expect(await has(1, 'push', null)).toBe(false);
      expect((await store.getInventory(A, REPO, 'main'))?.commit).toBe(commit(2));
    });

    it("keeps a repository's newest whole-branch scan and its newest history scan, apart from its push scans", async () => {
      const { branch: _none, ...legacy } = { ...pushScan(1, 'main', 0), kind: 'branch' as const };
      // Written before whole-branch scans named their branch.
      await store.putScan(legacy);
      await store.putScan({ ...pushScan(2, 'main', 1), kind: 'branch' });
      // The default branch was changed to develop.
      await store.putScan({ ...pushScan(3, 'main', 2), kind: 'branch' });
      await store.putScan({ ...pushScan(4, 'develop', 2.5), kind: 'branch' });
      await store.putScan(pushScan(5, 'main', 3));
      await store.putScan({ ...pushScan(6, 'main', 3), kind: 'history', branch: undefined });
      await store.putScan({ ...pushScan(7, 'main', 4), kind: 'history', branch: undefined });
      at(20);
      await reopen();
      expect([await has(1, 'branch', null), await has(2, 'branch', null), await has(3, 'branch', null), await has(4, 'branch', null)]).toEqual([false, false, false, true]);
      expect(await has(5, 'push', null)).toBe(true);
      expect([await has(6, 'history', null), await has(7, 'history', null)]).toEqual([false, true]);
    });

    it('never lets go of policy, triage marks, pull-request records and inventories', async () => {
      await store.putPolicy(A, { threshold: 'high', scanners: { secrets: true, dependencies: true }, ignoredPaths: [], environments: [] });
      await store.putTriage({ clientKey: A, repoUuid: REPO, fingerprint: 'f1', status: 'ignored', by: 'me', at: iso(0), reason: 'test' });
      await store.putPullRequest(pr(9, null, 0));
      await store.putInventory(inventory(7, 0));
      for (let day = 1; day <= 40; day++) await store.putScan(prScan(100 + day, 9, day));
      at(400);
      await reopen();
      expect(await store.getPolicy(A)).toBeDefined();
      expect(await store.listTriage(A, REPO)).toHaveLength(1);
      expect(await store.getPullRequest(A, REPO, 9)).toBeDefined();
      expect((await store.getInventory(A, REPO, 'main'))?.commit).toBe(commit(7));
      expect((await store.listPullRequestScans(A, REPO, 9)).map((s) => s.commit)).toEqual([commit(140)]);
    });
  });
}
