import { coverageView, type CoverageView } from '../core/coverage/progress.ts';
import type { ApiTokenRecord, RepositoryCoverage } from '../store/coverage-types.ts';
import type { AdvisoryState, InventoryRecord, Policy, PullRequestRecord, ResultsStore, ScanRecord, TriageMark } from '../store/results-types.ts';
import type { Store } from '../store/types.ts';

/**
 * Everything the pages read and write, and nothing more. The view models depend on this,
 * not on the stores, so a page can be rendered (in tests, in the benchmark) from any source
 * and the stores can change shape without touching a template.
 */
export interface UiDataSource {
  /** The installation's stored policy, undefined while it has the default one. */
  policy(clientKey: string): Promise<Policy | undefined>;
  savePolicy(clientKey: string, policy: Policy): Promise<void>;

  pullRequest(clientKey: string, repoUuid: string, prId: number): Promise<PullRequestRecord | undefined>;
  /**
   * The pull-request scan of the commit the page is about. Bitbucket's URL variable holds a
   * short hash, so the commit is matched by prefix; the newest such scan wins.
   */
  pullRequestScan(clientKey: string, repoUuid: string, prId: number, commitPrefix: string): Promise<ScanRecord | undefined>;
  /** True while a job for this pull request is queued or running. */
  pullRequestPending(clientKey: string, repoUuid: string, prId: number): Promise<boolean>;

  /** The push scan of one commit (full hash). */
  pushScan(clientKey: string, repoUuid: string, commit: string): Promise<ScanRecord | undefined>;
  /** The whole-branch (backfill) scan of one commit (full hash). */
  branchScan(clientKey: string, repoUuid: string, commit: string): Promise<ScanRecord | undefined>;
  /** A default branch's dependency findings as advisory monitoring last re-evaluated them. */
  advisoryState(clientKey: string, repoUuid: string): Promise<AdvisoryState | undefined>;
  /** The repository's place in the coverage backfill, if it has one. */
  repositoryCoverage(clientKey: string, repoUuid: string): Promise<RepositoryCoverage | undefined>;
  inventory(clientKey: string, repoUuid: string, branch: string): Promise<InventoryRecord | undefined>;

  /** The installation's coverage as GET /api/coverage answers it. */
  coverage(clientKey: string, now: Date): Promise<CoverageView>;
  /** The installation's API tokens (hashes only: the tokens themselves are never stored). */
  apiTokens(clientKey: string): Promise<ApiTokenRecord[]>;

  triageMarks(clientKey: string, repoUuid?: string): Promise<TriageMark[]>;
  putTriage(mark: TriageMark): Promise<void>;
  clearTriage(clientKey: string, repoUuid: string, fingerprint: string): Promise<boolean>;
}

/** The data source over the app's two stores: results (the pipeline's) and jobs. */
export function storeDataSource(results: ResultsStore, store: Pick<Store, 'countUnfinishedJobs'>): UiDataSource {
  return {
    policy: (clientKey) => results.getPolicy(clientKey),
    savePolicy: (clientKey, policy) => results.putPolicy(clientKey, policy),
    pullRequest: (clientKey, repoUuid, prId) => results.getPullRequest(clientKey, repoUuid, prId),

    async pullRequestScan(clientKey, repoUuid, prId, commitPrefix) {
      const prefix = commitPrefix.toLowerCase();
      const summaries = await results.listPullRequestScans(clientKey, repoUuid, prId);
      const match = summaries
        .filter((s) => s.commit.startsWith(prefix))
        .reduce<(typeof summaries)[number] | undefined>((a, b) => (a && a.createdAt >= b.createdAt ? a : b), undefined);
      return match && results.getScan(clientKey, repoUuid, match.commit, 'pull_request', prId);
    },

    async pullRequestPending(clientKey, repoUuid, prId) {
      // The pipeline groups a pull request's jobs as `pull_request:{repoUuid}:{id}` (core/events.ts).
      const group = `pull_request:${repoUuid}:${prId}`;
      return (await store.countUnfinishedJobs(clientKey, group)) > 0;
    },

    pushScan: (clientKey, repoUuid, commit) => results.getScan(clientKey, repoUuid, commit, 'push'),
    branchScan: (clientKey, repoUuid, commit) => results.getScan(clientKey, repoUuid, commit, 'branch'),
    advisoryState: (clientKey, repoUuid) => results.getAdvisoryState(clientKey, repoUuid),
    // The store keeps coverage per installation; one repository's entry is picked from that list.
    repositoryCoverage: async (clientKey, repoUuid) => (await results.listRepositoryCoverage(clientKey)).find((e) => e.repoUuid === repoUuid),
    inventory: (clientKey, repoUuid, branch) => results.getInventory(clientKey, repoUuid, branch),
    coverage: (clientKey, now) => coverageView(results, clientKey, now),
    apiTokens: (clientKey) => results.listApiTokens(clientKey),
    triageMarks: (clientKey, repoUuid) => results.listTriage(clientKey, repoUuid),
    putTriage: (mark) => results.putTriage(mark),
    clearTriage: (clientKey, repoUuid, fingerprint) => results.clearTriage(clientKey, repoUuid, fingerprint),
  };
}
