import { describe, expect, it } from 'vitest';
import type { InventoryRecord, Policy, PullRequestRecord, ResultsStore, ScanRecord, StoredFinding, TriageMark } from './results-types.ts';
import { storagePerTest } from './contract-storage.ts';

/**
 * The behaviour every ResultsStore must have (the journal now, Postgres later), in the same
 * shape as the Store contract: `make` returns an opened, empty store; `reopen()` a new
 * opened store over the same storage (the suite closes the previous one first).
 */
export type ResultsStoreFactory = () => Promise<{ store: ResultsStore; reopen: () => Promise<ResultsStore>; cleanup: () => Promise<void> }>;

const A = 'ari:cloud:bitbucket::app/{aaaaaaaa-0000-0000-0000-000000000000}/gatehouse';
const B = 'ari:cloud:bitbucket::app/{bbbbbbbb-0000-0000-0000-000000000000}/gatehouse';
const REPO = '{11111111-2222-3333-4444-555555555555}';
const COMMIT = 'a'.repeat(40);

const policy: Policy = { threshold: 'medium', scanners: { secrets: true, dependencies: false }, ignoredPaths: ['docs/**'], environments: [{ branch: 'main', environment: 'prod' }] };

const finding: StoredFinding = {
  kind: 'secret', ruleId: 'aws-access-key-id', severity: 'critical', path: 'a.js', line: 3, fingerprint: 'f'.repeat(64),
  message: 'AWS access key id', description: 'AWS access key id', preview: 'AKIA****2W', secretHash: 'b'.repeat(64), column: 7, isNew: true,
};

const scan = (clientKey: string, findings: StoredFinding[], commit = COMMIT): ScanRecord => ({
  clientKey, repoUuid: REPO, commit, kind: 'pull_request', prId: 4, result: 'FAILED',
  counts: { critical: findings.length, high: 0, medium: 0, low: 0, new: findings.length, existing: 0, triaged: 0 },
  durationMs: 42, skipped: ['1 binary files (only their names were checked): x.png'], notices: [], createdAt: '2026-01-02T03:04:05.000Z', findings,
});

const mark = (clientKey: string, fingerprint: string): TriageMark => ({ clientKey, repoUuid: REPO, fingerprint, status: 'false_positive', by: 'acc-1', at: '2026-01-02T03:04:05.000Z', reason: 'test key' });

const pr: PullRequestRecord = {
  clientKey: A, repoUuid: REPO, repoFullName: 'acme/web', prId: 4, state: 'OPEN', sourceBranch: 'f', destinationBranch: 'main',
  publishedCommit: COMMIT, commentId: 9, lastResult: 'FAILED', mergeCommit: null, updatedAt: '2026-01-02T03:04:05.000Z',
};

const inventory: InventoryRecord = {
  clientKey: A, repoUuid: REPO, repoFullName: 'acme/web', branch: 'main', environment: 'prod', commit: COMMIT,
  files: { 'package-lock.json': 'c'.repeat(64) }, packages: [{ ecosystem: 'npm', name: 'lodash', version: '4.17.21', path: 'package-lock.json', line: 5 }],
  sbom: '{"bomFormat":"CycloneDX"}', updatedAt: '2026-01-02T03:04:05.000Z',
};

export function resultsStoreContract(name: string, make: ResultsStoreFactory): void {
  describe(`ResultsStore contract: ${name}`, () => {
    let store: ResultsStore;
    const reopen = storagePerTest(make, (opened) => (store = opened));

    it('keeps everything across a reopen, the latest write per key winning', async () => {
      await store.putPolicy(A, policy);
      await store.putScan(scan(A, []));
      await store.putScan(scan(A, [finding]));
      await store.putTriage(mark(A, 'one'));
      await store.putPullRequest({ ...pr, commentId: null });
      await store.putPullRequest(pr);
      await store.putInventory(inventory);
      const again = await reopen();
      expect(await again.getPolicy(A)).toEqual(policy);
      expect(await again.getScan(A, REPO, COMMIT, 'pull_request', 4)).toEqual(scan(A, [finding]));
      expect(await again.listTriage(A)).toEqual([mark(A, 'one')]);
      expect(await again.getPullRequest(A, REPO, 4)).toEqual(pr);
      expect(await again.getInventory(A, REPO, 'main')).toEqual(inventory);
    });

    it('keeps installations apart', async () => {
      await store.putPolicy(A, policy);
      await store.putScan(scan(A, [finding]));
      await store.putTriage(mark(A, 'one'));
      expect(await store.getPolicy(B)).toBeUndefined();
      expect(await store.getScan(B, REPO, COMMIT, 'pull_request', 4)).toBeUndefined();
      expect(await store.listScans(B)).toEqual([]);
      expect(await store.listTriage(B)).toEqual([]);
      expect(await store.getPullRequest(B, REPO, 4)).toBeUndefined();
      await store.putPullRequest(pr);
      await store.putPullRequest({ ...pr, prId: 5 });
      expect((await store.listPullRequests(A, REPO)).map((r) => r.prId).sort()).toEqual([4, 5]);
      expect(await store.listPullRequests(B, REPO)).toEqual([]);
      expect(await store.listPullRequests(A, '{other}')).toEqual([]);
      expect(await store.getInventory(B, REPO, 'main')).toBeUndefined();
    });

    it('tells scans of one commit apart by kind and pull request, and lists summaries without findings', async () => {
      await store.putScan(scan(A, [finding]));
      await store.putScan({ ...scan(A, []), kind: 'push', prId: null, result: 'PASSED' });
      expect((await store.getScan(A, REPO, COMMIT, 'push'))?.result).toBe('PASSED');
      expect((await store.getScan(A, REPO, COMMIT, 'pull_request', 4))?.findings).toEqual([finding]);
      expect(await store.getScan(A, REPO, COMMIT, 'pull_request', 5)).toBeUndefined();
      const listed = await store.listScans(A, REPO);
      expect(listed).toHaveLength(2);
      expect(listed.every((s) => !('findings' in s))).toBe(true);
    });

    it('clears a triage mark, durably', async () => {
      await store.putTriage(mark(A, 'one'));
      await store.putTriage(mark(A, 'two'));
      expect(await store.clearTriage(A, REPO, 'one')).toBe(true);
      expect(await store.clearTriage(A, REPO, 'one')).toBe(false);
      expect(await store.clearTriage(B, REPO, 'two')).toBe(false);
      expect((await (await reopen()).listTriage(A, REPO)).map((m) => m.fingerprint)).toEqual(['two']);
    });

    it('hands out copies: changing a returned value changes nothing stored', async () => {
      await store.putPolicy(A, policy);
      const got = await store.getPolicy(A);
      got!.ignoredPaths.push('x/**');
      expect((await store.getPolicy(A))?.ignoredPaths).toEqual(['docs/**']);
    });
  });
}
