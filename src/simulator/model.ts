import { randomUUID } from 'node:crypto';
import type { GitRepository } from './git.ts';

/** The simulator's in-memory picture of a Bitbucket Cloud site. */

export interface Account {
  uuid: string;
  account_id: string;
  display_name: string;
  nickname: string;
}

export interface Workspace {
  slug: string;
  uuid: string;
  name: string;
}

export interface Repository {
  workspace: Workspace;
  slug: string;
  uuid: string;
  mainBranch: string;
  createdOn: string;
  updatedOn: string;
  git: GitRepository;
  pullRequests: PullRequest[];
  /** Key: full commit hash. */
  reports: Map<string, Report[]>;
  statuses: Map<string, Map<string, BuildStatus>>;
  /** The repository this one was forked from. */
  parent?: Repository;
  /** Listing fields; defaults: the workspace's default project, private, no language, size 0. */
  project?: { key: string; name: string };
  isPrivate?: boolean;
  language?: string;
  sizeBytes?: number;
}

export type PullRequestState = 'OPEN' | 'MERGED' | 'DECLINED';

export interface PullRequest {
  id: number;
  title: string;
  description: string;
  sourceBranch: string;
  /** Set for a pull request from a fork: the repository `sourceBranch` and `sourceHash` are in. */
  sourceRepository?: Repository;
  destinationBranch: string;
  /** Full hashes; payloads and API answers abbreviate them to 12 characters as Bitbucket does. */
  sourceHash: string;
  destinationHash: string;
  mergeHash: string | null;
  state: PullRequestState;
  author: Account;
  closedBy: Account | null;
  createdOn: string;
  updatedOn: string;
  comments: PullRequestComment[];
}

export interface PullRequestComment {
  id: number;
  raw: string;
  inline: Record<string, unknown> | null;
  user: Account;
  createdOn: string;
  updatedOn: string;
}

export interface Report {
  uuid: string;
  externalId: string;
  body: Record<string, unknown>;
  createdOn: string;
  updatedOn: string;
  annotations: Annotation[];
}

export interface Annotation {
  uuid: string;
  externalId: string;
  body: Record<string, unknown>;
  createdOn: string;
  updatedOn: string;
}

export interface BuildStatus {
  key: string;
  body: Record<string, unknown>;
  createdOn: string;
  updatedOn: string;
}

export interface Installation {
  clientKey: string;
  sharedSecret: string;
  installed: boolean;
  principal: Workspace;
  installedOn: string;
}

export function braced(uuid = randomUUID()): string {
  return `{${uuid}}`;
}

export function newAccount(displayName: string): Account {
  const uuid = braced();
  return {
    uuid,
    account_id: `557058:${randomUUID()}`,
    display_name: displayName,
    nickname: displayName.toLowerCase().replace(/[^a-z0-9]+/g, '.'),
  };
}

export function newWorkspace(slug: string): Workspace {
  return { slug, uuid: braced(), name: slug };
}

export function fullName(repo: Repository): string {
  return `${repo.workspace.slug}/${repo.slug}`;
}

export function short(hash: string): string {
  return hash.slice(0, 12);
}
