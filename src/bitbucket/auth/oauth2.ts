import { z } from 'zod';
import { BitbucketProtocolError } from '../errors.ts';
import { jwtAuth } from './jwt.ts';
import type { AuthStrategy, InstallationCredentials } from './types.ts';

/** Refresh this long before Bitbucket says the token expires, so no request races the expiry. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

export const JWT_BEARER_GRANT = 'urn:bitbucket:oauth2:jwt';

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
});

/**
 * Sends the token request: POST `url` with the given auth and form body, returning the response
 * text of a 2xx answer (and throwing the client's typed errors otherwise). Injected so this module
 * reuses the client's transport (allow-list, timeouts, retries) without depending on it.
 */
export type TokenExchange = (url: URL, auth: AuthStrategy, form: URLSearchParams) => Promise<string>;

export interface OAuth2JwtAuthOptions {
  credentials: InstallationCredentials;
  /** The installation's `baseUrl` (e.g. https://bitbucket.org): the token endpoint lives there. */
  baseUrl: URL;
  exchange: TokenExchange;
  now: () => number;
}

interface CachedToken {
  authorization: string;
  refreshAtMs: number;
}

/**
 * `Authorization: Bearer <access token>` from the `urn:bitbucket:oauth2:jwt` grant. The token is
 * cached until TOKEN_REFRESH_MARGIN_MS before it expires (or half its lifetime, when Bitbucket
 * hands out a shorter one); concurrent callers share one in-flight exchange.
 */
export function oauth2JwtAuth(options: OAuth2JwtAuthOptions): AuthStrategy {
  const { credentials, exchange, now } = options;
  const tokenUrl = new URL('site/oauth2/access_token', withTrailingSlash(options.baseUrl));
  // The exchange itself is signed with a JWT whose qsh covers this POST, relative to baseUrl.
  const signer = jwtAuth(credentials, options.baseUrl, now);
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  async function fetchToken(): Promise<CachedToken> {
    const requestedAt = now();
    const text = await exchange(tokenUrl, signer, new URLSearchParams({ grant_type: JWT_BEARER_GRANT }));
    let parsed: z.infer<typeof tokenResponse>;
    try {
      parsed = tokenResponse.parse(JSON.parse(text));
    } catch {
      // Deliberately no detail: the body may hold a token.
      throw new BitbucketProtocolError('POST', tokenUrl.pathname, 'token endpoint answered without access_token and a positive expires_in');
    }
    const lifetimeMs = parsed.expires_in * 1000;
    return {
      authorization: `Bearer ${parsed.access_token}`,
      refreshAtMs: requestedAt + lifetimeMs - Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2),
    };
  }

  return {
    kind: 'oauth2-jwt',
    async authorize() {
      if (cached && now() < cached.refreshAtMs) return cached.authorization;
      inFlight ??= fetchToken().finally(() => {
        inFlight = undefined;
      });
      cached = await inFlight;
      return cached.authorization;
    },
    rejected(authorization) {
      // Only drop the token that failed: a concurrent caller may already hold a newer one.
      if (cached?.authorization === authorization) cached = undefined;
      return true;
    },
  };
}

function withTrailingSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.href}/`);
}
