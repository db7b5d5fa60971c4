import { createQueryStringHash, type Params } from 'atlassian-jwt';

/**
 * The query string hash Atlassian JWTs carry: sha256 of `METHOD&path&query`
 * (atlassian-jwt implements the canonical form: sorted keys, RFC 3986 encoding, repeated
 * keys' values sorted and joined with `,`, `jwt` left out, no trailing `/`).
 *
 * The path is taken relative to the app's base path: with BASE_URL
 * `https://x.example/gatehouse`, Bitbucket signs `/connect/webhook` for a request it sends to
 * `/gatehouse/connect/webhook`. A reverse proxy may or may not strip that prefix before the
 * request reaches us, so it is removed when present, on a segment boundary only.
 */
export function incomingQsh(method: string, originalUrl: string, basePath: string): string {
  const q = originalUrl.indexOf('?');
  // Server-to-server calls (webhooks, lifecycle) hit a handful of fixed URLs without a query;
  // their hash is a pure function of these three strings, so it is computed once per URL.
  // URLs with a query (iframe loads carry the jwt and context) are too varied to be worth it.
  if (q === -1) {
    const key = `${method}\n${basePath}\n${originalUrl}`;
    let hash = queryLessHashes.get(key);
    if (hash === undefined) {
      hash = createQueryStringHash({ method, pathname: relativePath(originalUrl, basePath), query: {} });
      if (queryLessHashes.size >= MAX_CACHED_HASHES) queryLessHashes.clear();
      queryLessHashes.set(key, hash);
    }
    return hash;
  }
  const rawPath = q === -1 ? originalUrl : originalUrl.slice(0, q);
  const rawQuery = q === -1 ? '' : originalUrl.slice(q + 1);
  return createQueryStringHash({ method, pathname: relativePath(rawPath, basePath), query: queryParams(rawQuery) });
}

/** Bounded so that a client cycling through random paths cannot grow it without limit. */
const MAX_CACHED_HASHES = 256;
const queryLessHashes = new Map<string, string>();

export function relativePath(rawPath: string, basePath: string): string {
  if (basePath === '' || basePath === '/') return rawPath;
  if (rawPath === basePath) return '/';
  return rawPath.startsWith(basePath + '/') ? rawPath.slice(basePath.length) : rawPath;
}

/** The path of BASE_URL without a trailing slash; '' for a bare origin. */
export function basePathOf(baseUrl: string): string {
  return new URL(baseUrl).pathname.replace(/\/+$/, '');
}

/**
 * Decoded query parameters, repeated keys as arrays. Parsed here from the raw URL rather
 * than taken from Express's `req.query`, whose shape depends on the configured query parser
 * (the `extended` parser would turn `a[b]=1` into an object and change the hash).
 */
function queryParams(rawQuery: string): Params {
  const params: Params = Object.create(null) as Params;
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    const existing: unknown = params[key];
    if (existing === undefined) params[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[key] = [existing, value];
  }
  return params;
}
