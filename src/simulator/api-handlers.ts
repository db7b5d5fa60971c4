import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { ApiError } from './api-errors.ts';
import { braced, fullName } from './model.ts';
import type { Account, Installation, PullRequest, Report, Repository } from './model.ts';
import type { Site } from './site.ts';

/** The simulated `/2.0` endpoints, keyed by `method template` from the OpenAPI match. */

export interface ApiContext {
  site: Site;
  req: Request;
  res: Response;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  installation: Installation;
  url: URL;
  /** The user a user token acts for (Forge UI calls); absent for app tokens. */
  user?: Account;
}

type Handler = (ctx: ApiContext) => Promise<void> | void;

const R = '/repositories/{workspace}/{repo_slug}';

/** Code Insights limits Bitbucket enforces beyond the OpenAPI schema. */
export const INSIGHTS_LIMITS = { annotationsPerReport: 1000, summaryChars: 450, reportDataItems: 10 } as const;

const DEFAULT_PAGELEN = 10;
const MAX_PAGELEN = 100;

/** `toJson` maps only the page's items: a listing of 200,000 entries is not turned into JSON objects for every page. */
export function paginate<T>(ctx: ApiContext, items: T[], toJson: (item: T) => unknown = (item) => item): Record<string, unknown> {
  const pagelen = Number(ctx.query.get('pagelen') ?? DEFAULT_PAGELEN);
  if (pagelen > MAX_PAGELEN) throw new ApiError(400, `Invalid pagelen: the maximum is ${MAX_PAGELEN}`);
  const page = Number(ctx.query.get('page') ?? 1);
  const start = (page - 1) * pagelen;
  const answer: Record<string, unknown> = { pagelen, page, size: items.length, values: items.slice(start, start + pagelen).map(toJson) };
  const link = (p: number) => {
    const next = new URL(ctx.url);
    next.searchParams.set('page', String(p));
    return next.toString();
  };
  if (start + pagelen < items.length) answer.next = link(page + 1);
  if (page > 1) answer.previous = link(page - 1);
  return answer;
}

function repository(ctx: ApiContext): Repository {
  // Either may be a slug or a `{uuid}`, as the OpenAPI parameters describe.
  const ws = (ctx.params.workspace ?? '').toLowerCase();
  const slug = (ctx.params.repo_slug ?? '').toLowerCase();
  const repo = [...ctx.site.repositories.values()].find(
    (r) => (r.workspace.slug === ws || r.workspace.uuid === ws) && (r.slug === slug || r.uuid === slug),
  );
  // An installation only sees the workspace it is installed in.
  if (!repo || repo.workspace.uuid !== ctx.installation.principal.uuid) throw new ApiError(404, 'Repository not found');
  return repo;
}

function pullRequest(ctx: ApiContext, repo: Repository): PullRequest {
  const pr = repo.pullRequests.find((p) => String(p.id) === ctx.params.pull_request_id);
  if (!pr) throw new ApiError(404, 'Pull request not found');
  return pr;
}

/**
 * A commit of the repository. A fork's pull-request head is fetched into its destination for
 * the PR's diff, but is not the destination's commit: outside a diff (`inDiff`) the destination
 * answers 404 for it, as Bitbucket does for a fork's commit.
 */
async function commitOf(repo: Repository, rev: string | undefined, inDiff = false): Promise<string> {
  const hash = rev ? await repo.git.resolveCommit(rev) : null;
  const hidden = hash !== null && !inDiff && repo.pullRequests.some((p) => p.sourceRepository) && !(await repo.git.onBranch(hash));
  if (!hash || hidden) throw new ApiError(404, `Commit not found: ${rev ?? ''}`);
  return hash;
}

function bitbucketRule(ctx: ApiContext, reason: string): never {
  ctx.site.recordViolation({ kind: 'bitbucket-rule', method: ctx.req.method, url: ctx.req.originalUrl, reason });
  throw new ApiError(400, reason);
}

const boolParam = (ctx: ApiContext, name: string, fallback: boolean) => {
  const v = ctx.query.get(name);
  return v === null ? fallback : v === 'true';
};

/** Resolves a diff spec (`a`, `a..b`, or `ws/repo:a\rb` as in Bitbucket's own PR links) to git's from/to. */
async function diffRange(ctx: ApiContext, repo: Repository): Promise<{ from: string | null; to: string }> {
  if (ctx.query.has('merge') && ctx.query.has('topic')) throw new ApiError(400, 'The merge and topic parameters cannot both be used');
  let spec = ctx.params.spec ?? '';
  const cross = /^([^:]+):(.*)$/s.exec(spec);
  if (cross) {
    // The source side may be the repository itself or a fork of it (a pull request from a fork).
    const source = (cross[1] as string).toLowerCase();
    const known = [repo, ...[...ctx.site.repositories.values()].filter((r) => r.parent === repo)];
    if (!known.some((r) => fullName(r).toLowerCase() === source)) throw new ApiError(404, 'Source repository not found');
    spec = (cross[2] as string).replace('\r', '..');
  }
  const [sourceRev, destinationRev, ...rest] = spec.split('..');
  if (rest.length > 0) throw new ApiError(400, `Invalid diff spec: ${ctx.params.spec ?? ''}`);
  const source = await commitOf(repo, sourceRev, true);
  if (destinationRev === undefined) return { from: await repo.git.firstParent(source), to: source };
  const destination = await commitOf(repo, destinationRev, true);
  // Bitbucket's order is the opposite of git's: the first commit holds the changes.
  const topic = ctx.query.has('merge') ? boolParam(ctx, 'merge', true) : boolParam(ctx, 'topic', true);
  return { from: topic ? await repo.git.mergeBase(source, destination) : destination, to: source };
}

function prSpecUrl(ctx: ApiContext, repo: Repository, pr: PullRequest, kind: 'diff' | 'diffstat'): string {
  const spec = `${fullName(pr.sourceRepository ?? repo)}:${pr.sourceHash.slice(0, 12)}%0D${pr.destinationHash.slice(0, 12)}`;
  return `${ctx.site.origins.api}/2.0/repositories/${fullName(repo)}/${kind}/${spec}?from_pullrequest_id=${pr.id}&topic=true`;
}

/** A `commit_file` or `commit_directory` as the src endpoint describes them; a directory's self link ends in `/`. */
function srcEntry(ctx: ApiContext, repo: Repository, commit: string, entry: { path: string; type: 'blob' | 'tree'; size: number }) {
  const root = `${ctx.site.origins.api}/2.0/repositories/${fullName(repo)}/src/${commit}/`;
  const self = `${root}${entry.path.split('/').map(encodeURIComponent).join('/')}`;
  const common = { path: entry.path, commit: ctx.site.resources.commitRef(repo, commit) };
  if (entry.type === 'tree') {
    const dir = entry.path === '' ? root : `${self}/`;
    return { ...common, type: 'commit_directory', links: { self: { href: dir }, meta: { href: `${dir}?format=meta` } } };
  }
  return { ...common, type: 'commit_file', attributes: [], escaped_path: entry.path, size: entry.size, links: { self: { href: self }, meta: { href: `${self}?format=meta` } } };
}

function findReport(repo: Repository, commit: string, id: string): Report | undefined {
  return repo.reports.get(commit)?.find((r) => r.uuid === id || r.externalId === id);
}

function reportJson(ctx: ApiContext, repo: Repository, commit: string, r: Report) {
  return {
    ...r.body,
    type: 'report',
    uuid: r.uuid,
    external_id: r.externalId,
    commit_hash: commit,
    created_on: r.createdOn,
    updated_on: r.updatedOn,
    links: { self: { href: `${ctx.site.origins.api}/2.0/repositories/${fullName(repo)}/commit/${commit}/reports/${r.uuid}` } },
  };
}

const asRecord = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;

export const handlers: Record<string, Handler> = {
  'get /repositories/{workspace}': (ctx) => {
    const ws = ctx.params.workspace ?? '';
    if (ws.toLowerCase() !== ctx.installation.principal.slug.toLowerCase() && ws !== ctx.installation.principal.uuid) {
      throw new ApiError(404, 'Workspace not found');
    }
    const repos = [...ctx.site.repositories.values()].filter((r) => r.workspace.uuid === ctx.installation.principal.uuid);
    ctx.res.json(paginate(ctx, repos.map((r) => ctx.site.resources.repositoryFull(r))));
  },

  [`get ${R}`]: (ctx) => {
    ctx.res.json(ctx.site.resources.repositoryFull(repository(ctx)));
  },

  [`get ${R}/pullrequests/{pull_request_id}`]: (ctx) => {
    const repo = repository(ctx);
    ctx.res.json(ctx.site.resources.pullRequest(repo, pullRequest(ctx, repo)));
  },

  [`get ${R}/pullrequests/{pull_request_id}/diff`]: (ctx) => {
    const repo = repository(ctx);
    ctx.res.redirect(302, prSpecUrl(ctx, repo, pullRequest(ctx, repo), 'diff'));
  },

  [`get ${R}/pullrequests/{pull_request_id}/diffstat`]: (ctx) => {
    const repo = repository(ctx);
    ctx.res.redirect(302, prSpecUrl(ctx, repo, pullRequest(ctx, repo), 'diffstat'));
  },

  [`get ${R}/diff/{spec}`]: async (ctx) => {
    const repo = repository(ctx);
    const { from, to } = await diffRange(ctx, repo);
    const context = ctx.query.get('context');
    const diff = await repo.git.diff(from, to, {
      context: context === null ? 3 : Math.max(0, Number(context)),
      paths: ctx.query.getAll('path'),
      binary: boolParam(ctx, 'binary', true),
      renames: boolParam(ctx, 'renames', true),
      ignoreWhitespace: boolParam(ctx, 'ignore_whitespace', false),
    });
    ctx.res.type('text/plain').send(diff);
  },

  [`get ${R}/diffstat/{spec}`]: async (ctx) => {
    const repo = repository(ctx);
    const { from, to } = await diffRange(ctx, repo);
    const entries = await repo.git.diffstat(from, to, {
      paths: ctx.query.getAll('path'),
      renames: boolParam(ctx, 'renames', true),
      ignoreWhitespace: boolParam(ctx, 'ignore_whitespace', false),
    });
    const file = (f: { path: string } | null, commit: string | null) =>
      f && { path: f.path, type: 'commit_file', escaped_path: f.path, ...(commit ? { commit: ctx.site.resources.commitRef(repo, commit) } : {}) };
    const values = entries.map((e) => ({ type: 'diffstat', status: e.status, lines_added: e.lines_added, lines_removed: e.lines_removed, old: file(e.old, from), new: file(e.new, to) }));
    ctx.res.json(paginate(ctx, values));
  },

  [`get ${R}/refs/branches/{name}`]: async (ctx) => {
    const repo = repository(ctx);
    const name = ctx.params.name ?? '';
    const head = await repo.git.branchHead(name);
    if (!head) throw new ApiError(404, `Branch not found: ${name}`);
    ctx.res.json(ctx.site.resources.branch(repo, name, ctx.site.resources.commit(repo, await repo.git.commitInfo(head))));
  },

  [`get ${R}/commit/{commit}`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    ctx.res.json({ ...ctx.site.resources.commit(repo, await repo.git.commitInfo(hash)), repository: ctx.site.resources.repositoryRef(repo) });
  },

  [`get ${R}/src/{commit}/{path}`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const requested = ctx.params.path ?? '';
    // A trailing slash (and the root, which is only reachable with one) asks for a directory.
    const file = requested.replace(/\/+$/, '');
    let content: Buffer | null = null;
    if (file !== '' && file === requested) {
      try {
        content = await repo.git.show(hash, file);
      } catch {
        throw new ApiError(404, `No such file or directory: ${requested}`);
      }
    }
    if (content) {
      if (ctx.query.get('format') === 'meta') {
        ctx.res.json(srcEntry(ctx, repo, hash, { path: file, type: 'blob', size: content.length }));
      } else {
        ctx.res.type('application/octet-stream').send(content);
      }
      return;
    }
    const depth = Number(ctx.query.get('max_depth') ?? 1);
    if (!(depth >= 1)) throw new ApiError(400, 'max_depth must be at least 1');
    const listing = await repo.git.listDirectory(hash, file, depth).catch(() => null);
    if (!listing) throw new ApiError(404, `No such file or directory: ${requested}`);
    if (ctx.query.get('format') === 'meta') {
      ctx.res.json(srcEntry(ctx, repo, hash, { path: file, type: 'tree', size: 0 }));
      return;
    }
    ctx.res.json(paginate(ctx, listing, (e) => srcEntry(ctx, repo, hash, e)));
  },

  [`get ${R}/commit/{commit}/reports`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    ctx.res.json(paginate(ctx, (repo.reports.get(hash) ?? []).map((r) => reportJson(ctx, repo, hash, r))));
  },

  [`put ${R}/commit/{commit}/reports/{reportId}`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const body = asRecord(ctx.body);
    // Atlassian's Code Insights guide lists title, details and report_type as required; the
    // OpenAPI marks none of them required.
    for (const field of ['title', 'details', 'report_type']) {
      if (typeof body[field] !== 'string' || body[field] === '') bitbucketRule(ctx, `report field "${field}" is required`);
    }
    if (Array.isArray(body.data) && body.data.length > INSIGHTS_LIMITS.reportDataItems) {
      bitbucketRule(ctx, `a report takes at most ${INSIGHTS_LIMITS.reportDataItems} data items`);
    }
    const now = ctx.site.now().toISOString();
    const reportId = ctx.params.reportId ?? '';
    const existing = findReport(repo, hash, reportId);
    const { uuid: _ignoredUuid, ...fields } = body;
    if (existing) {
      existing.body = fields;
      existing.updatedOn = now;
      ctx.res.json(reportJson(ctx, repo, hash, existing));
      return;
    }
    const report: Report = { uuid: braced(), externalId: typeof body.external_id === 'string' ? body.external_id : reportId, body: fields, createdOn: now, updatedOn: now, annotations: [] };
    repo.reports.set(hash, [...(repo.reports.get(hash) ?? []), report]);
    ctx.res.json(reportJson(ctx, repo, hash, report));
  },

  [`get ${R}/commit/{commit}/reports/{reportId}`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const report = findReport(repo, hash, ctx.params.reportId ?? '');
    if (!report) throw new ApiError(404, 'Report not found');
    ctx.res.json(reportJson(ctx, repo, hash, report));
  },

  [`delete ${R}/commit/{commit}/reports/{reportId}`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const report = findReport(repo, hash, ctx.params.reportId ?? '');
    if (!report) throw new ApiError(404, 'Report not found');
    repo.reports.set(hash, (repo.reports.get(hash) ?? []).filter((r) => r !== report));
    ctx.res.status(204).end();
  },

  [`post ${R}/commit/{commit}/reports/{reportId}/annotations`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const report = findReport(repo, hash, ctx.params.reportId ?? '');
    if (!report) throw new ApiError(404, 'Report not found');
    const items = (ctx.body as unknown[]).map(asRecord);
    for (const item of items) {
      for (const field of ['annotation_type', 'summary']) {
        if (typeof item[field] !== 'string' || item[field] === '') bitbucketRule(ctx, `annotation field "${field}" is required`);
      }
      if ((item.summary as string).length > INSIGHTS_LIMITS.summaryChars) {
        bitbucketRule(ctx, `annotation summary is ${(item.summary as string).length} characters; the limit is ${INSIGHTS_LIMITS.summaryChars}`);
      }
    }
    const byId = new Map(report.annotations.map((a) => [a.externalId, a]));
    const incoming = items.map((item) => (typeof item.external_id === 'string' ? item.external_id : randomUUID()));
    const added = new Set(incoming.filter((id) => !byId.has(id))).size;
    if (report.annotations.length + added > INSIGHTS_LIMITS.annotationsPerReport) {
      bitbucketRule(ctx, `a report holds at most ${INSIGHTS_LIMITS.annotationsPerReport} annotations (has ${report.annotations.length}, adding ${added})`);
    }
    const now = ctx.site.now().toISOString();
    const saved = items.map((item, i) => {
      const externalId = incoming[i] as string;
      const { uuid: _ignoredUuid, ...fields } = item;
      const prior = byId.get(externalId);
      if (prior) {
        prior.body = fields;
        prior.updatedOn = now;
        return prior;
      }
      const annotation = { uuid: braced(), externalId, body: fields, createdOn: now, updatedOn: now };
      report.annotations.push(annotation);
      byId.set(externalId, annotation);
      return annotation;
    });
    ctx.res.json(saved.map((a) => ({ ...a.body, type: 'report_annotation', uuid: a.uuid, external_id: a.externalId, created_on: a.createdOn, updated_on: a.updatedOn })));
  },

  [`get ${R}/commit/{commit}/reports/{reportId}/annotations`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const report = findReport(repo, hash, ctx.params.reportId ?? '');
    if (!report) throw new ApiError(404, 'Report not found');
    ctx.res.json(paginate(ctx, report.annotations.map((a) => ({ ...a.body, type: 'report_annotation', uuid: a.uuid, external_id: a.externalId, created_on: a.createdOn, updated_on: a.updatedOn }))));
  },

  [`post ${R}/commit/{commit}/statuses/build`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const body = asRecord(ctx.body);
    const key = body.key as string;
    const statuses = repo.statuses.get(hash) ?? new Map();
    repo.statuses.set(hash, statuses);
    const now = ctx.site.now().toISOString();
    const prior = statuses.get(key);
    const status = { key, body, createdOn: prior?.createdOn ?? now, updatedOn: now };
    statuses.set(key, status);
    ctx.res.status(prior ? 200 : 201).json(ctx.site.resources.buildStatus(repo, hash, status));
  },

  [`get ${R}/commit/{commit}/statuses/build/{key}`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const status = repo.statuses.get(hash)?.get(ctx.params.key ?? '');
    if (!status) throw new ApiError(404, 'Build status not found');
    ctx.res.json(ctx.site.resources.buildStatus(repo, hash, status));
  },

  [`get ${R}/commit/{commit}/statuses`]: async (ctx) => {
    const repo = repository(ctx);
    const hash = await commitOf(repo, ctx.params.commit);
    const refname = ctx.query.get('refname');
    const all = [...(repo.statuses.get(hash)?.values() ?? [])].filter((s) => refname === null || s.body.refname === refname);
    ctx.res.json(paginate(ctx, all.map((s) => ctx.site.resources.buildStatus(repo, hash, s))));
  },

  [`get ${R}/pullrequests/{pull_request_id}/comments`]: (ctx) => {
    const repo = repository(ctx);
    const pr = pullRequest(ctx, repo);
    ctx.res.json(paginate(ctx, pr.comments.map((c) => ctx.site.resources.comment(repo, pr, c))));
  },

  [`post ${R}/pullrequests/{pull_request_id}/comments`]: (ctx) => {
    const repo = repository(ctx);
    const pr = pullRequest(ctx, repo);
    const body = asRecord(ctx.body);
    const raw = asRecord(body.content ?? {}).raw;
    if (typeof raw !== 'string' || raw === '') bitbucketRule(ctx, 'comment content.raw is required');
    const now = ctx.site.now().toISOString();
    const comment = {
      id: Math.max(0, ...repo.pullRequests.flatMap((p) => p.comments.map((c) => c.id))) + 1,
      raw,
      inline: (body.inline as Record<string, unknown> | undefined) ?? null,
      user: appAccount(ctx),
      createdOn: now,
      updatedOn: now,
    };
    pr.comments.push(comment);
    ctx.res.status(201).json(ctx.site.resources.comment(repo, pr, comment));
  },

  [`get ${R}/pullrequests/{pull_request_id}/comments/{comment_id}`]: (ctx) => {
    const repo = repository(ctx);
    const pr = pullRequest(ctx, repo);
    const comment = pr.comments.find((c) => String(c.id) === ctx.params.comment_id);
    if (!comment) throw new ApiError(404, 'Comment not found');
    ctx.res.json(ctx.site.resources.comment(repo, pr, comment));
  },

  [`put ${R}/pullrequests/{pull_request_id}/comments/{comment_id}`]: (ctx) => {
    const repo = repository(ctx);
    const pr = pullRequest(ctx, repo);
    const comment = pr.comments.find((c) => String(c.id) === ctx.params.comment_id);
    if (!comment) throw new ApiError(404, 'Comment not found');
    const raw = asRecord(asRecord(ctx.body).content ?? {}).raw;
    if (typeof raw !== 'string' || raw === '') bitbucketRule(ctx, 'comment content.raw is required');
    comment.raw = raw;
    comment.updatedOn = ctx.site.now().toISOString();
    ctx.res.json(ctx.site.resources.comment(repo, pr, comment));
  },

  [`delete ${R}/pullrequests/{pull_request_id}/comments/{comment_id}`]: (ctx) => {
    const repo = repository(ctx);
    const pr = pullRequest(ctx, repo);
    const before = pr.comments.length;
    pr.comments = pr.comments.filter((c) => String(c.id) !== ctx.params.comment_id);
    if (pr.comments.length === before) throw new ApiError(404, 'Comment not found');
    ctx.res.status(204).end();
  },
};

/** Comments an app posts appear under the app's own bot account. */
function appAccount(ctx: ApiContext) {
  return { uuid: `{${ctx.site.appKey}-bot}`, account_id: `app:${ctx.site.appKey}`, display_name: ctx.site.appKey, nickname: ctx.site.appKey };
}
