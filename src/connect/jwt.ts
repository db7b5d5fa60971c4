import { createHmac, timingSafeEqual } from 'node:crypto';
import { incomingQsh } from './qsh.ts';

/**
 * Verification of the JWTs Bitbucket sends us (lifecycle calls, webhooks, iframe loads).
 * Only HS256 is accepted; the algorithm is checked on the unverified header before any key
 * is looked up, so `none`, RS256-with-the-secret-as-public-key and friends never reach a
 * verifier.
 */

/**
 * Allowed clock difference between Bitbucket and us, in seconds, for `exp`, `nbf` and `iat`.
 * ACE allows none and users see spurious expiries; a minute is what other apps allow.
 */
export const CLOCK_LEEWAY_SECONDS = 60;

export type JwtFailure =
  | 'jwt_missing'
  | 'jwt_malformed'
  | 'jwt_algorithm_not_allowed'
  | 'jwt_unknown_tenant'
  | 'jwt_invalid_signature'
  | 'jwt_expired'
  | 'jwt_not_yet_valid'
  | 'jwt_issued_in_future'
  | 'jwt_missing_claim'
  | 'jwt_qsh_missing'
  | 'jwt_qsh_mismatch';

export interface ConnectClaims {
  iss: string;
  aud?: string[];
  sub?: string;
  iat: number;
  exp: number;
  qsh: string;
}

export type JwtVerification =
  | { ok: true; clientKey: string; claims: ConnectClaims }
  | { ok: false; reason: JwtFailure; message: string };

export interface IncomingRequest {
  method: string;
  /** Path and query exactly as received. */
  originalUrl: string;
  /** Path of BASE_URL ('' when it has none); qsh is computed relative to it. */
  basePath: string;
}

/** Shared secret of an installed tenant; undefined for unknown or uninstalled tenants. */
export type SecretLookup = (clientKey: string) => Promise<string | undefined>;

function fail(reason: JwtFailure, message: string): JwtVerification {
  return { ok: false, reason, message };
}

/** Token from `Authorization: JWT <token>`, else from the `jwt` query parameter when allowed. */
export function extractToken(authorization: string | undefined, query: URLSearchParams | null): string | undefined {
  if (authorization) {
    const match = /^JWT\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return query?.get('jwt') ?? undefined;
}

/** The tenant a token claims to belong to: `aud[0]` when present (as ACE does), else `iss`. */
function claimedTenant(payload: Record<string, unknown>): string | undefined {
  const aud = payload.aud;
  const first = Array.isArray(aud) ? (aud[0] as unknown) : aud;
  if (typeof first === 'string' && first !== '') return first;
  return typeof payload.iss === 'string' && payload.iss !== '' ? payload.iss : undefined;
}

/**
 * The tenant an unverified token names, for attributing a refused request (diagnostics);
 * never for deciding anything.
 */
export function claimedTenantOf(token: string | undefined): string | undefined {
  const decoded = token ? decodeJwt(token) : undefined;
  return decoded ? claimedTenant(decoded.payload) : undefined;
}

/** A compact JWS split into its parts; the signature is checked later, against the tenant's secret. */
interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: string;
}

/** Strict base64url: no padding, no whitespace, no standard-alphabet characters. */
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;

function jsonObjectOf(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL_SEGMENT.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `header.payload.signature`; the signature may be empty here so that `alg: none` is named as such. */
function decodeJwt(token: string): DecodedJwt | undefined {
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot <= 0 || secondDot <= firstDot + 1 || token.indexOf('.', secondDot + 1) !== -1) return undefined;
  const header = jsonObjectOf(token.slice(0, firstDot));
  const payload = jsonObjectOf(token.slice(firstDot + 1, secondDot));
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: token.slice(0, secondDot), signature: token.slice(secondDot + 1) };
}

/**
 * HMAC-SHA256 over the signing input, compared in constant time with the signature as sent.
 * Comparing the base64url text rather than decoded bytes also refuses non-canonical
 * encodings of a correct signature (the last character has spare bits).
 */
function hs256Verifies(jwt: DecodedJwt, secret: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(jwt.signingInput).digest('base64url'), 'latin1');
  const given = Buffer.from(jwt.signature, 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function verifyConnectJwt(
  token: string | undefined,
  request: IncomingRequest,
  secretFor: SecretLookup,
  now: Date,
): Promise<JwtVerification> {
  if (!token) return fail('jwt_missing', 'No JWT in the Authorization header or jwt query parameter');

  const decoded = decodeJwt(token);
  if (!decoded) return fail('jwt_malformed', 'The JWT cannot be decoded');
  if (decoded.header.alg !== 'HS256') {
    return fail('jwt_algorithm_not_allowed', 'Only HS256 JWTs are accepted');
  }
  const clientKey = claimedTenant(decoded.payload);
  if (!clientKey) return fail('jwt_missing_claim', 'The JWT has no iss claim');

  const secret = await secretFor(clientKey);
  if (secret === undefined) {
    return fail('jwt_unknown_tenant', 'The JWT names no installed tenant; install the app again');
  }
  if (decoded.signature === '') return fail('jwt_malformed', 'The JWT is not signed');
  if (!hs256Verifies(decoded, secret)) {
    return fail('jwt_invalid_signature', 'The JWT signature does not verify with the tenant secret');
  }

  // Only claims that passed the signature check are trusted from here on.
  const claims = decoded.payload;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if ((claims.nbf !== undefined && typeof claims.nbf !== 'number') || (claims.exp !== undefined && typeof claims.exp !== 'number')) {
    return fail('jwt_malformed', 'The JWT nbf and exp claims must be numbers');
  }
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + CLOCK_LEEWAY_SECONDS) {
    return fail('jwt_not_yet_valid', 'The JWT is not valid yet');
  }
  if (typeof claims.exp === 'number' && nowSeconds >= claims.exp + CLOCK_LEEWAY_SECONDS) {
    return fail('jwt_expired', 'The JWT has expired; reload the page');
  }

  if (typeof claims.iss !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
    return fail('jwt_missing_claim', 'The JWT must carry iss, iat and exp');
  }
  if (claims.iat > nowSeconds + CLOCK_LEEWAY_SECONDS) {
    return fail('jwt_issued_in_future', 'The JWT was issued in the future; check the server clock');
  }
  if (typeof claims.qsh !== 'string' || claims.qsh === '') {
    return fail('jwt_qsh_missing', 'The JWT has no qsh claim');
  }
  // The qsh is a hash of the request, known to any sender, so a plain comparison would
  // leak nothing; timingSafeEqual over equal lengths keeps it constant-time anyway.
  const expected = incomingQsh(request.method, request.originalUrl, request.basePath);
  const given = Buffer.from(claims.qsh, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected, 'utf8'))) {
    return fail('jwt_qsh_mismatch', 'The JWT qsh does not match this request (method, path or query)');
  }

  const aud = Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : typeof claims.aud === 'string' ? [claims.aud] : undefined;
  return {
    ok: true,
    clientKey,
    claims: {
      iss: claims.iss,
      ...(aud ? { aud } : {}),
      ...(typeof claims.sub === 'string' ? { sub: claims.sub } : {}),
      iat: claims.iat,
      exp: claims.exp,
      qsh: claims.qsh,
    },
  };
}
