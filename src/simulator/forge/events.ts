import { randomUUID } from 'node:crypto';
import type { CommitInfo } from '../git.ts';
import type { Account, PullRequest, Repository, Workspace } from '../model.ts';
import { short } from '../model.ts';
import type { BranchMove } from '../payloads.ts';

/**
 * Event bodies in the shapes Forge sends a remote, after the examples in
 * ../shared/reference/payloads/forge/: top-level objects with `eventType` and `timestamp`,
 * UUIDs in braces, no links, 12-character hashes on pull-request events and full ones on
 * push events. The lifecycle body follows the documented remote body (`context` as a
 * workspace ARI, bare UUIDs for the app and environment).
 */

const MAX_COMMITS = 5;
/** Bitbucket repositories belong to a project; the simulator has none, so each repository gets a stable one. */
const projects = new WeakMap<Repository, string>();

function project(repo: Repository): { uuid: string } {
  let uuid = projects.get(repo);
  if (!uuid) {
    uuid = `{${randomUUID()}}`;
    projects.set(repo, uuid);
  }
  return { uuid };
}

function user(account: Account) {
  return { type: 'user', accountId: account.account_id, uuid: account.uuid };
}

function common(repo: Repository, actor: Account, eventType: string, now: Date) {
  return {
    actor: user(actor),
    repository: { uuid: repo.uuid, slug: repo.slug },
    project: project(repo),
    workspace: { uuid: repo.workspace.uuid },
    eventType,
    timestamp: now.toISOString(),
  };
}

export const PULL_REQUEST_EVENTS: Record<string, string> = {
  'pullrequest:created': 'avi:bitbucket:created:pullrequest',
  'pullrequest:updated': 'avi:bitbucket:updated:pullrequest',
  'pullrequest:fulfilled': 'avi:bitbucket:fulfilled:pullrequest',
  'pullrequest:rejected': 'avi:bitbucket:rejected:pullrequest',
};
export const PUSH_EVENT = 'avi:bitbucket:push:repository';

export function pullRequestEvent(repo: Repository, pr: PullRequest, actor: Account, eventType: string, now: Date) {
  return {
    ...common(repo, actor, eventType, now),
    pullrequest: {
      id: pr.id,
      state: pr.state,
      source: { branch: pr.sourceBranch, commit: { hash: short(pr.sourceHash) } },
      destination: { branch: pr.destinationBranch, commit: { hash: short(pr.destinationHash) } },
      ...(pr.mergeHash ? { mergeCommit: { hash: short(pr.mergeHash) } } : {}),
      updatedOn: pr.updatedOn,
      createdOn: pr.createdOn,
      title: { truncated: false, value: pr.title },
      author: { ...user(pr.author), displayName: pr.author.display_name },
      commentCount: pr.comments.length,
      taskCount: 0,
    },
  };
}

function commit(c: CommitInfo, author: Account) {
  return { hash: c.hash, message: { value: c.message, truncated: false }, date: c.date, author: { user: user(author) } };
}

/** One branch move; a deleted branch has no `after` and no commits. */
export function pushEvent(repo: Repository, move: BranchMove, actor: Account, now: Date) {
  return {
    ...common(repo, actor, PUSH_EVENT, now),
    push: {
      ref: move.branch,
      mainbranch: move.branch === repo.mainBranch,
      ...(move.newHash ? { after: move.newHash } : {}),
      created: move.oldHash === null,
      closed: move.newHash === null,
      forced: false,
      truncated: move.commits.length > MAX_COMMITS,
      commits: move.commits.slice(0, MAX_COMMITS).map((c) => commit(c, actor)),
    },
  };
}

export interface AppInfo {
  /** Bare UUID of the app (the ARI's last segment), as lifecycle bodies carry it. */
  id: string;
  name: string;
  version: string;
  ownerAccountId: string;
  environmentId: string;
}

export function lifecycleEvent(eventType: 'avi:forge:installed:app' | 'avi:forge:upgraded:app', app: AppInfo, installationUuid: string, workspace: Workspace, by: Account) {
  return {
    app: { id: app.id, name: app.name, ownerAccountId: app.ownerAccountId, version: app.version },
    context: `ari:cloud:bitbucket::workspace/${workspace.uuid.replace(/[{}]/g, '')}`,
    environment: { id: app.environmentId },
    eventType,
    id: installationUuid,
    ...(eventType === 'avi:forge:installed:app' ? { installerAccountId: by.account_id } : { upgraderAccountId: by.account_id }),
  };
}

/**
 * Unconfirmed shapes (BITBUCKET.md): what a scheduled trigger and preUninstall send. The
 * remote must not depend on more than the FIT, so these carry little.
 */
export function scheduledEvent(key: string, now: Date) {
  return { context: { cloudId: null, moduleKey: key }, contextToken: null, timestamp: now.toISOString() };
}

export function preUninstallEvent(app: AppInfo, workspace: Workspace, now: Date) {
  return { app: { id: app.id, version: app.version }, context: `ari:cloud:bitbucket::workspace/${workspace.uuid.replace(/[{}]/g, '')}`, eventType: 'avi:forge:preuninstall:app', timestamp: now.toISOString() };
}
