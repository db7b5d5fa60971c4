/**
 * What whole-workspace coverage keeps per installation: the repositories discovery found,
 * each repository's default-branch backfill state, the installation's coverage state, and
 * the API tokens its admins created. Plain JSON; an API token arrives here already hashed.
 */

export interface RepositoryRecord {
  clientKey: string;
  /** Bitbucket repository UUID in braces: stable across renames and moves. */
  uuid: string;
  /** `workspace/slug` as last listed (Data Center: `PROJECT/slug`). */
  fullName: string;
  name: string;
  project: { key: string; name: string } | null;
  isPrivate: boolean | null;
  /** Null for a repository without a default branch (an empty one). */
  mainBranch: string | null;
  sizeBytes: number | null;
  language: string | null;
  /** Bitbucket's `updated_on`: backfill takes the most recently updated first. */
  updatedOn: string | null;
  discoveredAt: string;
  /** Set once a discovery no longer lists it; cleared if it comes back. */
  deletedAt: string | null;
}

export type RepositoryBackfillStatus = 'pending' | 'scanned' | 'failed' | 'skipped';

/** One repository's place in the backfill. */
export interface RepositoryCoverage {
  clientKey: string;
  repoUuid: string;
  /** The backfill run this entry belongs to (CoverageState.runId). */
  runId: string;
  status: RepositoryBackfillStatus;
  /** Head of the default branch that was scanned (or found already scanned). */
  commit: string | null;
  files: number;
  bytes: number;
  findings: number;
  /** Files not scanned and why (binary, over the size cap), one line each, capped. */
  skippedFiles: string[];
  /** Why the repository failed or was skipped. */
  reason: string | null;
  updatedAt: string;
}

export type CoverageStateName = 'idle' | 'discovering' | 'running' | 'paused' | 'done';

export interface DiscoveryChange {
  kind: 'added' | 'renamed' | 'moved' | 'deleted';
  repoUuid: string;
  fullName: string;
  /** The name before a rename, the project key before a move. */
  from?: string;
  at: string;
}

export interface CoverageState {
  clientKey: string;
  state: CoverageStateName;
  /** Whether discovery starts a backfill by itself (on install, and for repositories found later). */
  autoBackfill: boolean;
  /** The current (or last) backfill run; null before the first one. */
  runId: string | null;
  runStartedAt: string | null;
  runFinishedAt: string | null;
  lastDiscoveryAt: string | null;
  /** The most recent discovery changes, newest last, capped. */
  changes: DiscoveryChange[];
  updatedAt: string;
}

export interface ApiTokenRecord {
  id: string;
  clientKey: string;
  name: string;
  /** sha256 of the token: the token itself is shown once and never stored. */
  hash: string;
  /** Who created it (Bitbucket account uuid). */
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface CoverageStore {
  /** One record per (clientKey, uuid); a later put replaces it. */
  putRepository(record: RepositoryRecord): Promise<void>;
  getRepository(clientKey: string, uuid: string): Promise<RepositoryRecord | undefined>;
  /** Every repository of the installation ever discovered, deleted ones included. */
  listRepositories(clientKey: string): Promise<RepositoryRecord[]>;

  /** One entry per (clientKey, repoUuid); a later put replaces it. */
  putRepositoryCoverage(entry: RepositoryCoverage): Promise<void>;
  listRepositoryCoverage(clientKey: string): Promise<RepositoryCoverage[]>;

  getCoverage(clientKey: string): Promise<CoverageState | undefined>;
  putCoverage(state: CoverageState): Promise<void>;

  putApiToken(record: ApiTokenRecord): Promise<void>;
  listApiTokens(clientKey: string): Promise<ApiTokenRecord[]>;
  /** False when the installation has no token with that id. */
  deleteApiToken(clientKey: string, id: string): Promise<boolean>;
  /** The token whose hash this is, of whichever installation. */
  findApiToken(hash: string): Promise<ApiTokenRecord | undefined>;
}
