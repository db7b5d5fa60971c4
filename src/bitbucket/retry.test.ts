import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryable, networkFailureKind, parseRetryAfter } from './retry.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', NOW)).toBe(0);
  });
  it('ignores absent and malformed values', () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const settings = { baseDelayMs: 1000, maxDelayMs: 30_000 };
  it('doubles the ceiling per retry up to the cap, with full jitter below it', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, settings, () => 0.999999))).toEqual([999, 1999, 3999, 7999, 15999, 29999, 29999]);
    expect(backoffDelay(3, settings, () => 0)).toBe(0);
  });
});

describe('isRetryable', () => {
  it('retries idempotent requests on 429, 5xx except 501, and every network failure', () => {
    for (const status of [429, 500, 502, 503, 504, 555]) expect(isRetryable({ status }, 'idempotent')).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 422, 501]) expect(isRetryable({ status }, 'idempotent')).toBe(false);
    for (const network of ['not-connected', 'after-send', 'timeout'] as const) expect(isRetryable({ network }, 'idempotent')).toBe(true);
  });
  it('retries at-most-once requests only when Bitbucket cannot have acted', () => {
    expect(isRetryable({ status: 429 }, 'at-most-once')).toBe(true);
    expect(isRetryable({ network: 'not-connected' }, 'at-most-once')).toBe(true);
    expect(isRetryable({ status: 503 }, 'at-most-once')).toBe(false);
    expect(isRetryable({ network: 'after-send' }, 'at-most-once')).toBe(false);
    expect(isRetryable({ network: 'timeout' }, 'at-most-once')).toBe(false);
  });
});

describe('networkFailureKind', () => {
  const fetchFailure = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  it('tells a connection that never opened from one that broke after sending', () => {
    expect(networkFailureKind(fetchFailure('ECONNREFUSED'), false)).toBe('not-connected');
    expect(networkFailureKind(fetchFailure('ENOTFOUND'), false)).toBe('not-connected');
    expect(networkFailureKind(fetchFailure('UND_ERR_SOCKET'), false)).toBe('after-send');
    expect(networkFailureKind(fetchFailure('ECONNRESET'), false)).toBe('after-send');
    expect(networkFailureKind(new Error('aborted'), true)).toBe('timeout');
  });
});
