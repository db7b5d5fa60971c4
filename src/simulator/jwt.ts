import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import jsonwebtoken from 'jsonwebtoken';

/**
 * JWTs the way Bitbucket Cloud uses them for Connect apps: HS256 with the installation's shared
 * secret. Outgoing tokens (lifecycle, webhooks, iframe URLs) carry iss = clientKey; incoming ones
 * (REST calls and the token grant) must carry iss = app key and sub = clientKey.
 */

/** Lifetime of the tokens the simulator signs, like Bitbucket's short-lived ones. */
const TOKEN_TTL_SECONDS = 180;

/** qsh of a request: `baseUrl`'s path is cut from the front, as for a Connect app's routes. */
export function qsh(method: string, url: string, baseUrl: string): string {
  const parsed = new URL(url, baseUrl);
  return createQueryStringHash(fromMethodAndUrl(method.toUpperCase(), parsed.pathname + parsed.search), false, baseUrl);
}

export interface HostTokenClaims {
  clientKey: string;
  sharedSecret: string;
  method: string;
  url: string;
  /** The app's baseUrl: the qsh path is relative to it. */
  appBaseUrl: string;
  /** `sub`: the acting user's account id; absent for calls made on behalf of the installation. */
  subject?: string;
  nowSeconds: number;
  extra?: Record<string, unknown>;
}

/** A token Bitbucket would put on a request it makes to the app. */
export function signHostToken(c: HostTokenClaims): string {
  const claims: Record<string, unknown> = {
    iss: c.clientKey,
    iat: c.nowSeconds,
    exp: c.nowSeconds + TOKEN_TTL_SECONDS,
    qsh: qsh(c.method, c.url, c.appBaseUrl),
    ...c.extra,
  };
  if (c.subject) claims.sub = c.subject;
  return encodeSymmetric(claims, c.sharedSecret, SymmetricAlgorithm.HS256);
}

export type VerifyFailure = { ok: false; reason: string };
export type VerifyOk = { ok: true; clientKey: string; claims: Record<string, unknown> };

export interface VerifyAppTokenInput {
  token: string;
  appKey: string;
  /** Shared secret of the live installation with this clientKey, or undefined. */
  secretFor: (clientKey: string) => string | undefined;
  /** When set, the token's qsh must equal this request's. */
  request?: { method: string; url: string; baseUrl: string };
  nowSeconds: number;
}

/** Verifies a token the app signed (REST call or token grant) as Bitbucket does. */
export function verifyAppToken(input: VerifyAppTokenInput): VerifyOk | VerifyFailure {
  const decoded = jsonwebtoken.decode(input.token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) return { ok: false, reason: 'the token is not a JWT' };
  if (decoded.header.alg !== 'HS256') return { ok: false, reason: `alg ${String(decoded.header.alg)} is not accepted; Bitbucket requires HS256` };
  const claims = decoded.payload as Record<string, unknown>;
  if (claims.iss !== input.appKey) return { ok: false, reason: `iss must be the app key "${input.appKey}"` };
  if (typeof claims.sub !== 'string') return { ok: false, reason: 'sub must be the installation clientKey' };
  const secret = input.secretFor(claims.sub);
  if (!secret) return { ok: false, reason: 'sub does not name a live installation of this app' };
  if (typeof claims.exp !== 'number') return { ok: false, reason: 'exp is required' };
  try {
    jsonwebtoken.verify(input.token, secret, { algorithms: ['HS256'], clockTimestamp: input.nowSeconds });
  } catch (error) {
    return { ok: false, reason: `signature or expiry check failed: ${(error as Error).message}` };
  }
  if (input.request) {
    const expected = qsh(input.request.method, input.request.url, input.request.baseUrl);
    if (claims.qsh !== expected) return { ok: false, reason: 'qsh does not match this request (method, path and query)' };
  }
  return { ok: true, clientKey: claims.sub, claims };
}

/** For logs: never the whole token. */
export function redactToken(token: string): string {
  return token.length <= 12 ? '***' : `${token.slice(0, 6)}…(${token.length} chars)`;
}
