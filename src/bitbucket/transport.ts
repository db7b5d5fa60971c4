import type { AuthStrategy } from './auth/types.ts';
import { BitbucketApiError, BitbucketError, BitbucketNetworkError, BitbucketProtocolError, BitbucketTooLargeError, type RequestIdentity } from './errors.ts';
import type { OriginAllowList } from './origin.ts';
import {
  backoffDelay,
  isRetryable,
  networkFailureKind,
  parseRetryAfter,
  type BackoffSettings,
  type FailureKind,
  type RetryPolicy,
} from './retry.ts';

/** The subset of pino the client uses; a pino logger fits as is. */
export interface BitbucketLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface TransportSettings {
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Per attempt: until the whole body is read (text), or between chunks (stream). */
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  backoff: BackoffSettings;
  /** A longer `Retry-After` is not slept through: the error is thrown with `retryAfterMs` so a job queue can reschedule. */
  maxRetryAfterMs: number;
  maxRedirects: number;
  /** Bytes of a body read as text (JSON, file contents); a longer answer is refused with BitbucketTooLargeError. */
  maxBodyBytes: number;
  logger?: BitbucketLogger;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface TransportRequest {
  method: HttpMethod;
  url: URL;
  /** Origins this request, its redirects included, may go to. */
  allow: OriginAllowList;
  auth: AuthStrategy;
  retry: RetryPolicy;
  accept?: string;
  body?: { contentType: string; content: string };
  /** Overrides TransportSettings.maxBodyBytes for this request. */
  maxBodyBytes?: number;
}

interface ResponseHead {
  status: number;
  /** Where the answer finally came from, after redirects. */
  url: URL;
  headers: Headers;
}
export interface TextResponse extends ResponseHead {
  text: string;
}
export interface StreamResponse extends ResponseHead {
  body: ReadableStream<Uint8Array>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** An error answer is read only for its message. */
const ERROR_BODY_BYTES = 64 * 1024;

/** An AbortController whose timer can be restarted (for streams) or stopped once done. */
class AttemptTimer {
  readonly controller = new AbortController();
  timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ms: number) {
    this.restart();
  }

  restart(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

type Consume<T> = (response: Response, timer: AttemptTimer, identity: RequestIdentity, url: URL) => Promise<T>;

/**
 * Sends one logical request: signs each attempt, follows GET redirects by hand (re-signing for
 * the new URL and re-checking the allow-list), times attempts out, and retries per RetryPolicy
 * with exponential backoff, full jitter and `Retry-After`.
 */
export class Transport {
  constructor(private readonly settings: TransportSettings) {}

  sendText(request: TransportRequest): Promise<TextResponse> {
    const limit = request.maxBodyBytes ?? this.settings.maxBodyBytes;
    return this.run(request, async (response, timer, identity, url) => {
      const text = await readText(response, limit, identity);
      timer.stop();
      return { status: response.status, url, headers: response.headers, text };
    });
  }

  /**
   * Streams the body. Failures before the headers arrive are retried as usual; a failure while
   * the body streams errors the stream (with a BitbucketNetworkError) and is not retried.
   */
  sendStream(request: TransportRequest): Promise<StreamResponse> {
    return this.run(request, async (response, timer, identity, url) => ({
      status: response.status,
      url,
      headers: response.headers,
      body: guardStream(response.body ?? new ReadableStream({ start: (c) => c.close() }), timer, identity),
    }));
  }

  private async run<T>(request: TransportRequest, consume: Consume<T>): Promise<T> {
    const { settings } = this;
    const { method, allow, auth } = request;
    let url = allow.check(request.url);
    let retries = 0;
    let redirects = 0;
    let reauthorized = false;

    for (;;) {
      const identity: RequestIdentity = { method, path: url.pathname + url.search, attempts: retries + 1 };
      const authorization = await auth.authorize(method, url);
      const timer = new AttemptTimer(settings.timeoutMs);
      let failure: FailureKind;
      let error: Error;
      let delayMs: number | undefined;
      try {
        const response = await settings.fetch(url, {
          method,
          headers: headersFor(request, authorization),
          body: request.body?.content,
          redirect: 'manual',
          signal: timer.controller.signal,
        });

        if (REDIRECT_STATUSES.has(response.status) && method === 'GET') {
          timer.stop();
          await response.body?.cancel();
          url = this.redirectTarget(response, url, identity, ++redirects, allow);
          continue;
        }
        if (response.ok) return await consume(response, timer, identity, url);

        const body = await readText(response, ERROR_BODY_BYTES, identity).catch(() => '');
        timer.stop();
        if (response.status === 401 && !reauthorized && auth.rejected(authorization)) {
          reauthorized = true;
          continue;
        }
        const refusal = response.status === 401 ? await auth.refusal?.(authorization) : undefined;
        if (refusal) throw refusal;
        failure = { status: response.status };
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), settings.now());
        const waitTooLong =
          retryAfterMs !== undefined && retryAfterMs > settings.maxRetryAfterMs && isRetryable(failure, request.retry);
        const note = waitTooLong
          ? `Retry-After ${Math.ceil(retryAfterMs / 1000)} s exceeds the ${settings.maxRetryAfterMs / 1000} s this client waits`
          : undefined;
        error = new BitbucketApiError(identity, response.status, errorMessageOf(body), retryAfterMs, note);
        if (waitTooLong) throw error;
        delayMs = retryAfterMs;
      } catch (caught) {
        timer.stop();
        // Our typed errors (a refused redirect, a Retry-After too long to wait) and bugs pass through.
        if (caught instanceof BitbucketError || !isFetchFailure(caught, timer)) throw caught;
        const network = networkFailureKind(caught, timer.timedOut);
        failure = { network };
        error = new BitbucketNetworkError(identity, network === 'timeout', caught);
      }

      if (!isRetryable(failure, request.retry) || retries >= settings.maxRetries) throw error;
      delayMs ??= backoffDelay(retries, settings.backoff, settings.random);
      settings.logger?.warn({ method, path: identity.path, ...failure, retry: retries + 1, delayMs }, 'Bitbucket request failed; retrying');
      await settings.sleep(delayMs);
      retries += 1;
    }
  }

  private redirectTarget(response: Response, from: URL, identity: RequestIdentity, hop: number, allow: OriginAllowList): URL {
    if (hop > this.settings.maxRedirects) {
      throw new BitbucketProtocolError(identity.method, identity.path, `more than ${this.settings.maxRedirects} redirects`);
    }
    const location = response.headers.get('location');
    if (!location) throw new BitbucketProtocolError(identity.method, identity.path, `${response.status} without a Location header`);
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      throw new BitbucketProtocolError(identity.method, identity.path, `${response.status} with an unusable Location header`);
    }
    return allow.check(target);
  }
}

function headersFor(request: TransportRequest, authorization: string): Record<string, string> {
  const headers: Record<string, string> = {
    Authorization: authorization,
    Accept: request.accept ?? 'application/json',
    'User-Agent': 'Gatehouse',
  };
  if (request.body) headers['Content-Type'] = request.body.contentType;
  return headers;
}

/** Our own abort (timeout) or a fetch-level failure; anything else is a bug and propagates. */
function isFetchFailure(error: unknown, timer: AttemptTimer): boolean {
  return timer.timedOut || error instanceof TypeError || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Bitbucket Cloud's `{"type":"error","error":{"message","detail"}}`, OAuth's
 * `{"error","error_description"}`, or Data Center's `{"errors":[{"message"}]}`.
 */
export function errorMessageOf(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors)) {
    const messages = errors.map((e) => (e as { message?: unknown } | null)?.message).filter((m): m is string => typeof m === 'string');
    return messages.length > 0 ? messages.join('; ').slice(0, 500) : undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  let message: string | undefined;
  if (typeof error === 'string') {
    const description = (parsed as { error_description?: unknown }).error_description;
    message = typeof description === 'string' ? `${error}: ${description}` : error;
  } else if (error && typeof error === 'object') {
    const { message: text, detail } = error as { message?: unknown; detail?: unknown };
    if (typeof text === 'string') message = typeof detail === 'string' && detail ? `${text} (${detail})` : text;
  }
  return message?.slice(0, 500);
}

/**
 * The body as text, never more than `limit` bytes of it: a declared length over the limit is
 * refused before reading, a body that grows past it is cancelled where it does.
 */
async function readText(response: Response, limit: number, identity: RequestIdentity): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > limit) {
    await response.body?.cancel().catch(() => {});
    throw new BitbucketTooLargeError(identity, limit);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BitbucketTooLargeError(identity, limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

/** Restarts the attempt's timer while waiting for each chunk, so only a stalled server times out. */
function guardStream(body: ReadableStream<Uint8Array>, timer: AttemptTimer, identity: RequestIdentity): ReadableStream<Uint8Array> {
  timer.stop();
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      timer.restart();
      try {
        const { done, value } = await reader.read();
        timer.stop();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (caught) {
        timer.stop();
        controller.error(new BitbucketNetworkError(identity, timer.timedOut, caught));
      }
    },
    cancel(reason) {
      timer.stop();
      return reader.cancel(reason);
    },
  });
}

export const CLIENT_DEFAULTS = {
  timeoutMs: 30_000,
  maxRetries: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  maxRedirects: 5,
  /** No JSON page Bitbucket sends comes near this; file contents ask for their own bound. */
  maxBodyBytes: 32 * 1024 * 1024,
} as const;

/** What a REST client's caller may set of its transport; the rest is CLIENT_DEFAULTS. */
export interface TransportOptions {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  timeoutMs?: number;
  maxRetries?: number;
  logger?: BitbucketLogger;
}

/** The transport every REST client uses (Cloud's and Data Center's): the caller's options over CLIENT_DEFAULTS. */
export function transportWithDefaults(options: TransportOptions): Transport {
  return new Transport({
    fetch: options.fetch ?? globalThis.fetch,
    now: options.now ?? Date.now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    timeoutMs: options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
    maxRetries: options.maxRetries ?? CLIENT_DEFAULTS.maxRetries,
    backoff: { baseDelayMs: CLIENT_DEFAULTS.baseDelayMs, maxDelayMs: CLIENT_DEFAULTS.maxDelayMs },
    maxRetryAfterMs: CLIENT_DEFAULTS.maxRetryAfterMs,
    maxRedirects: CLIENT_DEFAULTS.maxRedirects,
    maxBodyBytes: CLIENT_DEFAULTS.maxBodyBytes,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
