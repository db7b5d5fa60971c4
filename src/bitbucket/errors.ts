/**
 * Every failure of the Bitbucket client is one of these, so callers can branch on the class
 * (and on `status` / `retryable`) instead of parsing messages. Messages name the method and the
 * path, never a header: tokens and JWTs travel only in `Authorization` and never reach an error.
 */

export abstract class BitbucketError extends Error {
  override name = 'BitbucketError';
}

/** A URL outside the installation's allow-listed origins. Nothing was sent to it (SSRF guard). */
export class BitbucketOriginError extends BitbucketError {
  override name = 'BitbucketOriginError';
  constructor(
    readonly url: string,
    readonly allowed: readonly string[],
    readonly reason: string,
  ) {
    super(`refused to call ${url}: ${reason}; allowed origins: ${allowed.join(', ') || '(none)'}`);
  }
}

/** The caller asked for something Bitbucket would reject anyway; nothing was sent. */
export class BitbucketInputError extends BitbucketError {
  override name = 'BitbucketInputError';
}

export interface RequestIdentity {
  method: string;
  /** Path and query of the request, no origin, no credentials. */
  path: string;
  /** Attempts made, including the one that produced this error. */
  attempts: number;
}

/** Bitbucket answered with a status the client does not treat as success. */
export class BitbucketApiError extends BitbucketError {
  override name = 'BitbucketApiError';
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  /** Bitbucket's own `error.message` (and `error.detail`), when the body carried one. */
  readonly bitbucketMessage: string | undefined;
  /** How long Bitbucket asked us to wait (429/503), when it said so. */
  readonly retryAfterMs: number | undefined;
  constructor(
    request: RequestIdentity,
    status: number,
    bitbucketMessage: string | undefined,
    retryAfterMs?: number,
    note?: string,
  ) {
    const what = bitbucketMessage ? `: ${bitbucketMessage}` : '';
    const tries = request.attempts > 1 ? ` after ${request.attempts} attempts` : '';
    super(`Bitbucket answered ${status} to ${request.method} ${request.path}${tries}${what}${note ? ` (${note})` : ''}`);
    this.status = status;
    this.method = request.method;
    this.path = request.path;
    this.attempts = request.attempts;
    this.bitbucketMessage = bitbucketMessage;
    this.retryAfterMs = retryAfterMs;
  }
}

/** No usable answer: connection failure, reset, or the per-attempt timeout. */
export class BitbucketNetworkError extends BitbucketError {
  override name = 'BitbucketNetworkError';
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  readonly timedOut: boolean;
  constructor(request: RequestIdentity, timedOut: boolean, cause: unknown) {
    const what = timedOut ? 'timed out' : `failed (${describeCause(cause)})`;
    const tries = request.attempts > 1 ? ` after ${request.attempts} attempts` : '';
    super(`${request.method} ${request.path} ${what}${tries}`, { cause });
    this.method = request.method;
    this.path = request.path;
    this.attempts = request.attempts;
    this.timedOut = timedOut;
  }
}

/** Bitbucket answered, but not in a shape the client can use (bad JSON, redirect loop, ...). */
export class BitbucketProtocolError extends BitbucketError {
  override name = 'BitbucketProtocolError';
  constructor(
    readonly method: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${method} ${path}: ${problem}`);
  }
}

/** Bitbucket's answer is larger than the client reads for that request; nothing past the limit was read. */
export class BitbucketTooLargeError extends BitbucketError {
  override name = 'BitbucketTooLargeError';
  constructor(
    readonly request: RequestIdentity,
    readonly limitBytes: number,
  ) {
    super(`${request.method} ${request.path}: the answer is larger than the ${formatBytes(limitBytes)} this client reads`);
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.round(bytes / 1024)} KB`;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause.cause as { code?: unknown } | undefined)?.code ?? (cause as { code?: unknown }).code;
    return typeof code === 'string' ? code : cause.message;
  }
  return String(cause);
}
