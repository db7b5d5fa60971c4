import { oauth2JwtAuth } from './auth/oauth2.ts';
import { bearerAuth, type BearerTokenSource } from './auth/bearer.ts';
import { jwtAuth } from './auth/jwt.ts';
import type { AuthStrategy } from './auth/types.ts';
import { BitbucketApiError, BitbucketInputError, BitbucketProtocolError } from './errors.ts';
import type {
  Branch,
  Commit,
  Commitstatus,
  Diffstat,
  Pullrequest,
  PullrequestComment,
  Report,
  ReportAnnotation,
  Repository,
} from './openapi-types.ts';
import { OriginAllowList } from './origin.ts';
import { paginate } from './paginate.ts';
import type { RetryPolicy } from './retry.ts';
import { transportWithDefaults, type HttpMethod, type Transport, type TransportOptions } from './transport.ts';

export { CLIENT_DEFAULTS } from './transport.ts';
import type {
  AnnotationInput,
  BuildStatusInput,
  CommentInput,
  DiffOptions,
  DiffTarget,
  ListRepositoriesOptions,
  ReportInput,
} from './types.ts';

interface CommonClientOptions extends TransportOptions {
  /** The installation's `baseApiUrl`, e.g. https://api.bitbucket.org. */
  baseApiUrl: string;
  /** BITBUCKET_API_URLS (FORGE_API_URLS for Forge): every API request, redirect and `next` link must stay within these. */
  allowedApiOrigins: readonly string[];
}

/** A Connect installation: requests signed with, or a token granted for, its shared secret. */
export interface ConnectClientOptions extends CommonClientOptions {
  appKey: string;
  clientKey: string;
  /** The installation's `baseUrl`, e.g. https://bitbucket.org (token endpoint for 'oauth2-jwt'). */
  baseUrl: string;
  sharedSecret: string;
  /** BITBUCKET_BASE_URLS: where the token endpoint may be. */
  allowedBaseOrigins: readonly string[];
  /** 'jwt': each request signed with the shared secret. 'oauth2-jwt': a cached access token from the JWT bearer grant. */
  auth: 'jwt' | 'oauth2-jwt';
}

/** A token issued elsewhere (Forge's app system token), sent as `Authorization: Bearer`. */
export interface BearerClientOptions extends CommonClientOptions {
  auth: 'bearer';
  bearerToken: BearerTokenSource;
  /** Records that Bitbucket refused this token; a refused request then waits (see bearerAuth). */
  onTokenRefused?: (token: string) => Promise<void>;
}

export type BitbucketClientOptions = ConnectClientOptions | BearerClientOptions;


/** Code Insights limits (BITBUCKET.md); checked before sending so the caller gets a clear error. */
export const MAX_ANNOTATIONS_PER_REQUEST = 100;
export const MAX_ANNOTATION_SUMMARY_LENGTH = 450;
export const MAX_REPORT_DATA = 10;

type QueryValue = string | number | boolean | readonly string[] | undefined;

export function createBitbucketClient(options: BitbucketClientOptions): BitbucketClient {
  return new BitbucketClient(options);
}

/**
 * The REST client for one installation. Every method signs (or authorises) each request for
 * that installation, stays within the allow-listed origins, and throws the typed errors of
 * errors.ts. List methods return async iterables that fetch pages lazily.
 */
export class BitbucketClient {
  private readonly transport: Transport;
  private readonly auth: AuthStrategy;
  private readonly apiAllow: OriginAllowList;
  private readonly apiBase: URL;

  constructor(options: BitbucketClientOptions) {
    if (options.auth !== 'jwt' && options.auth !== 'oauth2-jwt' && options.auth !== 'bearer') {
      throw new BitbucketInputError(`auth must be 'jwt', 'oauth2-jwt' or 'bearer', got ${JSON.stringify((options as { auth: unknown }).auth)}`);
    }
    this.apiAllow = new OriginAllowList(options.allowedApiOrigins, 'allowedApiOrigins');
    this.apiBase = this.apiAllow.check(options.baseApiUrl);

    const now = options.now ?? Date.now;
    this.transport = transportWithDefaults({ ...options, now });
    this.auth = options.auth === 'bearer' ? bearerAuth(options.bearerToken, options.onTokenRefused) : this.connectAuth(options, now);
  }

  private connectAuth(options: ConnectClientOptions, now: () => number): AuthStrategy {
    for (const key of ['appKey', 'clientKey', 'sharedSecret'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') throw new BitbucketInputError(`${key} must be a non-empty string`);
    }
    const baseAllow = new OriginAllowList(options.allowedBaseOrigins, 'allowedBaseOrigins');
    const base = baseAllow.check(options.baseUrl);
    const credentials = { appKey: options.appKey, clientKey: options.clientKey, sharedSecret: options.sharedSecret };
    if (options.auth === 'jwt') return jwtAuth(credentials, this.apiBase, now);
    return oauth2JwtAuth({
      credentials,
      baseUrl: base,
      now,
      exchange: async (url, auth, form) => {
        const body = { contentType: 'application/x-www-form-urlencoded', content: form.toString() };
        // Asking for a token twice only mints two tokens: safe to retry.
        const response = await this.transport.sendText({ method: 'POST', url, allow: baseAllow, auth, retry: 'idempotent', body });
        return response.text;
      },
    });
  }

  /**
   * Runs the JWT bearer grant now ('oauth2-jwt' clients only): resolves once Bitbucket has issued
   * an access token for these credentials, throws the typed errors otherwise. A grant signed with
   * a shared secret Bitbucket does not hold for the clientKey is refused, which is how an
   * unsigned install proves its secret is genuine.
   */
  async authenticate(): Promise<void> {
    if (this.auth.kind !== 'oauth2-jwt') throw new BitbucketInputError("authenticate() needs auth 'oauth2-jwt': a JWT client has no exchange to run");
    await this.auth.authorize('POST', this.apiBase);
  }

  /**
   * The `Authorization` header value of an access token ('oauth2-jwt' and 'bearer' clients), for
   * what takes a token rather than a signed request: git over HTTPS. Never logged by the caller.
   */
  async accessAuthorization(): Promise<string> {
    if (this.auth.kind === 'jwt') throw new BitbucketInputError("accessAuthorization() needs auth 'oauth2-jwt' or 'bearer': a JWT signs one request, it is no token");
    return this.auth.authorize('GET', this.apiBase);
  }

  async getPullRequest(workspace: string, repoSlug: string, id: number): Promise<Pullrequest> {
    return this.getJson(`${repoPath(workspace, repoSlug)}/pullrequests/${positiveInt(id, 'pull request id')}`);
  }

  /** Also resolves the 12-character hashes of pull-request payloads: the answer's `hash` is the full one. */
  async getCommit(workspace: string, repoSlug: string, hash: string): Promise<Commit> {
    return this.getJson(`${repoPath(workspace, repoSlug)}/commit/${commitHash(hash)}`);
  }

  /** The unified diff as text. For very large diffs prefer streamDiff. */
  async getDiff(workspace: string, repoSlug: string, target: DiffTarget, options: DiffOptions = {}): Promise<string> {
    const response = await this.transport.sendText(this.request('GET', this.diffUrl(workspace, repoSlug, 'diff', target, options), 'text/plain'));
    return response.text;
  }

  /**
   * The unified diff as a stream of bytes (UTF-8). The timeout then applies between chunks, so a
   * slow consumer is never cut off but a stalled server is. Cancel the stream to stop early.
   */
  async streamDiff(workspace: string, repoSlug: string, target: DiffTarget, options: DiffOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.transport.sendStream(this.request('GET', this.diffUrl(workspace, repoSlug, 'diff', target, options), 'text/plain'));
    return response.body;
  }

  /**
   * Per-file change summary. For a pull request target, Bitbucket redirects to `diffstat/{spec}`
   * and its Location decides the final query; `options` apply as sent.
   */
  getDiffstat(workspace: string, repoSlug: string, target: DiffTarget, options: DiffOptions = {}): AsyncGenerator<Diffstat> {
    return this.paginate(this.diffUrl(workspace, repoSlug, 'diffstat', target, options));
  }

  /**
   * Raw file contents as UTF-8 text; null when the file (or commit) does not exist. A file
   * larger than `maxBytes` is refused (BitbucketTooLargeError) without being read past it.
   */
  async getFileSource(workspace: string, repoSlug: string, commit: string, path: string, options: { maxBytes?: number } = {}): Promise<string | null> {
    const segments = path.split('/').filter((segment) => segment !== '');
    if (segments.length === 0) throw new BitbucketInputError('file path must not be empty');
    const url = this.apiUrl(`${repoPath(workspace, repoSlug)}/src/${commitHash(commit)}/${segments.map((s) => segment(s, 'file path')).join('/')}`);
    const request = { ...this.request('GET', url, '*/*'), ...(options.maxBytes !== undefined ? { maxBodyBytes: options.maxBytes } : {}) };
    return this.nullOn404(async () => (await this.transport.sendText(request)).text);
  }

  async getReport(workspace: string, repoSlug: string, commit: string, reportId: string): Promise<Report | null> {
    return this.nullOn404(() => this.getJson<Report>(reportPath(workspace, repoSlug, commit, reportId)));
  }

  /** Creates or replaces the report `reportId` on `commit` (PUT: retried safely). */
  async putReport(workspace: string, repoSlug: string, commit: string, reportId: string, report: ReportInput): Promise<Report> {
    if ((report.data?.length ?? 0) > MAX_REPORT_DATA) {
      throw new BitbucketInputError(`a report carries at most ${MAX_REPORT_DATA} data items, got ${report.data?.length}`);
    }
    return this.sendJson('PUT', this.apiUrl(reportPath(workspace, repoSlug, commit, reportId)), report, 'idempotent');
  }

  /** Deletes the report and its annotations. False when there was none. */
  async deleteReport(workspace: string, repoSlug: string, commit: string, reportId: string): Promise<boolean> {
    const url = this.apiUrl(reportPath(workspace, repoSlug, commit, reportId));
    const deleted = await this.nullOn404(async () => {
      await this.transport.sendText(this.request('DELETE', url));
      return true;
    });
    return deleted ?? false;
  }

  /**
   * Creates or updates 1 to 100 annotations (Bitbucket's per-request limit). Splitting larger
   * sets, and keeping a report under its 1,000-annotation cap, is the publisher's job: it knows
   * which findings matter most. Each annotation needs an `external_id`: Bitbucket upserts by it,
   * which is what makes retrying this POST safe.
   */
  async postAnnotations(workspace: string, repoSlug: string, commit: string, reportId: string, annotations: readonly AnnotationInput[]): Promise<ReportAnnotation[]> {
    if (annotations.length < 1 || annotations.length > MAX_ANNOTATIONS_PER_REQUEST) {
      throw new BitbucketInputError(`post 1 to ${MAX_ANNOTATIONS_PER_REQUEST} annotations per request, got ${annotations.length}`);
    }
    annotations.forEach((annotation, index) => {
      if (!annotation.external_id) throw new BitbucketInputError(`annotation ${index} has no external_id`);
      if (annotation.summary.length > MAX_ANNOTATION_SUMMARY_LENGTH) {
        throw new BitbucketInputError(`annotation ${annotation.external_id}: summary is ${annotation.summary.length} characters, Bitbucket rejects more than ${MAX_ANNOTATION_SUMMARY_LENGTH}`);
      }
      if (annotation.line !== undefined && !(Number.isInteger(annotation.line) && annotation.line >= 1)) {
        throw new BitbucketInputError(`annotation ${annotation.external_id}: line must be an integer >= 1 (omit it for a whole-file annotation)`);
      }
    });
    const url = this.apiUrl(`${reportPath(workspace, repoSlug, commit, reportId)}/annotations`);
    return this.sendJson('POST', url, annotations, 'idempotent');
  }

  /** Sets the build status `status.key` on `commit`; the same key overwrites, so retries are safe. */
  async postBuildStatus(workspace: string, repoSlug: string, commit: string, status: BuildStatusInput): Promise<Commitstatus> {
    const url = this.apiUrl(`${repoPath(workspace, repoSlug)}/commit/${commitHash(commit)}/statuses/build`);
    return this.sendJson('POST', url, status, 'idempotent');
  }

  listPullRequestComments(workspace: string, repoSlug: string, pullRequestId: number): AsyncGenerator<PullrequestComment> {
    return this.paginate(this.apiUrl(`${prPath(workspace, repoSlug, pullRequestId)}/comments`, { pagelen: 100 }));
  }

  /**
   * Posts a new comment. Not idempotent, so retried only when Bitbucket certainly did not act
   * (429, or no connection). After any other failure the comment may exist: list and look for it
   * before creating again.
   */
  async createPullRequestComment(workspace: string, repoSlug: string, pullRequestId: number, comment: CommentInput): Promise<PullrequestComment> {
    const url = this.apiUrl(`${prPath(workspace, repoSlug, pullRequestId)}/comments`);
    return this.sendJson('POST', url, commentBody(comment), 'at-most-once');
  }

  async updatePullRequestComment(workspace: string, repoSlug: string, pullRequestId: number, commentId: number, comment: CommentInput): Promise<PullrequestComment> {
    const url = this.apiUrl(`${prPath(workspace, repoSlug, pullRequestId)}/comments/${positiveInt(commentId, 'comment id')}`);
    return this.sendJson('PUT', url, commentBody(comment), 'idempotent');
  }

  listRepositories(workspace: string, options: ListRepositoriesOptions = {}): AsyncGenerator<Repository> {
    const { role, q, sort, pagelen = 100 } = options;
    return this.paginate(this.apiUrl(`/repositories/${segment(workspace, 'workspace')}`, { role, q, sort, pagelen }));
  }

  async getRepository(workspace: string, repoSlug: string): Promise<Repository> {
    return this.getJson(repoPath(workspace, repoSlug));
  }

  /** A branch with its head commit (`target.hash`); null when there is no such branch. */
  async getBranch(workspace: string, repoSlug: string, name: string): Promise<Branch | null> {
    // A slash in the name is encoded: the name stays one path segment.
    const path = `${repoPath(workspace, repoSlug)}/refs/branches/${segment(name, 'branch name')}`;
    return this.nullOn404(() => this.getJson<Branch>(path));
  }

  /** Any single resource under `/2.0`, e.g. `get('/user/workspaces/{uuid}/permission')`. */
  async get<T>(path: string): Promise<T> {
    return this.getJson<T>(path);
  }

  /** Any paginated collection under `/2.0`, e.g. `paginate('/repositories/ws/repo/refs/branches')`. */
  paginate<T>(path: string | URL, query: Record<string, QueryValue> = {}): AsyncGenerator<T> {
    const first = typeof path === 'string' ? this.apiUrl(path, query) : path;
    return paginate<T>(first, async (url) => parseJson(await this.transport.sendText(this.request('GET', url))), this.apiAllow);
  }

  private request(method: HttpMethod, url: URL, accept?: string, retry: RetryPolicy = 'idempotent') {
    return { method, url, allow: this.apiAllow, auth: this.auth, retry, accept };
  }

  private async getJson<T>(path: string): Promise<T> {
    return parseJson(await this.transport.sendText(this.request('GET', this.apiUrl(path)))) as T;
  }

  private async sendJson<T>(method: HttpMethod, url: URL, body: unknown, retry: RetryPolicy): Promise<T> {
    const request = { ...this.request(method, url, 'application/json', retry), body: { contentType: 'application/json', content: JSON.stringify(body) } };
    return parseJson(await this.transport.sendText(request), method) as T;
  }

  private async nullOn404<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof BitbucketApiError && error.status === 404) return null;
      throw error;
    }
  }

  private apiUrl(path: string, query: Record<string, QueryValue> = {}): URL {
    const url = new URL(`${this.apiBase.pathname.replace(/\/+$/, '')}/2.0${path}`, this.apiBase.origin);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
    return url;
  }

  private diffUrl(workspace: string, repoSlug: string, kind: 'diff' | 'diffstat', target: DiffTarget, options: DiffOptions): URL {
    const path =
      'pullRequestId' in target
        ? `${prPath(workspace, repoSlug, target.pullRequestId)}/${kind}`
        : `${repoPath(workspace, repoSlug)}/${kind}/${segment(target.spec, 'diff spec')}`;
    return this.apiUrl(path, {
      context: options.context,
      path: options.path === undefined ? undefined : [options.path].flat(),
      ignore_whitespace: options.ignoreWhitespace,
      binary: options.binary,
      renames: options.renames,
      topic: options.topic,
      merge: options.merge,
    });
  }
}

function parseJson(response: { text: string; status: number; url: URL }, method: HttpMethod = 'GET'): unknown {
  if (response.text === '') return undefined;
  try {
    return JSON.parse(response.text);
  } catch {
    throw new BitbucketProtocolError(method, response.url.pathname, `answered ${response.status} with a body that is not JSON`);
  }
}

/** One path segment, percent-encoded; `.`/`..` refused so no argument can walk the API path. */
function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') {
    throw new BitbucketInputError(`${what} must be a non-empty path segment, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new BitbucketInputError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function commitHash(value: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{7,40}$/i.test(value)) {
    throw new BitbucketInputError(`commit must be a 7 to 40 character hex hash, got ${JSON.stringify(value)}`);
  }
  return value;
}

const repoPath = (workspace: string, repoSlug: string) => `/repositories/${segment(workspace, 'workspace')}/${segment(repoSlug, 'repository slug')}`;
const prPath = (workspace: string, repoSlug: string, id: number) => `${repoPath(workspace, repoSlug)}/pullrequests/${positiveInt(id, 'pull request id')}`;
const reportPath = (workspace: string, repoSlug: string, commit: string, reportId: string) =>
  `${repoPath(workspace, repoSlug)}/commit/${commitHash(commit)}/reports/${segment(reportId, 'report id')}`;

function commentBody(comment: CommentInput): object {
  if (typeof comment.raw !== 'string' || comment.raw.trim() === '') throw new BitbucketInputError('comment text must not be empty');
  return comment.inline ? { content: { raw: comment.raw }, inline: comment.inline } : { content: { raw: comment.raw } };
}
