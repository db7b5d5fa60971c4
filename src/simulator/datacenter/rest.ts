import type { DcComment, DcPermission, DcPullRequest, DcRepository, DcUser, DcWebhook } from './model.ts';
import * as shape from './shapes.ts';

/**
 * The REST operations the local Data Center serves, keyed by the OpenAPI template they
 * implement (`METHOD /path/template`, relative to `/rest`). The server (server.ts) has already
 * matched the template, checked the token and the request against the description; a handler
 * answers from the state, and its answer is checked against the description in turn.
 */

export interface DcState {
  readonly webBase: string;
  readonly user: DcUser;
  now(): Date;
  repositories(): DcRepository[];
  findRepository(projectKey: string, slug: string): DcRepository | undefined;
  webhooks: DcWebhook[];
  nextId(kind: 'comment' | 'webhook'): number;
}

export interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** Projects the caller's token may see (undefined: all). */
  projects: readonly string[] | undefined;
}

export interface Answer {
  status: number;
  json?: unknown;
  text?: string | Buffer;
}

export interface Operation {
  /** What the token must hold; null: any valid token (application-properties). */
  permission: DcPermission | null;
  handle(state: DcState, call: Call): Promise<Answer>;
}

const NOT_FOUND = (message: string, exceptionName: string): Answer => ({ status: 404, json: shape.errorBody(message, `com.atlassian.bitbucket.${exceptionName}`) });
const BAD_REQUEST = (message: string): Answer => ({ status: 400, json: shape.errorBody(message, 'com.atlassian.bitbucket.validation.ArgumentValidationException') });

class Refusal extends Error {
  constructor(readonly answer: Answer) {
    super('refused');
  }
}

function repoOf(state: DcState, call: Call): DcRepository {
  const repo = state.findRepository(call.params.projectKey ?? '', call.params.repositorySlug ?? '');
  if (!repo || (call.projects && !call.projects.includes(repo.project.key))) {
    throw new Refusal(NOT_FOUND(`Repository ${call.params.projectKey}/${call.params.repositorySlug} does not exist.`, 'repository.NoSuchRepositoryException'));
  }
  return repo;
}

function pullRequestOf(state: DcState, call: Call): { repo: DcRepository; pr: DcPullRequest } {
  const repo = repoOf(state, call);
  const pr = repo.pullRequests.find((p) => String(p.id) === call.params.pullRequestId && !p.deleted);
  if (!pr) throw new Refusal(NOT_FOUND(`Pull request ${call.params.pullRequestId} does not exist in ${repo.project.key}/${repo.slug}.`, 'pull.NoSuchPullRequestException'));
  return { repo, pr };
}

function commentOf(call: Call, pr: DcPullRequest): DcComment {
  const found = pr.comments.find((c) => String(c.id) === call.params.commentId);
  if (!found) throw new Refusal(NOT_FOUND(`Comment ${call.params.commentId} does not exist.`, 'comment.NoSuchCommentException'));
  return found;
}

/** A commit id or ref name (`at=`, `until=`): resolved in the repository, or 404. */
async function commitOf(repo: DcRepository, rev: string | null | undefined): Promise<string> {
  const name = rev ?? repo.defaultBranch;
  const branch = name.startsWith('refs/heads/') ? name.slice('refs/heads/'.length) : name;
  const hash = (await repo.git.resolveCommit(name)) ?? (await repo.git.branchHead(branch));
  if (!hash) throw new Refusal(NOT_FOUND(`Commit '${name}' does not exist in repository '${repo.slug}'.`, 'commit.NoSuchCommitException'));
  return hash;
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(BAD_REQUEST('A JSON object is required.'));
  return body as Record<string, unknown>;
}

async function prDiffBase(repo: DcRepository, pr: DcPullRequest): Promise<string> {
  return (await repo.git.mergeBase(pr.toHash, pr.fromHash)) ?? pr.toHash;
}

function reportJson(report: { key: string; body: Record<string, unknown>; createdDate: number }): object {
  const b = report.body;
  return { key: report.key, title: b.title, ...pick(b, ['details', 'result', 'reporter', 'link', 'logoUrl']), data: b.data ?? [], createdDate: report.createdDate };
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

function webhookJson(h: DcWebhook): object {
  return { id: h.id, name: h.name, url: h.url, active: h.active, events: h.events, configuration: h.secret === undefined ? {} : { secret: h.secret }, scopeType: h.scope.includes('/') ? 'repository' : 'project', sslVerificationRequired: true };
}

/** The most annotations one report holds, as on Data Center. */
export const MAX_ANNOTATIONS = 1000;

const API = '/api/latest/projects/{projectKey}/repos/{repositorySlug}';
const PR = `${API}/pull-requests/{pullRequestId}`;
const REPORT = '/insights/latest/projects/{projectKey}/repos/{repositorySlug}/commits/{commitId}/reports/{key}';

function webhookRoutes(scopeTemplate: string, permission: DcPermission): Record<string, Operation> {
  const scopeOf = (state: DcState, call: Call): string => {
    if (call.params.repositorySlug === undefined) {
      const key = call.params.projectKey ?? '';
      if (!state.repositories().some((r) => r.project.key === key) || (call.projects && !call.projects.includes(key))) {
        throw new Refusal(NOT_FOUND(`Project ${key} does not exist.`, 'project.NoSuchProjectException'));
      }
      return key;
    }
    const repo = repoOf(state, call);
    return `${repo.project.key}/${repo.slug}`;
  };
  const hookOf = (state: DcState, call: Call): DcWebhook => {
    const scope = scopeOf(state, call);
    const hook = state.webhooks.find((h) => h.scope === scope && String(h.id) === call.params.webhookId);
    if (!hook) throw new Refusal(NOT_FOUND(`Webhook ${call.params.webhookId} does not exist.`, 'webhook.NoSuchWebhookException'));
    return hook;
  };
  const fields = (body: unknown) => {
    const b = object(body);
    if (typeof b.url !== 'string' || !/^https?:\/\//.test(b.url)) throw new Refusal(BAD_REQUEST('url: an http(s) URL is required.'));
    if (!Array.isArray(b.events) || b.events.some((e) => typeof e !== 'string')) throw new Refusal(BAD_REQUEST('events: a list of event keys is required.'));
    const secret = (b.configuration as { secret?: unknown } | undefined)?.secret;
    return { name: typeof b.name === 'string' ? b.name : 'webhook', url: b.url, active: b.active !== false, events: b.events as string[], secret: typeof secret === 'string' ? secret : undefined };
  };
  return {
    [`GET ${scopeTemplate}/webhooks`]: {
      permission,
      async handle(state, call) {
        const scope = scopeOf(state, call);
        return { status: 200, json: shape.page(state.webhooks.filter((h) => h.scope === scope).map(webhookJson), call.query) };
      },
    },
    [`POST ${scopeTemplate}/webhooks`]: {
      permission,
      async handle(state, call) {
        const hook: DcWebhook = { id: state.nextId('webhook'), scope: scopeOf(state, call), ...fields(call.body) };
        state.webhooks.push(hook);
        return { status: 200, json: webhookJson(hook) };
      },
    },
    [`PUT ${scopeTemplate}/webhooks/{webhookId}`]: {
      permission,
      async handle(state, call) {
        const hook = hookOf(state, call);
        Object.assign(hook, fields(call.body));
        return { status: 200, json: webhookJson(hook) };
      },
    },
    [`DELETE ${scopeTemplate}/webhooks/{webhookId}`]: {
      permission,
      async handle(state, call) {
        const hook = hookOf(state, call);
        state.webhooks.splice(state.webhooks.indexOf(hook), 1);
        return { status: 204 };
      },
    },
  };
}

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'GET /api/latest/application-properties': {
    permission: null,
    async handle() {
      return { status: 200, json: { version: '9.4.0', buildNumber: '9004000', buildDate: '1718000000000', displayName: 'Bitbucket' } };
    },
  },

  'GET /api/latest/repos': {
    permission: 'REPO_READ',
    async handle(state, call) {
      const visible = state.repositories().filter((r) => !call.projects || call.projects.includes(r.project.key));
      return { status: 200, json: shape.page(visible.map((r) => shape.repository(r, state.webBase)), call.query) };
    },
  },

  'GET /api/latest/projects/{projectKey}/repos': {
    permission: 'REPO_READ',
    async handle(state, call) {
      const key = call.params.projectKey;
      const repos = state.repositories().filter((r) => r.project.key === key && (!call.projects || call.projects.includes(key!)));
      if (repos.length === 0) return NOT_FOUND(`Project ${key} does not exist.`, 'project.NoSuchProjectException');
      return { status: 200, json: shape.page(repos.map((r) => shape.repository(r, state.webBase)), call.query) };
    },
  },

  [`GET ${API}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      return { status: 200, json: shape.repository(repoOf(state, call), state.webBase) };
    },
  },

  [`GET ${API}/default-branch`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      return { status: 200, json: { id: `refs/heads/${repo.defaultBranch}`, displayId: repo.defaultBranch, type: 'BRANCH' } };
    },
  },

  [`GET ${PR}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      return { status: 200, json: shape.pullRequest(pr, repo, state.webBase) };
    },
  },

  [`GET ${PR}.diff`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      return { status: 200, text: await repo.git.diff(await prDiffBase(repo, pr), pr.fromHash) };
    },
  },

  [`GET ${PR}/changes`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      const entries = await repo.git.diffstat(await prDiffBase(repo, pr), pr.fromHash);
      return { status: 200, json: shape.page(entries.map(shape.change), call.query) };
    },
  },

  [`GET ${PR}/activities`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      // Newest first; a comment's activity carries its current text and version.
      const activities = [...pr.comments].reverse().map((c) => ({ id: c.id * 10, createdDate: c.createdDate, user: shape.user(c.author, state.webBase), action: 'COMMENTED', commentAction: 'ADDED', comment: shape.comment(c, repo, state.webBase) }));
      activities.push({ id: pr.id * 10 + 1, createdDate: pr.createdDate, user: shape.user(pr.author, state.webBase), action: 'OPENED' } as (typeof activities)[number]);
      return { status: 200, json: shape.page(activities, call.query) };
    },
  },

  [`POST ${PR}/comments`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      const text = object(call.body).text;
      if (typeof text !== 'string' || text.trim() === '') return BAD_REQUEST('text: a comment needs text.');
      const at = state.now().getTime();
      const created: DcComment = { id: state.nextId('comment'), version: 0, text, author: state.user, createdDate: at, updatedDate: at };
      pr.comments.push(created);
      return { status: 201, json: shape.comment(created, repo, state.webBase) };
    },
  },

  [`GET ${PR}/comments/{commentId}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      return { status: 200, json: shape.comment(commentOf(call, pr), repo, state.webBase) };
    },
  },

  [`PUT ${PR}/comments/{commentId}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, pr } = pullRequestOf(state, call);
      const found = commentOf(call, pr);
      const body = object(call.body);
      if (typeof body.text !== 'string' || body.text.trim() === '') return BAD_REQUEST('text: a comment needs text.');
      if (body.version !== found.version) {
        return {
          status: 409,
          json: shape.errorBody(`You are attempting to modify a comment based on out-of-date information (version ${String(body.version)}; it is at ${found.version}).`, 'com.atlassian.bitbucket.comment.CommentOutOfDateException'),
        };
      }
      Object.assign(found, { text: body.text, version: found.version + 1, updatedDate: state.now().getTime() });
      return { status: 200, json: shape.comment(found, repo, state.webBase) };
    },
  },

  // Newest first from `until` (a commit or a ref; the default branch without one), along first
  // parents: enough for the page sizes the app asks for (the head of a branch, limit=1).
  [`GET ${API}/commits`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const start = Math.max(0, Number(call.query.get('start') ?? 0) || 0);
      const limit = Math.min(1000, Math.max(1, Number(call.query.get('limit') ?? 25) || 25));
      const commits = [];
      for (let hash: string | null = await commitOf(repo, call.query.get('until')); hash && commits.length < start + limit + 1; hash = await repo.git.firstParent(hash)) {
        commits.push(shape.commit(await repo.git.commitInfo(hash)));
      }
      return { status: 200, json: shape.page(commits, call.query) };
    },
  },

  [`GET ${API}/commits/{commitId}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const hash = await repo.git.resolveCommit(call.params.commitId ?? '');
      if (!hash) return NOT_FOUND(`Commit '${call.params.commitId}' does not exist in repository '${repo.slug}'.`, 'commit.NoSuchCommitException');
      return { status: 200, json: shape.commit(await repo.git.commitInfo(hash)) };
    },
  },

  [`GET ${API}/commits/{commitId}/merge-base`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const a = await commitOf(repo, call.params.commitId);
      const b = await commitOf(repo, call.query.get('otherCommitId'));
      const base = await repo.git.mergeBase(a, b);
      return base ? { status: 200, json: shape.commit(await repo.git.commitInfo(base)) } : { status: 204 };
    },
  },

  [`GET ${API}/commits/{commitId}/changes`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const until = await commitOf(repo, call.params.commitId);
      const since = call.query.get('since') ? await commitOf(repo, call.query.get('since')) : await repo.git.firstParent(until);
      return { status: 200, json: shape.page((await repo.git.diffstat(since, until)).map(shape.change), call.query) };
    },
  },

  [`GET ${API}/diff`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const until = await commitOf(repo, call.query.get('until'));
      const since = call.query.get('since') ? await commitOf(repo, call.query.get('since')) : await repo.git.firstParent(until);
      return { status: 200, text: await repo.git.diff(since, until) };
    },
  },

  [`GET ${API}/raw/{path}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const at = await commitOf(repo, call.query.get('at'));
      const content = await repo.git.show(at, call.params.path ?? '').catch(() => null);
      if (content === null) return NOT_FOUND(`The path "${call.params.path}" does not exist at revision "${at}"`, 'content.NoSuchPathException');
      return { status: 200, text: content };
    },
  },

  [`GET ${API}/browse`]: { permission: 'REPO_READ', handle: (state, call) => browse(state, call, '') },
  [`GET ${API}/browse/{path}`]: { permission: 'REPO_READ', handle: (state, call) => browse(state, call, call.params.path ?? '') },

  [`POST ${API}/commits/{commitId}/builds`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const hash = await commitOf(repo, call.params.commitId);
      const body = object(call.body);
      const key = String(body.key);
      const builds = repo.builds.get(hash) ?? new Map();
      builds.set(key, { key, body, dateAdded: state.now().getTime() });
      repo.builds.set(hash, builds);
      return { status: 204 };
    },
  },

  [`GET ${API}/commits/{commitId}/builds`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const hash = await commitOf(repo, call.params.commitId);
      const statuses = [...(repo.builds.get(hash)?.values() ?? [])].map((b) => ({ ...b.body, dateAdded: b.dateAdded }));
      return { status: 200, json: shape.page(statuses, call.query) };
    },
  },

  [`PUT ${REPORT}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const repo = repoOf(state, call);
      const hash = await commitOf(repo, call.params.commitId);
      const key = call.params.key ?? '';
      const reports = repo.reports.get(hash) ?? new Map();
      // Replacing a report drops its annotations, as on Data Center.
      const report = { key, body: object(call.body), annotations: [], createdDate: state.now().getTime() };
      reports.set(key, report);
      repo.reports.set(hash, reports);
      return { status: 200, json: reportJson(report) };
    },
  },

  [`GET ${REPORT}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { report } = await reportOf(state, call);
      return { status: 200, json: reportJson(report) };
    },
  },

  [`DELETE ${REPORT}`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { repo, hash } = await reportOf(state, call);
      repo.reports.get(hash)?.delete(call.params.key ?? '');
      return { status: 204 };
    },
  },

  [`POST ${REPORT}/annotations`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { report } = await reportOf(state, call);
      const added = object(call.body).annotations as Record<string, unknown>[];
      if (report.annotations.length + added.length > MAX_ANNOTATIONS) {
        return BAD_REQUEST(`A report can have at most ${MAX_ANNOTATIONS} annotations; it has ${report.annotations.length} and ${added.length} were added.`);
      }
      for (const a of added) {
        const at = a.externalId === undefined ? -1 : report.annotations.findIndex((b) => b.externalId === a.externalId);
        if (at === -1) report.annotations.push(a);
        else report.annotations[at] = a;
      }
      return { status: 204 };
    },
  },

  [`DELETE ${REPORT}/annotations`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { report } = await reportOf(state, call);
      const only = call.query.getAll('externalId');
      report.annotations = only.length === 0 ? [] : report.annotations.filter((a) => !only.includes(String(a.externalId)));
      return { status: 204 };
    },
  },

  [`GET ${REPORT}/annotations`]: {
    permission: 'REPO_READ',
    async handle(state, call) {
      const { report } = await reportOf(state, call);
      return { status: 200, json: { totalCount: report.annotations.length, annotations: report.annotations.map((a) => ({ ...a, reportKey: report.key })) } };
    },
  },

  ...webhookRoutes('/api/latest/projects/{projectKey}', 'PROJECT_ADMIN'),
  ...webhookRoutes(API, 'REPO_ADMIN'),
};

async function reportOf(state: DcState, call: Call) {
  const repo = repoOf(state, call);
  const hash = await commitOf(repo, call.params.commitId);
  const report = repo.reports.get(hash)?.get(call.params.key ?? '');
  if (!report) throw new Refusal(NOT_FOUND(`No insight report with key '${call.params.key}' exists on commit ${hash}.`, 'insights.NoSuchInsightReportException'));
  return { repo, hash, report };
}

async function browse(state: DcState, call: Call, dir: string): Promise<Answer> {
  const repo = repoOf(state, call);
  const at = await commitOf(repo, call.query.get('at'));
  const entries = await repo.git.listDirectory(at, dir);
  if (entries === null) return NOT_FOUND(`The path "${dir}" does not exist at revision "${at}"`, 'content.NoSuchPathException');
  const prefix = dir === '' ? '' : `${dir.replace(/\/+$/, '')}/`;
  const children = entries.map((e) => ({ path: shape.path(e.path.slice(prefix.length)), type: e.type === 'tree' ? 'DIRECTORY' : 'FILE', ...(e.type === 'blob' ? { size: e.size } : {}) }));
  return { status: 200, json: { path: shape.path(dir === '' ? '' : dir), revision: at, children: shape.page(children, call.query) } };
}

/** Runs an operation, turning a refusal thrown on the way (no such repository...) into its answer. */
export async function run(operation: Operation, state: DcState, call: Call): Promise<Answer> {
  try {
    return await operation.handle(state, call);
  } catch (error) {
    if (error instanceof Refusal) return error.answer;
    throw error;
  }
}
