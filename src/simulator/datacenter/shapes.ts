import type { CommitInfo, DiffstatEntry } from '../git.ts';
import type { DcComment, DcProject, DcPullRequest, DcRepository, DcUser } from './model.ts';

/**
 * Data Center's JSON shapes, for REST answers and webhook payloads alike (the payloads embed the
 * same repository, pull request and user objects), modelled on the real deliveries in
 * reference/payloads/datacenter/ and the OpenAPI description's schemas.
 */

export function user(u: DcUser, web: string): object {
  return { name: u.name, emailAddress: u.emailAddress, id: u.id, displayName: u.displayName, active: true, slug: u.slug, type: 'NORMAL', links: { self: [{ href: `${web}/users/${u.slug}` }] } };
}

export function project(p: DcProject, web: string): object {
  return { key: p.key, id: p.id, name: p.name, public: false, type: 'NORMAL', links: { self: [{ href: `${web}/projects/${p.key}` }] } };
}

export function repository(r: DcRepository, web: string): object {
  const path = `${web}/projects/${r.project.key}/repos/${r.slug}`;
  return {
    slug: r.slug,
    id: r.id,
    name: r.name,
    hierarchyId: `h${r.id.toString(16).padStart(19, '0')}`,
    scmId: 'git',
    state: 'AVAILABLE',
    statusMessage: 'Available',
    forkable: true,
    project: project(r.project, web),
    public: false,
    archived: false,
    links: { clone: [{ href: `${web}/scm/${r.project.key.toLowerCase()}/${r.slug}.git`, name: 'http' }], self: [{ href: `${path}/browse` }] },
  };
}

function ref(branch: string, hash: string, r: DcRepository, web: string): object {
  return { id: `refs/heads/${branch}`, displayId: branch, latestCommit: hash, type: 'BRANCH', repository: repository(r, web) };
}

export function pullRequest(pr: DcPullRequest, r: DcRepository, web: string): object {
  return {
    id: pr.id,
    version: pr.version,
    title: pr.title,
    description: pr.description,
    state: pr.state,
    open: pr.state === 'OPEN',
    closed: pr.state !== 'OPEN',
    createdDate: pr.createdDate,
    updatedDate: pr.updatedDate,
    ...(pr.closedDate === null ? {} : { closedDate: pr.closedDate }),
    fromRef: ref(pr.fromBranch, pr.fromHash, r, web),
    toRef: ref(pr.toBranch, pr.toHash, r, web),
    locked: false,
    author: { user: user(pr.author, web), role: 'AUTHOR', approved: false, status: 'UNAPPROVED' },
    reviewers: [],
    participants: [],
    ...(pr.mergeHash ? { properties: { mergeCommit: { displayId: pr.mergeHash.slice(0, 11), id: pr.mergeHash } } } : {}),
    links: { self: [{ href: `${web}/projects/${r.project.key}/repos/${r.slug}/pull-requests/${pr.id}` }] },
  };
}

export function comment(c: DcComment, r: DcRepository, web: string): object {
  return {
    properties: { repositoryId: r.id },
    id: c.id,
    version: c.version,
    text: c.text,
    author: user(c.author, web),
    createdDate: c.createdDate,
    updatedDate: c.updatedDate,
    comments: [],
    severity: 'NORMAL',
    state: 'OPEN',
  };
}

export function commit(info: CommitInfo): object {
  const who = { name: info.authorName, emailAddress: info.authorEmail };
  const at = Date.parse(info.date);
  return {
    id: info.hash,
    displayId: info.hash.slice(0, 11),
    author: who,
    authorTimestamp: at,
    committer: who,
    committerTimestamp: at,
    message: info.message,
    parents: info.parents.map((p) => ({ id: p, displayId: p.slice(0, 11) })),
  };
}

export function path(p: string): object {
  const components = p.split('/');
  const name = components.at(-1)!;
  const dot = name.lastIndexOf('.');
  return { components, parent: components.slice(0, -1).join('/'), name, ...(dot > 0 ? { extension: name.slice(dot + 1) } : {}), toString: p };
}

const CHANGE_TYPE = { added: 'ADD', removed: 'DELETE', modified: 'MODIFY', renamed: 'MOVE' } as const;

export function change(entry: DiffstatEntry): object {
  const now = entry.new?.path ?? entry.old!.path;
  return {
    contentId: '0'.repeat(40),
    path: path(now),
    ...(entry.status === 'renamed' && entry.old ? { srcPath: path(entry.old.path) } : {}),
    executable: false,
    percentUnchanged: -1,
    type: CHANGE_TYPE[entry.status],
    nodeType: 'FILE',
    properties: { gitChangeType: CHANGE_TYPE[entry.status] },
  };
}

/** One page of a collection: `start`/`limit` in, `isLastPage`/`nextPageStart` out. */
export function page<T>(all: readonly T[], query: URLSearchParams): object {
  const start = Math.max(0, Number(query.get('start') ?? 0) || 0);
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 25) || 25));
  const values = all.slice(start, start + limit);
  const isLastPage = start + values.length >= all.length;
  return { size: values.length, limit, isLastPage, values, start, ...(isLastPage ? {} : { nextPageStart: start + values.length }) };
}

export function errorBody(message: string, exceptionName?: string): { errors: object[] } {
  return { errors: [{ message, ...(exceptionName ? { exceptionName } : {}) }] };
}

/** Webhook dates: `2018-07-21T23:19:37+0000`, as the real deliveries write them. */
export function webhookDate(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, '+0000');
}

export function pullRequestPayload(eventKey: string, pr: DcPullRequest, r: DcRepository, actor: DcUser, web: string, at: Date): object {
  return { eventKey, date: webhookDate(at), actor: user(actor, web), pullRequest: pullRequest(pr, r, web) };
}

export interface RefChange {
  branch: string;
  fromHash: string | null;
  toHash: string | null;
}

const ZERO = '0'.repeat(40);

export function refsChangedPayload(r: DcRepository, changes: readonly RefChange[], actor: DcUser, web: string, at: Date): object {
  return {
    eventKey: 'repo:refs_changed',
    date: webhookDate(at),
    actor: user(actor, web),
    repository: repository(r, web),
    changes: changes.map((c) => ({
      ref: { id: `refs/heads/${c.branch}`, displayId: c.branch, type: 'BRANCH' },
      refId: `refs/heads/${c.branch}`,
      fromHash: c.fromHash ?? ZERO,
      toHash: c.toHash ?? ZERO,
      type: c.fromHash === null ? 'ADD' : c.toHash === null ? 'DELETE' : 'UPDATE',
    })),
  };
}
