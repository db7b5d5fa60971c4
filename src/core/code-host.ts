import type { Severity } from '../scan/types.ts';
import type { RepositoryHost } from './coverage/host.ts';

/**
 * The one interface the workflows call to read from and publish to a code host (DESIGN.md
 * example 12). Bitbucket Cloud (Connect and Forge installations) and Bitbucket Data Center each
 * implement it in src/codehost/<host>/; their API shapes, limits and batching stay there. The
 * workflows never ask which host they talk to.
 *
 * Failures are the typed errors of src/bitbucket/errors.ts (both hosts are Bitbucket and share
 * that HTTP machinery): a status the host answered is a BitbucketApiError with its `status`.
 */

/** A repository: `workspace` is a Cloud workspace or a Data Center project key. */
export interface RepoRef {
  workspace: string;
  slug: string;
}

export interface PullRequestSide {
  /** `workspace/slug` of the side's repository, when the host said. */
  repository: string | null;
  /** The side's repository UUID in braces, when the host said: names a repository however it is addressed. */
  repositoryUuid?: string | null;
  branch: string | null;
  /** The side's latest commit; possibly abbreviated (resolve it with `resolveCommit`). */
  commit: string | null;
}

export interface PullRequestInfo {
  id: number;
  /** OPEN, MERGED, DECLINED or SUPERSEDED; null when the host did not say. */
  state: string | null;
  source: PullRequestSide;
  destination: PullRequestSide;
  mergeCommit: string | null;
}

/**
 * Which change: a pull request's own diff, or what `head` adds over `base` (from their merge base;
 * `direct` compares the two commits as they are). A null `base` is `head` against its parent.
 */
export type ChangeTarget = { pullRequestId: number } | { head: string; base: string | null; direct?: boolean };

/** One changed file of a diff: both paths of a rename, one for an add or a delete. */
export interface ChangedFile {
  oldPath: string | null;
  newPath: string | null;
}

export interface DirectoryEntry {
  /** Repository path from the root. */
  path: string;
  kind: 'file' | 'directory';
}

export interface RepositoryInfo {
  mainBranch: string | null;
}

export type ReportDataItem = { title: string } & (
  | { type: 'BOOLEAN'; value: boolean }
  | { type: 'DATE' | 'DURATION' | 'NUMBER' | 'PERCENTAGE'; value: number }
  | { type: 'LINK'; value: { text: string; href: string } }
  | { type: 'TEXT'; value: string }
);

/** A security report on a commit. `data` is most important first: a host with a lower cap keeps the first ones. */
export interface Report {
  title: string;
  details: string;
  result: 'PASSED' | 'FAILED';
  reporter: string;
  link: string;
  data: ReportDataItem[];
}

export interface Annotation {
  /** Stable per finding: republishing the same finding updates, never duplicates. */
  externalId: string;
  title: string;
  summary: string;
  details: string;
  severity: Severity;
  result: 'PASSED' | 'FAILED' | 'IGNORED';
  path: string;
  /** Absent for a whole-file annotation. */
  line?: number;
  link?: string;
}

export interface ReportPublication {
  /** The report's key on the commit (one per kind of scan). */
  key: string;
  report: Report;
  /** At most 1,000 (what both Bitbucket hosts keep per report), worst first. */
  annotations: readonly Annotation[];
  /** External ids published on this commit before: the host removes those no longer present. */
  previouslyPublished: ReadonlySet<string>;
}

export interface BuildStatus {
  key: string;
  state: 'INPROGRESS' | 'SUCCESSFUL' | 'FAILED' | 'STOPPED';
  name: string;
  url: string;
  description?: string;
  /** The branch the commit was built for (a name, not a full ref). */
  branch: string;
}

export interface PullRequestComment {
  id: number;
  text: string;
}

/**
 * Where people see things on a code host (links in reports, statuses, comments and the pages'
 * findings). Built from the host's web address alone, without credentials or calls, so the
 * pages can link findings without reaching the host.
 */
export interface CodeHostLinks {
  pullRequestUrl(repo: RepoRef, prId: number): string;
  commitUrl(repo: RepoRef, commit: string): string;
  /** A file's source view at a commit, scrolled to `line` when it is above 0. */
  sourceUrl(repo: RepoRef, commit: string, path: string, line: number): string;
}

export interface CodeHost extends CodeHostLinks {

  getPullRequest(repo: RepoRef, prId: number): Promise<PullRequestInfo>;
  /** The full 40-character hash of a possibly abbreviated one. */
  resolveCommit(repo: RepoRef, hash: string): Promise<string>;
  getRepository(repo: RepoRef): Promise<RepositoryInfo>;
  /** The unified diff, streamed (UTF-8). */
  streamDiff(repo: RepoRef, target: ChangeTarget): Promise<ReadableStream<Uint8Array>>;
  /**
   * The files a change touches. `paths` narrows the listing where the host can (callers still
   * filter: a host may ignore it).
   */
  changedFiles(repo: RepoRef, target: ChangeTarget, options?: { paths?: readonly string[] }): AsyncIterable<ChangedFile>;
  /** A file's text at a commit; null when it (or the commit) does not exist. Over `maxBytes`: BitbucketTooLargeError. */
  getFile(repo: RepoRef, commit: string, path: string, options?: { maxBytes?: number }): Promise<string | null>;
  /** One directory's entries at a commit (`dir` '' is the root). */
  listDirectory(repo: RepoRef, commit: string, dir: string): AsyncIterable<DirectoryEntry>;

  /** Creates or replaces the report `key` on the commit with exactly these annotations. */
  publishReport(repo: RepoRef, commit: string, publication: ReportPublication): Promise<void>;
  /** Sets the build status `key` on the commit; the same key overwrites. */
  setBuildStatus(repo: RepoRef, commit: string, status: BuildStatus): Promise<void>;

  listComments(repo: RepoRef, prId: number): AsyncIterable<PullRequestComment>;
  /** Not idempotent: look for the comment (listComments) before creating it again after a failure. */
  createComment(repo: RepoRef, prId: number, text: string): Promise<number>;
  /** Replaces the comment's text; false when the comment no longer exists. */
  editComment(repo: RepoRef, prId: number, commentId: number, text: string): Promise<boolean>;

  /** The tenant's repositories and whole trees: what discovery, the backfill and history scans read. */
  readonly repositories: RepositoryHost;
}

/** Finds the code host of a tenant: a Connect clientKey, `datacenter:<instanceId>`, `forge:...`. */
export interface CodeHostSource {
  forTenant(tenantKey: string): Promise<CodeHost>;
}

/** The tenant is gone (uninstalled, removed, or never known): its jobs cannot reach its code host. */
export class TenantUnavailableError extends Error {
  override name = 'TenantUnavailableError';
}

/**
 * The code host refused the tenant's credentials (a Data Center access token revoked or expired).
 * No job of the tenant can run until an operator registers new credentials: its jobs wait for
 * that (the pipeline's waitOf) rather than die, and the front door that owns the tenant records
 * it on the tenant's status.
 */
export class TenantCredentialsRejectedError extends TenantUnavailableError {
  override name = 'TenantCredentialsRejectedError';
  constructor(
    readonly tenantKey: string,
    message: string,
    /**
     * Which credentials were refused (an opaque fingerprint, never the secret): a job that
     * started with credentials an operator has since replaced must not mark the new ones refused.
     */
    readonly credentials?: string,
  ) {
    super(message);
  }
}
