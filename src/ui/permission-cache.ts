/**
 * The short memory of permission answers that Connect (ui/permissions.ts) and Forge
 * (forge/user-permissions.ts) share: per key (installation, user, subject), an answer is
 * reused for drawing pages, so whether to show a control costs no round trip on every poll,
 * while a request that changes something passes `fresh` and gets Bitbucket's answer of that
 * moment, so a revoked right stops working at once. Errors are never cached.
 */

export const PERMISSION_CACHE_MS = 60_000;
const MAX_CACHED = 10_000;

export type CachedAsk<T> = (key: string, fresh: boolean, ask: () => Promise<T>) => Promise<T>;

export function permissionCache<T>(now: () => number): CachedAsk<T> {
  const cache = new Map<string, { value: T; until: number }>();
  return async (key, fresh, ask) => {
    const hit = cache.get(key);
    if (!fresh && hit && hit.until > now()) return hit.value;
    const value = await ask();
    // Bounded without bookkeeping: when full, start over (answers are cheap to ask again).
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, { value, until: now() + PERMISSION_CACHE_MS });
    return value;
  };
}
