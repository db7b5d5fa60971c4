import type { z } from 'zod';
import { bearerAuth } from '../../bitbucket/auth/bearer.ts';
import type { AuthStrategy } from '../../bitbucket/auth/types.ts';
import { BitbucketApiError, BitbucketInputError, BitbucketOriginError, BitbucketProtocolError } from '../../bitbucket/errors.ts';
import { OriginAllowList } from '../../bitbucket/origin.ts';
import type { RetryPolicy } from '../../bitbucket/retry.ts';
import { transportWithDefaults, type HttpMethod, type Transport, type TransportOptions } from '../../bitbucket/transport.ts';
import { TenantCredentialsRejectedError } from '../../core/code-host.ts';
import { pageSchema } from './schemas.ts';

export interface DatacenterClientOptions extends TransportOptions {
  /** The instance's registered base URL, e.g. https://bitbucket.example.com or http://10.0.0.5:7990/bitbucket. */
  baseUrl: string;
  /** An HTTP access token (project, repository or personal). Never logged, never in an error. */
  token: string;
  /** `datacenter:<instanceId>`: named in the error a revoked token raises. */
  tenantKey: string;
  /** Told once per refusal, before the error is thrown: where the instance's status is recorded. */
  onCredentialsRejected?: (error: TenantCredentialsRejectedError) => Promise<void>;
  /** Carried by a TenantCredentialsRejectedError: which registration of the token was refused. */
  credentials?: string;
}

type Query = Record<string, string | number | boolean | undefined>;

/** One path segment, percent-encoded; `.`/`..` refused so no argument can walk the REST path. */
export function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') {
    throw new BitbucketInputError(`${what} must be a non-empty path segment, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}

/** Data Center's default page is 25; fewer, larger pages spend less of the call budget. */
const PAGE_LIMIT = 500;

/**
 * Only the registered base URL's `/rest/` tree: a redirect or link elsewhere on the same origin
 * (another application behind the same proxy) is refused like another origin.
 */
class RestTreeAllowList extends OriginAllowList {
  constructor(private readonly restRoot: URL) {
    super([restRoot.origin], 'Data Center base URL');
  }

  override check(url: string | URL): URL {
    const parsed = super.check(url);
    if (!parsed.pathname.startsWith(this.restRoot.pathname)) {
      throw new BitbucketOriginError(parsed.origin + parsed.pathname, [this.restRoot.href], `only ${this.restRoot.pathname} on the instance is called`);
    }
    return parsed;
  }
}

/**
 * The REST client for one Data Center instance: bearer token, the shared transport (timeouts,
 * retries with backoff and Retry-After on 429/503, size bounds, redirects re-checked), and
 * `start`/`limit` paging. Answers are checked against the zod schemas before use. A 401 is the
 * instance refusing the token: TenantCredentialsRejectedError, never retried.
 */
export class DatacenterClient {
  readonly webBase: string;
  private readonly transport: Transport;
  private readonly auth: AuthStrategy;
  private readonly allow: RestTreeAllowList;
  private readonly restRoot: URL;

  constructor(private readonly options: DatacenterClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new BitbucketInputError('the Data Center base URL is not a URL');
    }
    if ((base.protocol !== 'https:' && base.protocol !== 'http:') || base.username || base.password || base.search || base.hash) {
      throw new BitbucketInputError('the Data Center base URL must be a plain http(s) URL without credentials, query or fragment');
    }
    const path = base.pathname.replace(/\/+$/, '');
    this.webBase = `${base.origin}${path}`;
    this.restRoot = new URL(`${path}/rest/`, base.origin);
    this.allow = new RestTreeAllowList(this.restRoot);
    const { token } = options;
    if (typeof token !== 'string' || token.trim() === '' || /[\r\n]/.test(token)) throw new BitbucketInputError('the Data Center access token must be one non-empty line');
    // A fixed token: a 401 cannot be cured by asking again (bearerAuth then does not retry).
    this.auth = bearerAuth(async () => token);
    this.transport = transportWithDefaults(options);
  }

  /** `path` is below /rest/, e.g. `api/latest/projects/P/repos/r`; segments are already encoded. */
  url(path: string, query: Query = {}): URL {
    const url = new URL(path, this.restRoot);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return this.allow.check(url);
  }

  async getJson<S extends z.ZodType>(schema: S, url: URL): Promise<z.infer<S>> {
    return parse(schema, parseJson(await this.text('GET', url, 'application/json', 'idempotent'), url, 'GET'), url, 'GET');
  }

  /** JSON body out; the parsed answer when a schema is given (204 answers have none). */
  async send<S extends z.ZodType>(method: HttpMethod, url: URL, body: unknown, retry: RetryPolicy, schema?: S): Promise<z.infer<S> | undefined> {
    const text = await this.text(method, url, 'application/json', retry, { contentType: 'application/json', content: JSON.stringify(body) });
    return schema ? parse(schema, parseJson(text, url, method), url, method) : undefined;
  }

  async delete(url: URL): Promise<void> {
    await this.text('DELETE', url, 'application/json', 'idempotent');
  }

  /** Raw text (a file); `maxBytes` bounds what is read (BitbucketTooLargeError past it). */
  async getText(url: URL, maxBytes?: number): Promise<string> {
    return this.guard(async () => (await this.transport.sendText({ ...this.request('GET', url, '*/*', 'idempotent'), ...(maxBytes !== undefined ? { maxBodyBytes: maxBytes } : {}) })).text);
  }

  async stream(url: URL): Promise<ReadableStream<Uint8Array>> {
    return this.guard(async () => (await this.transport.sendStream(this.request('GET', url, 'text/plain', 'idempotent'))).body);
  }

  /**
   * Every value of a paged collection. `envelope` picks the page out of the answer (browse nests
   * it under `children`). `nextPageStart` must move forward, so a hostile answer cannot loop.
   */
  async *paged<S extends z.ZodType>(item: S, url: URL, envelope: (answer: unknown) => unknown = (a) => a): AsyncGenerator<z.infer<S>> {
    let start = 0;
    for (;;) {
      const pageUrl = new URL(url);
      pageUrl.searchParams.set('start', String(start));
      pageUrl.searchParams.set('limit', String(PAGE_LIMIT));
      const answer = await this.text('GET', this.allow.check(pageUrl), 'application/json', 'idempotent');
      const page = parse(pageSchema, envelope(parseJson(answer, pageUrl, 'GET')), pageUrl, 'GET');
      for (const value of page.values) yield parse(item, value, pageUrl, 'GET');
      if (page.isLastPage) return;
      const next = page.nextPageStart;
      if (typeof next !== 'number' || next <= start) throw new BitbucketProtocolError('GET', pageUrl.pathname, 'a page that is not the last has no nextPageStart past its own start');
      start = next;
    }
  }

  private request(method: HttpMethod, url: URL, accept: string, retry: RetryPolicy) {
    return { method, url, allow: this.allow, auth: this.auth, retry, accept };
  }

  private text(method: HttpMethod, url: URL, accept: string, retry: RetryPolicy, body?: { contentType: string; content: string }): Promise<string> {
    return this.guard(async () => (await this.transport.sendText({ ...this.request(method, url, accept, retry), ...(body ? { body } : {}) })).text);
  }

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof BitbucketApiError && error.status === 401) {
        const rejected = new TenantCredentialsRejectedError(
          this.options.tenantKey,
          `Bitbucket Data Center at ${this.webBase} refused the access token (401 on ${error.method} ${error.path}): it was revoked, expired or lost its permissions; register a new one with \`gatehouse datacenter add\``,
          this.options.credentials,
        );
        await this.options.onCredentialsRejected?.(rejected);
        throw rejected;
      }
      throw error;
    }
  }
}

function parseJson(text: string, url: URL, method: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BitbucketProtocolError(method, url.pathname, 'answered with a body that is not JSON');
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, url: URL, method: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'answer';
    throw new BitbucketProtocolError(method, url.pathname, `the answer is not in the expected shape (${where})`);
  }
  return parsed.data;
}
