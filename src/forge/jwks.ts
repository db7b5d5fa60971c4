import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The FIT signing keys, fetched from FORGE_JWKS_URL and cached.
 *
 * - A `kid` the cache does not know triggers one refetch, because Forge may have started
 *   signing with a new key. Refetches for unknown kids are rate-limited (REFETCH_MIN_INTERVAL_MS),
 *   so a flood of tokens with made-up kids costs one JWKS request per interval, not one each.
 *   The price: a genuinely new key first seen within that interval after another refetch is
 *   refused once; Forge retries (events 60 s later), and the interval is short.
 * - Keys that cannot be fetched at all are `JwksUnavailableError` (the route answers 503 so
 *   Forge retries), never "bad token". A failed fetch is tried again after FAILED_FETCH_RETRY_MS,
 *   seconds rather than a long cool-down, and meanwhile requests fail fast without a fetch each.
 * - Keys older than MAX_AGE_MS are refreshed on next use; if that refresh fails the old keys keep
 *   working (a JWKS outage must not take the app down while the keys it knows are still valid).
 * - A slow JWKS is cut at FETCH_TIMEOUT_MS so the request still answers within Forge's 5 s.
 */

export interface JwksLimits {
  REFETCH_MIN_INTERVAL_MS: number;
  FAILED_FETCH_RETRY_MS: number;
  MAX_AGE_MS: number;
  FETCH_TIMEOUT_MS: number;
  MAX_BYTES: number;
  MAX_KEYS: number;
}

export const JWKS_LIMITS: Readonly<JwksLimits> = {
  REFETCH_MIN_INTERVAL_MS: 5_000,
  FAILED_FETCH_RETRY_MS: 2_000,
  MAX_AGE_MS: 60 * 60_000,
  FETCH_TIMEOUT_MS: 3_000,
  /** Atlassian's JWKS is a few KB; anything much larger is not a key set. */
  MAX_BYTES: 256 * 1024,
  MAX_KEYS: 50,
};

export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
  /** When a fetch will be tried again. */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface JwksCacheOptions {
  url: string;
  fetch?: typeof fetch;
  /** Milliseconds; the clock every interval is measured on. */
  now?: () => number;
  limits?: Partial<JwksLimits>;
}

/** Usable RSA signing keys of a JWKS document by kid; anything else in it is skipped. */
function rsaKeysOf(document: unknown, maxKeys: number): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new Error('the JWKS has no "keys" array');
  for (const jwk of list.slice(0, maxKeys) as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const k = jwk as Record<string, unknown>;
    if (typeof k.kid !== 'string' || k.kty !== 'RSA' || typeof k.n !== 'string' || typeof k.e !== 'string') continue;
    if (k.use !== undefined && k.use !== 'sig') continue;
    if (k.alg !== undefined && k.alg !== 'RS256') continue;
    try {
      keys.set(k.kid, createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e }, format: 'jwk' }));
    } catch {
      // A malformed entry does not spoil the others.
    }
  }
  return keys;
}

export class JwksCache {
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly limits: JwksLimits;
  private keys: Map<string, KeyObject> | undefined;
  private fetchedAt = -Infinity;
  private lastAttemptAt = -Infinity;
  private lastFailure: string | undefined;
  private inFlight: Promise<void> | undefined;
  /** JWKS requests made, for tests and the benchmark. */
  fetches = 0;

  constructor(options: JwksCacheOptions) {
    this.url = options.url;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.limits = { ...JWKS_LIMITS, ...options.limits };
  }

  /**
   * The public key for `kid`, or undefined when the JWKS does not have it (after the one
   * refetch it is entitled to). Throws JwksUnavailableError when no keys can be had.
   */
  async keyFor(kid: string): Promise<KeyObject | undefined> {
    const now = this.now();
    if (!this.keys) {
      await this.refresh(now);
    } else if (now - this.fetchedAt >= this.limits.MAX_AGE_MS && now - this.lastAttemptAt >= this.limits.FAILED_FETCH_RETRY_MS) {
      // Stale: refresh, but a failure leaves the known keys in use.
      await this.refresh(now).catch(() => undefined);
    }
    const keys = this.keys;
    if (!keys) throw this.unavailable(now);
    const known = keys.get(kid);
    if (known) return known;
    if (now - this.lastAttemptAt < this.limits.REFETCH_MIN_INTERVAL_MS) return undefined;
    await this.refresh(now).catch(() => undefined);
    return this.keys?.get(kid);
  }

  private unavailable(now: number): JwksUnavailableError {
    const waitMs = Math.max(0, this.lastAttemptAt + this.limits.FAILED_FETCH_RETRY_MS - now);
    return new JwksUnavailableError(`Forge signing keys cannot be fetched (${this.lastFailure ?? 'not fetched yet'})`, Math.max(1, Math.ceil(waitMs / 1000)));
  }

  /** One fetch at a time; callers arriving meanwhile share it. */
  private async refresh(now: number): Promise<void> {
    if (!this.inFlight) {
      if (!this.keys && now - this.lastAttemptAt < this.limits.FAILED_FETCH_RETRY_MS) throw this.unavailable(now);
      this.lastAttemptAt = now;
      this.fetches++;
      this.inFlight = this.load().finally(() => {
        this.inFlight = undefined;
      });
    }
    try {
      await this.inFlight;
    } catch {
      throw this.unavailable(this.now());
    }
  }

  private async load(): Promise<void> {
    try {
      const response = await this.fetchImpl(this.url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.limits.FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`the JWKS answered HTTP ${response.status}`);
      const text = await boundedText(response, this.limits.MAX_BYTES);
      const keys = rsaKeysOf(JSON.parse(text), this.limits.MAX_KEYS);
      if (keys.size === 0) throw new Error('the JWKS holds no RS256 signing key');
      this.keys = keys;
      this.fetchedAt = this.now();
      this.lastFailure = undefined;
    } catch (error) {
      this.lastFailure = error instanceof Error && error.name === 'TimeoutError' ? 'the JWKS did not answer in time' : error instanceof Error ? error.message : String(error);
      throw error;
    }
  }
}

async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
