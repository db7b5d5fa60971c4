/**
 * Retry policy, kept pure so it can be tested without a network.
 *
 * Which requests are retried (the idempotency decision):
 * - 'idempotent': GET, PUT and DELETE; the token exchange; POSTs that Bitbucket treats as
 *   upserts by a key we choose: build statuses (same `key` overwrites) and annotations (bulk
 *   "create or update" by `external_id`, which the client requires). Retried on 429, 5xx,
 *   timeouts and network errors.
 * - 'at-most-once': POSTs that create something new each time, i.e. PR comments. A lost
 *   response after a 5xx, a timeout or a reset may mean the comment exists already, and a blind
 *   retry would post it twice. Retried only when Bitbucket certainly did not act: 429 (rejected
 *   by rate limiting) or a connection that never opened. Callers reconcile anything else by
 *   listing comments and finding their own marker before creating again.
 */
export type RetryPolicy = 'idempotent' | 'at-most-once';

/** Why an attempt failed, as far as retrying is concerned. */
export type FailureKind = { status: number } | { network: 'not-connected' | 'after-send' | 'timeout' };

export function isRetryable(failure: FailureKind, policy: RetryPolicy): boolean {
  if ('status' in failure) {
    if (failure.status === 429) return true;
    // 501 means "never", not "not now".
    return policy === 'idempotent' && failure.status >= 500 && failure.status !== 501;
  }
  return policy === 'idempotent' || failure.network === 'not-connected';
}

/** Error codes Node/undici report when no connection was made, so nothing reached the server. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function networkFailureKind(error: unknown, timedOut: boolean): 'not-connected' | 'after-send' | 'timeout' {
  if (timedOut) return 'timeout';
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' && NOT_CONNECTED_CODES.has(cause.code) ? 'not-connected' : 'after-send';
}

export interface BackoffSettings {
  /** First retry waits up to this long; each further retry doubles the ceiling. */
  baseDelayMs: number;
  /** Ceiling for a computed backoff delay. */
  maxDelayMs: number;
}

/**
 * "Full jitter" exponential backoff: uniform in [0, min(max, base * 2^retry)). Spreads retries
 * of many jobs hit by the same 429 instead of synchronising them. `retry` counts from 0.
 */
export function backoffDelay(retry: number, settings: BackoffSettings, random: () => number): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unparseable, so the caller falls back to backoff.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
