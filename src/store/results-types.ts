/**
 * What the pipeline keeps about its work, beside the Store of installations and jobs:
 * per-installation policy, triage marks, pull-request records, scan results and each
 * repository's dependency inventory. Values are plain JSON. Secrets never reach this
 * interface: a secret finding carries only its sha256 and a masked preview.
 */
import type { Finding, PackageRef, Severity } from '../scan/types.ts';
import type { CoverageStore } from './coverage-types.ts';

export interface Policy {
  /** New findings at or above this severity fail the report and the build status. */
  threshold: Severity;
  scanners: { secrets: boolean; dependencies: boolean };
  /** Globs (gitignore-like, `**` allowed) of paths never scanned. */
  ignoredPaths: string[];
  /** Branch (exact name or glob) to environment name, first match wins, e.g. `main` → `production`. */
  environments: { branch: string; environment: string }[];
}

export type TriageStatus = 'ignored' | 'false_positive';

/** A person's decision about one finding, which follows its fingerprint across commits and PRs. */
export interface TriageMark {
  clientKey: string;
  repoUuid: string;
  fingerprint: string;
  status: TriageStatus;
  /** Account id (or name) of whoever marked it, from the authenticated request. */
  by: string;
  /** ISO time. */
  at: string;
  reason: string;
}

/** DELETED: the code host deleted the pull request (Data Center); its record stays for the results API. */
export type PullRequestState = 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED' | 'DELETED';

export interface PullRequestRecord {
  clientKey: string;
  repoUuid: string;
  repoFullName: string;
  prId: number;
  state: PullRequestState;
  sourceBranch: string;
  destinationBranch: string;
  /** Full hash of the newest source commit whose results were published. */
  publishedCommit: string | null;
  /** Id of the one summary comment, once created. */
  commentId: number | null;
  lastResult: 'PASSED' | 'FAILED' | null;
  mergeCommit: string | null;
  updatedAt: string;
}

/** A finding as kept: whether the change introduced it, and its triage mark if any. */
export type StoredFinding = Finding & {
  isNew: boolean;
  /** An "in history" finding (a `history` scan's): the commit that added it and that commit's author date. */
  history?: { commit: string; authorDate: string };
  triage?: Pick<TriageMark, 'status' | 'by' | 'at' | 'reason'>;
};

/**
 * `branch`: a whole default branch at its head, as the coverage backfill scans it.
 * `history`: every commit reachable from the default branch, scanned for secrets on request;
 * its findings carry `history` (the commit that added them) and are never a change's own.
 */
export type ScanKind = 'pull_request' | 'push' | 'branch' | 'history';

export interface ScanSummary {
  clientKey: string;
  repoUuid: string;
  commit: string;
  kind: ScanKind;
  prId: number | null;
  /** The branch a push scan was pushed to, or a whole-branch scan read: only its newest scan is kept beyond the grace period. */
  branch?: string;
  result: 'PASSED' | 'FAILED';
  counts: { critical: number; high: number; medium: number; low: number; new: number; existing: number; triaged: number };
  durationMs: number;
  /** What was not scanned and why (binary files, LFS pointers, size limits), one line each. */
  skipped: string[];
  notices: string[];
  /**
   * Repository configuration files a pull request changes. Its own scan used the
   * destination branch's configuration; these changes apply once merged.
   */
  configChanges?: string[];
  /** Why the change was not scanned to the end (a scan budget was exceeded); the result is then FAILED. */
  unfinished?: string;
  createdAt: string;
}

export interface ScanRecord extends ScanSummary {
  findings: StoredFinding[];
}

export interface InventoryRecord {
  clientKey: string;
  repoUuid: string;
  repoFullName: string;
  branch: string;
  environment: string | null;
  commit: string;
  /** Dependency file path to the sha256 of its content when read. */
  files: Record<string, string>;
  packages: PackageRef[];
  /** CycloneDX 1.6 JSON. */
  sbom: string;
  updatedAt: string;
  /** When the event the inventory was built for was accepted; a branch's inventory only moves forward in this order. */
  acceptedAt?: string;
}

/** An inventory as listed: without its packages and SBOM. */
export type InventorySummary = Omit<InventoryRecord, 'packages' | 'sbom'>;

/** A dependency finding of a default branch as advisory monitoring keeps it (docs/inventory.md). */
export type AdvisoryFinding = StoredFinding & {
  /** Appeared on this commit because the OSV database changed, not because of a push. */
  newAdvisory?: true;
  /** When it appeared that way. */
  since?: string;
};

/**
 * A default branch's dependency findings re-evaluated after an OSV refresh (core/monitoring),
 * without calling Bitbucket: one per (clientKey, repoUuid), replaced by each evaluation.
 */
export interface AdvisoryState {
  clientKey: string;
  repoUuid: string;
  branch: string;
  /** The default-branch inventory's commit these findings belong to. */
  commit: string;
  /** Every dependency finding of the branch at `commit` with the database `dbVersion`. */
  findings: AdvisoryFinding[];
  /** Findings an advisory change took away (withdrawn or narrowed), newest last, capped. */
  fixed: { finding: AdvisoryFinding; at: string }[];
  /** The branch's verdict with these findings and the branch scan's secrets. */
  result: 'PASSED' | 'FAILED';
  /** Verdict changes, newest last, capped; `publishedAt` once its report and status were updated. */
  changes: { at: string; from: 'PASSED' | 'FAILED' | null; to: 'PASSED' | 'FAILED'; advisories: string[]; publishedAt: string | null }[];
  dbVersion: string;
  updatedAt: string;
}

/** The installation's inventory export mapping (core/inventory/mapping.ts), kept as its text. */
export interface ExportMappingRecord {
  clientKey: string;
  source: string;
  updatedBy: string;
  updatedAt: string;
}

export interface ResultsStore extends CoverageStore {
  open(): Promise<void>;
  close(): Promise<void>;

  getPolicy(clientKey: string): Promise<Policy | undefined>;
  putPolicy(clientKey: string, policy: Policy): Promise<void>;

  /** Sets (replaces) the mark for (clientKey, repoUuid, fingerprint). */
  putTriage(mark: TriageMark): Promise<void>;
  clearTriage(clientKey: string, repoUuid: string, fingerprint: string): Promise<boolean>;
  listTriage(clientKey: string, repoUuid?: string): Promise<TriageMark[]>;

  getPullRequest(clientKey: string, repoUuid: string, prId: number): Promise<PullRequestRecord | undefined>;
  putPullRequest(record: PullRequestRecord): Promise<void>;
  /** The installation's pull requests in one repository, in no particular order. */
  listPullRequests(clientKey: string, repoUuid: string): Promise<PullRequestRecord[]>;

  /**
   * One scan per (clientKey, repoUuid, commit, kind, prId); a later one replaces it. Scans
   * users can be shown are kept (the newest of each pull request and branch, and those an
   * inventory or a pull-request record's publishedCommit names); any other is dropped a grace
   * period after it stopped being one of those.
   */
  putScan(scan: ScanRecord): Promise<void>;
  getScan(clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId?: number | null): Promise<ScanRecord | undefined>;
  /** Every kept scan of an installation (or one repository), without findings. Not for hot paths. */
  listScans(clientKey: string, repoUuid?: string): Promise<ScanSummary[]>;
  /** The kept scans of one pull request, without findings: its newest, and those released less than the grace period ago. */
  listPullRequestScans(clientKey: string, repoUuid: string, prId: number): Promise<ScanSummary[]>;

  /** One inventory per (clientKey, repoUuid, branch); a later one replaces it. */
  putInventory(inventory: InventoryRecord): Promise<void>;
  getInventory(clientKey: string, repoUuid: string, branch: string): Promise<InventoryRecord | undefined>;
  /** Every inventory of the installation, without packages and SBOM, in no particular order. */
  listInventories(clientKey: string): Promise<InventorySummary[]>;

  /** One per (clientKey, repoUuid); a later put replaces it. */
  putAdvisoryState(state: AdvisoryState): Promise<void>;
  getAdvisoryState(clientKey: string, repoUuid: string): Promise<AdvisoryState | undefined>;

  getExportMapping(clientKey: string): Promise<ExportMappingRecord | undefined>;
  /** Replaces the installation's mapping; null removes it. */
  putExportMapping(clientKey: string, record: ExportMappingRecord | null): Promise<void>;

  /**
   * Drops everything stored for the installation (policy, triage marks, pull requests, scans,
   * inventories, advisory states, the export mapping, repositories, coverage, API tokens): nothing of it is readable afterwards. For a clientKey installed afresh after
   * an uninstall, whose new installer cannot be proven to be the previous one.
   */
  forgetTenant(clientKey: string): Promise<void>;
}
