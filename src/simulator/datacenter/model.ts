import type { GitRepository } from '../git.ts';

/** What the local Data Center holds: projects, git-backed repositories, pull requests and what the app published. */

export interface DcUser {
  id: number;
  name: string;
  slug: string;
  displayName: string;
  emailAddress: string;
}

export interface DcProject {
  id: number;
  key: string;
  name: string;
}

export interface DcComment {
  id: number;
  /** Starts at 0; every edit adds one, and an edit must name the current one (else 409). */
  version: number;
  text: string;
  author: DcUser;
  createdDate: number;
  updatedDate: number;
}

export type DcPullRequestState = 'OPEN' | 'MERGED' | 'DECLINED';

export interface DcPullRequest {
  id: number;
  version: number;
  title: string;
  description: string;
  state: DcPullRequestState;
  fromBranch: string;
  toBranch: string;
  fromHash: string;
  toHash: string;
  mergeHash: string | null;
  author: DcUser;
  createdDate: number;
  updatedDate: number;
  closedDate: number | null;
  comments: DcComment[];
  /** Deleted pull requests answer 404 and are not listed. */
  deleted: boolean;
}

/** A Code Insights report as the app PUT it, with the annotations it POSTed. */
export interface DcReport {
  key: string;
  body: Record<string, unknown>;
  annotations: Record<string, unknown>[];
  createdDate: number;
}

export interface DcBuildStatus {
  key: string;
  body: Record<string, unknown>;
  dateAdded: number;
}

export interface DcRepository {
  id: number;
  slug: string;
  name: string;
  project: DcProject;
  defaultBranch: string;
  git: GitRepository;
  pullRequests: DcPullRequest[];
  /** commit -> report key -> report */
  reports: Map<string, Map<string, DcReport>>;
  /** commit -> build key -> status */
  builds: Map<string, Map<string, DcBuildStatus>>;
}

/** A webhook as created through the REST API (or by a test): where events go, signed with `secret`. */
export interface DcWebhook {
  id: number;
  name: string;
  url: string;
  active: boolean;
  events: string[];
  secret: string | undefined;
  /** `PROJ` for a project webhook, `PROJ/slug` for a repository one. */
  scope: string;
}

/** Data Center's permission levels, weakest first; a token holds one (and every weaker one). */
export const PERMISSIONS = ['REPO_READ', 'REPO_WRITE', 'REPO_ADMIN', 'PROJECT_ADMIN'] as const;
export type DcPermission = (typeof PERMISSIONS)[number];

export interface DcToken {
  permission: DcPermission;
  /** Project keys the token is scoped to; all projects when absent. */
  projects?: string[];
  revoked: boolean;
}
