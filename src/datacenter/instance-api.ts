/**
 * The few Data Center REST calls registration makes: is the token good, what can it read,
 * and the webhooks it installs. Scans and publishing use the code host's full client
 * (src/codehost/datacenter/); these calls happen once, from the CLI or the admin API, with
 * an operator waiting for the answer, so each failure is turned into a sentence that says
 * what to fix. The token goes into the Authorization header and nowhere else: no message,
 * log line or error built here contains it.
 */

export type CheckProblem = 'unreachable' | 'unauthorized' | 'forbidden' | 'not_found' | 'not_bitbucket' | 'bad_answer';

export class InstanceCheckError extends Error {
  override name = 'InstanceCheckError';
  constructor(
    readonly problem: CheckProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface InstanceApiOptions {
  /** Normalised (instance.ts): no trailing slash. */
  baseUrl: string;
  token: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}

/** A project (`PROJ`, `~USER` for a personal one) or one repository of it. */
export interface WebhookTarget {
  project: string;
  repo?: string;
}

const PROJECT_KEY = /^~?[A-Za-z0-9_-]{1,128}$/;
const REPO_SLUG = /^[A-Za-z0-9._-]{1,128}$/;
const DEFAULT_TIMEOUT_MS = 15_000;
/** Answers read here are small JSON documents; anything bigger is not what we asked for. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const PAGE_LIMIT = 100;
/** Pages of webhooks read per scope before giving up (a scope with 10,000 webhooks is not one we manage). */
const MAX_PAGES = 100;

export const WEBHOOK_NAME = 'Gatehouse';
/** The events Gatehouse acts on (src/datacenter/events/); installed webhooks subscribe to exactly these. */
export const WEBHOOK_EVENTS = ['repo:refs_changed', 'pr:opened', 'pr:from_ref_updated', 'pr:modified', 'pr:merged', 'pr:declined', 'pr:deleted'] as const;

/** `PROJ,PROJ/repo,...` to targets; returns a reason instead for the first malformed one. */
export function parseWebhookTargets(value: string): { ok: true; targets: WebhookTarget[] } | { ok: false; reason: string } {
  const targets: WebhookTarget[] = [];
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [project, repo, extra] = item.split('/');
    if (extra !== undefined || !project || !PROJECT_KEY.test(project) || (repo !== undefined && !REPO_SLUG.test(repo))) {
      return { ok: false, reason: `${JSON.stringify(item)} is not PROJECT or PROJECT/REPO (a project key and a repository slug)` };
    }
    if (!targets.some((t) => t.project === project && t.repo === repo)) targets.push(repo === undefined ? { project } : { project, repo });
  }
  if (targets.length === 0) return { ok: false, reason: 'expected at least one PROJECT or PROJECT/REPO' };
  return { ok: true, targets };
}

export function describeTarget(target: WebhookTarget): string {
  return target.repo === undefined ? `project ${target.project}` : `repository ${target.project}/${target.repo}`;
}

function scopePath(target: WebhookTarget): string {
  const project = `/rest/api/latest/projects/${encodeURIComponent(target.project)}`;
  return target.repo === undefined ? project : `${project}/repos/${encodeURIComponent(target.repo)}`;
}

interface Answer {
  status: number;
  body: unknown;
}

async function call(o: InstanceApiOptions, method: string, path: string, body?: unknown): Promise<Answer> {
  const url = `${o.baseUrl}${path}`;
  let res: Response;
  try {
    res = await (o.fetch ?? globalThis.fetch)(url, {
      method,
      headers: {
        Authorization: `Bearer ${o.token}`,
        Accept: 'application/json',
        // Data Center refuses state-changing REST calls without it (XSRF check) from non-browser clients too.
        'X-Atlassian-Token': 'no-check',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // Only the registered base URL is ever called; a redirect is reported, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    throw new InstanceCheckError('unreachable', `cannot reach Data Center at ${o.baseUrl}: ${reasonOf(err)}`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    const location = res.headers.get('location');
    throw new InstanceCheckError(
      'bad_answer',
      `${o.baseUrl} answered ${method} ${path} with a redirect${location ? ` to ${location.split('?')[0]}` : ''}; register the base URL it redirects to`,
    );
  }
  const text = await boundedText(res);
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  return { status: res.status, body: parsed };
}

async function boundedText(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new InstanceCheckError('bad_answer', `Data Center answered with more than ${MAX_ANSWER_BYTES} bytes where a small JSON document was expected`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reasonOf(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer in time';
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** The first error message Data Center put in its `{"errors":[{"message"}]}` body, if any. */
function messageOf(body: unknown): string {
  const errors = (body as { errors?: { message?: unknown }[] } | null)?.errors;
  const first = Array.isArray(errors) ? errors[0]?.message : undefined;
  return typeof first === 'string' ? `: ${first.slice(0, 300)}` : '';
}

function denied(status: number, what: string, needs: string): InstanceCheckError {
  return new InstanceCheckError('forbidden', `the token cannot ${what} (HTTP ${status}): it needs ${needs}`);
}

/**
 * Checks the token before anything is stored: it is accepted (application-properties with
 * the token: a revoked or mistyped one is 401 there, though the resource itself is public),
 * and it can read what Gatehouse will scan. With targets, each project or repository is read;
 * without, at least one repository must be readable. Resolves to the Data Center version.
 */
export async function checkToken(o: InstanceApiOptions, targets: readonly WebhookTarget[] = []): Promise<{ version: string }> {
  const props = await call(o, 'GET', '/rest/api/latest/application-properties');
  if (props.status === 401) {
    throw new InstanceCheckError('unauthorized', `Data Center at ${o.baseUrl} rejected the token (HTTP 401): it is mistyped, expired or revoked`);
  }
  const version = (props.body as { version?: unknown } | null)?.version;
  if (props.status !== 200 || typeof version !== 'string') {
    throw new InstanceCheckError('not_bitbucket', `${o.baseUrl}/rest/api/latest/application-properties answered HTTP ${props.status} without a Bitbucket version; is this the base URL of a Bitbucket Data Center instance?`);
  }
  if (targets.length === 0) {
    const repos = await call(o, 'GET', `/rest/api/latest/repos?limit=1&permission=REPO_READ`);
    if (repos.status === 401 || repos.status === 403) throw denied(repos.status, 'list repositories', 'Repository read');
    if (repos.status !== 200) throw new InstanceCheckError('bad_answer', `listing repositories answered HTTP ${repos.status}${messageOf(repos.body)}`);
    const size = (repos.body as { size?: unknown; values?: unknown[] } | null)?.values?.length ?? 0;
    if (size === 0) throw new InstanceCheckError('forbidden', 'the token can read no repository: give it Repository read on the projects or repositories to scan');
  }
  for (const target of targets) {
    const path = target.repo === undefined ? `${scopePath(target)}/repos?limit=1` : scopePath(target);
    const answer = await call(o, 'GET', path);
    if (answer.status === 401 || answer.status === 403) throw denied(answer.status, `read ${describeTarget(target)}`, target.repo === undefined ? 'Project read' : 'Repository read');
    if (answer.status === 404) throw new InstanceCheckError('not_found', `${describeTarget(target)} does not exist on ${o.baseUrl} (or the token cannot see it)`);
    if (answer.status !== 200) throw new InstanceCheckError('bad_answer', `reading ${describeTarget(target)} answered HTTP ${answer.status}${messageOf(answer.body)}`);
  }
  return { version };
}

interface Webhook {
  id: number;
  name?: string;
  url?: string;
}

async function listWebhooks(o: InstanceApiOptions, target: WebhookTarget): Promise<Webhook[]> {
  const found: Webhook[] = [];
  let start = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await call(o, 'GET', `${scopePath(target)}/webhooks?start=${start}&limit=${PAGE_LIMIT}`);
    if (answer.status === 401 || answer.status === 403) {
      throw denied(answer.status, `manage the webhooks of ${describeTarget(target)}`, target.repo === undefined ? 'Project admin' : 'Repository admin');
    }
    if (answer.status === 404) throw new InstanceCheckError('not_found', `${describeTarget(target)} does not exist on ${o.baseUrl}`);
    if (answer.status !== 200) throw new InstanceCheckError('bad_answer', `listing the webhooks of ${describeTarget(target)} answered HTTP ${answer.status}${messageOf(answer.body)}`);
    const body = answer.body as { values?: unknown; isLastPage?: unknown; nextPageStart?: unknown } | null;
    for (const value of Array.isArray(body?.values) ? body.values : []) {
      const hook = value as Partial<Webhook>;
      if (typeof hook.id === 'number') found.push(hook as Webhook);
    }
    if (body?.isLastPage !== false || typeof body.nextPageStart !== 'number' || body.nextPageStart <= start) return found;
    start = body.nextPageStart;
  }
  return found;
}

export interface WebhookSpec {
  /** This instance's webhook URL. */
  url: string;
  /** Webhooks whose URL starts with this are Gatehouse's (an earlier registration of the same instance name). */
  ownedUrlPrefix: string;
  secret: string;
}

export interface InstalledWebhook {
  target: string;
  action: 'created' | 'updated';
  webhookId: number;
}

/**
 * Creates the Gatehouse webhook on each project or repository, or updates the one already
 * there (same URL, or Gatehouse's name and a Gatehouse webhook URL from an earlier
 * registration), so running it again never adds a second. Further copies of ours in the
 * same scope are deleted: each would deliver every event again.
 */
export async function installWebhooks(o: InstanceApiOptions, targets: readonly WebhookTarget[], spec: WebhookSpec): Promise<InstalledWebhook[]> {
  const body = { name: WEBHOOK_NAME, url: spec.url, active: true, events: [...WEBHOOK_EVENTS], configuration: { secret: spec.secret } };
  const installed: InstalledWebhook[] = [];
  for (const target of targets) {
    const existing = await listWebhooks(o, target);
    const ours = existing.filter((h) => h.url === spec.url || (h.name === WEBHOOK_NAME && typeof h.url === 'string' && h.url.startsWith(spec.ownedUrlPrefix)));
    const [keep, ...extra] = ours.sort((a, b) => Number(b.url === spec.url) - Number(a.url === spec.url));
    const where = `${scopePath(target)}/webhooks`;
    const answer = keep ? await call(o, 'PUT', `${where}/${keep.id}`, body) : await call(o, 'POST', where, body);
    if (answer.status === 401 || answer.status === 403) {
      throw denied(answer.status, `manage the webhooks of ${describeTarget(target)}`, target.repo === undefined ? 'Project admin' : 'Repository admin');
    }
    if (answer.status !== 200 && answer.status !== 201) {
      throw new InstanceCheckError('bad_answer', `${keep ? 'updating' : 'creating'} the webhook of ${describeTarget(target)} answered HTTP ${answer.status}${messageOf(answer.body)}`);
    }
    const id = keep?.id ?? (answer.body as { id?: unknown } | null)?.id;
    for (const hook of extra) {
      const removed = await call(o, 'DELETE', `${where}/${hook.id}`);
      if (removed.status >= 300 && removed.status !== 404) {
        throw new InstanceCheckError('bad_answer', `removing a duplicate Gatehouse webhook (${hook.id}) of ${describeTarget(target)} answered HTTP ${removed.status}`);
      }
    }
    installed.push({ target: target.repo === undefined ? target.project : `${target.project}/${target.repo}`, action: keep ? 'updated' : 'created', webhookId: typeof id === 'number' ? id : -1 });
  }
  return installed;
}
