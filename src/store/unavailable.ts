/**
 * The store cannot be reached right now (its database is down or restarting). Nothing was
 * recorded by the call that failed; the same call later may succeed. Front doors answer 503
 * with a Retry-After for it, so that Bitbucket delivers the webhook again instead of
 * treating it as handled.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  /** Seconds a client is told to wait before trying again. */
  readonly retryAfterSeconds = 5;
}
