import { createQueryStringHash, encodeSymmetric, SymmetricAlgorithm } from 'atlassian-jwt';
import type { AuthStrategy, InstallationCredentials } from './types.ts';

/**
 * Lifetime of an outgoing JWT (ACE uses the same 3 minutes). Short on purpose: each attempt and
 * redirect hop signs a new token, so a long backoff never sends a stale or replayable one.
 */
export const JWT_LIFETIME_SECONDS = 180;

/**
 * Atlassian's query string hash of one request, as Bitbucket recomputes it: upper-case method,
 * the path relative to `base`'s path, and the canonical (sorted, RFC 3986) query.
 * The query object mirrors what an HTTP framework would parse: repeated keys become arrays.
 */
export function queryStringHash(method: string, url: URL, base: URL): string {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    if (seen === undefined) query[key] = value;
    else query[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return createQueryStringHash({ method, pathname: url.pathname, query }, false, base.href);
}

/** A JWT for one outgoing request: iss = app key, sub = clientKey, qsh of this method + URL. */
export function signRequestJwt(
  credentials: InstallationCredentials,
  method: string,
  url: URL,
  base: URL,
  nowMs: number,
): string {
  const iat = Math.floor(nowMs / 1000);
  return encodeSymmetric(
    {
      iss: credentials.appKey,
      sub: credentials.clientKey,
      iat,
      exp: iat + JWT_LIFETIME_SECONDS,
      qsh: queryStringHash(method, url, base),
    },
    credentials.sharedSecret,
    SymmetricAlgorithm.HS256,
  );
}

/**
 * Signs every request anew (`Authorization: JWT <token>`). `base` is the URL the qsh path is
 * relative to: the installation's `baseApiUrl` for API calls.
 */
export function jwtAuth(credentials: InstallationCredentials, base: URL, now: () => number): AuthStrategy {
  return {
    kind: 'jwt',
    async authorize(method, url) {
      return `JWT ${signRequestJwt(credentials, method, url, base, now())}`;
    },
    // The secret cannot change under us: a 401 means the installation is gone or the clock is off.
    rejected: () => false,
  };
}
