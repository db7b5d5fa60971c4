/**
 * Domain events: what happened in a repository, in the app's own words. Every front door
 * (Connect webhooks today, Forge events later, Data Center webhooks perhaps) normalises its
 * payloads into these, so nothing behind `dispatch` knows which door an event came through.
 * Plain JSON only: events are stored as job payloads.
 */

/** Whose event it is: the installation the front door authenticated. */
export interface Tenant {
  clientKey: string;
}

export interface RepositoryRef {
  /** Bitbucket repository UUID including braces, e.g. `{c389eba6-...}`. */
  uuid: string;
  /** `workspace/repo-slug`. */
  fullName: string;
  workspace: string;
  name: string;
  isPrivate: boolean | null;
}

export interface Actor {
  accountId: string | null;
  uuid: string | null;
  displayName: string | null;
}

export interface RefChange {
  kind: 'branch' | 'tag';
  name: string;
  /** Full commit hash the ref pointed at before; null when the push created the ref. */
  before: string | null;
  /** Full commit hash the ref points at now; null when the push deleted the ref. */
  after: string | null;
  forced: boolean;
  /** Hashes of the commits the payload lists, newest first; may be empty (PR merges) or cut short. */
  commits: string[];
  /** True when the payload listed only some of the pushed commits. */
  truncated: boolean;
}

/** Fields every event carries, whatever its type. */
export interface EventEnvelope {
  /** The platform's delivery id; redeliveries repeat it and are recognised by it. */
  deliveryId: string;
  /** The platform's own name for the event (`repo:push`), for records and logs only. */
  sourceEvent: string;
}

export interface PushEvent extends EventEnvelope {
  type: 'push';
  repository: RepositoryRef;
  actor: Actor | null;
  changes: RefChange[];
}

/** `deleted`: gone for good (Data Center's pr:deleted; Bitbucket Cloud has no such event). */
export type PullRequestAction = 'opened' | 'updated' | 'merged' | 'declined' | 'deleted';

export interface PullRequestSide {
  branch: string;
  /**
   * Commit hash as the platform sent it. Bitbucket Cloud sends 12 characters in PR events:
   * resolve it to the full hash (see `isFullCommitHash`) before using it as a key.
   */
  commit: string | null;
  /** Null when the platform omits it (a deleted fork). */
  repository: RepositoryRef | null;
}

export interface PullRequestEvent extends EventEnvelope {
  type: 'pull_request';
  action: PullRequestAction;
  /** The destination repository: where results are published. */
  repository: RepositoryRef;
  actor: Actor | null;
  pullRequest: {
    id: number;
    title: string;
    state: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';
    draft: boolean;
    source: PullRequestSide;
    destination: PullRequestSide;
    mergeCommit: string | null;
    author: Actor | null;
  };
}

export type DomainEvent = PushEvent | PullRequestEvent;

export function isFullCommitHash(hash: string): boolean {
  return /^[0-9a-f]{40}$/.test(hash);
}

/** Job type for an event: stable strings the job runner switches on. */
export function jobTypeOf(event: DomainEvent): string {
  return event.type === 'push' ? 'event:push' : `event:pull_request:${event.action}`;
}

/**
 * Jobs in one group concern the same subject; a newer job may supersede an older queued one
 * (a PR updated twice before its first scan ran needs one scan, not two).
 */
export function jobGroupOf(event: DomainEvent): string | undefined {
  if (event.type === 'pull_request') return pullRequestGroup(event.repository.uuid, event.pullRequest.id);
  return undefined;
}

/** The job group of one pull request, for jobs that do not come from an event too. */
export function pullRequestGroup(repoUuid: string, prId: number): string {
  return `pull_request:${repoUuid}:${prId}`;
}
