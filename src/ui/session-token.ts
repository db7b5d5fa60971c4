import { createHash, hkdfSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Installation } from '../store/types.ts';

/**
 * The page session: after an iframe load has been verified with Bitbucket's JWT (real qsh),
 * the server mints this token for the page's later requests, as ACE's `X-acpt` does.
 *
 * - Signed with a key derived from ENCRYPTION_KEY, never the tenant's shared secret: a
 *   token we mint must not be mistakable for one Bitbucket signed, and a leaked tenant secret
 *   must not let anyone mint page sessions.
 * - Short-lived (15 minutes, renewed by every answer) with an absolute end: renewal never
 *   carries a session past SESSION_MAX_SECONDS after the verified iframe load that began it,
 *   so a token that leaked once cannot be kept alive for ever by replaying it.
 * - Bound to one installation instance, one user and at most one repository: a token from
 *   repository A's panel cannot triage in repository B, and a token minted before an
 *   uninstall or a reinstall (a new shared secret) is refused afterwards.
 * - It travels in a header (fetch) or a hidden form field, never in a cookie: the page
 *   lives in a third-party iframe, where browsers drop or partition cookies (Safari ITP,
 *   Chrome's third-party cookie phase-out) and SameSite=None would be needed, which is
 *   exactly the cookie a cross-site form post carries along. A value the attacker's page
 *   cannot read and the browser never attaches by itself is what makes posts CSRF-safe.
 */

export const SESSION_HEADER = 'x-gatehouse-session';
export const SESSION_FIELD = '_session';
export const SESSION_TTL_SECONDS = 15 * 60;
/** A working day: a page left open longer is reloaded, which verifies Bitbucket's JWT again. */
export const SESSION_MAX_SECONDS = 8 * 60 * 60;

const ISSUER = 'gatehouse';
/**
 * What a token is for. A page session authenticates the page's requests; an SBOM link
 * token sits in a URL (a link cannot send a header), so it may only download that SBOM.
 */
export type TokenPurpose = 'page' | 'sbom';
const AUDIENCE: Record<TokenPurpose, string> = { page: 'gatehouse-page', sbom: 'gatehouse-sbom-link' };
const KEY_INFO = 'gatehouse/page-session/v1';

export interface PageSession {
  clientKey: string;
  /** Bitbucket user (uuid in braces) the iframe was rendered for, the verified JWT's `sub`; null for an anonymous viewer. */
  user: string | null;
  /** The repository the page shows (`{uuid}`), or null for the settings page. */
  repoUuid: string | null;
  repoFullName: string | null;
  /** The installation instance the page was opened under (installationInstance). */
  instance: string;
  /** Unix seconds: when the verified iframe load began this session. */
  startedAt: number;
  /** Unix seconds; never later than startedAt + SESSION_MAX_SECONDS. */
  expiresAt: number;
}

/** What a new session is minted from: a renewal passes the `startedAt` of the session it renews. */
export type SessionClaims = Omit<PageSession, 'expiresAt' | 'startedAt'> & { startedAt?: number };

export type SessionFailure = 'session_missing' | 'session_invalid' | 'session_expired';

export type SessionVerification = { ok: true; session: PageSession } | { ok: false; reason: SessionFailure; message: string };

interface Claims {
  iss: string;
  aud: string;
  sub?: string;
  ck: string;
  repo?: string;
  rfn?: string;
  ins: string;
  sat: number;
  iat: number;
  exp: number;
}

/**
 * Names one installation of a clientKey: every install (first, signed reinstall, install after
 * an uninstall) stores a new secret envelope, so the name changes with it. A hash, so the
 * token (readable by the page) carries nothing of the envelope itself.
 */
export function installationInstance(installation: Pick<Installation, 'installedAt' | 'encryptedSharedSecret'>): string {
  if (installation.encryptedSharedSecret === null) return '';
  return createHash('sha256').update(`${installation.installedAt}\n${installation.encryptedSharedSecret}`).digest('base64url').slice(0, 22);
}

/** A separate key per purpose from the one master key (HKDF-SHA256). */
export function deriveSessionKey(encryptionKey: Buffer): Buffer {
  if (!Buffer.isBuffer(encryptionKey) || encryptionKey.length !== 32) throw new Error('encryption key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), KEY_INFO, 32));
}

export function mintSessionToken(key: Buffer, session: SessionClaims, now: Date, purpose: TokenPurpose = 'page'): { token: string; expiresAt: number } {
  const iat = Math.floor(now.getTime() / 1000);
  const startedAt = session.startedAt ?? iat;
  const claims: Claims = {
    iss: ISSUER,
    aud: AUDIENCE[purpose],
    ...(session.user ? { sub: session.user } : {}),
    ck: session.clientKey,
    ...(session.repoUuid ? { repo: session.repoUuid } : {}),
    ...(session.repoFullName ? { rfn: session.repoFullName } : {}),
    ins: session.instance,
    sat: startedAt,
    iat,
    exp: Math.min(iat + SESSION_TTL_SECONDS, startedAt + SESSION_MAX_SECONDS),
  };
  return { token: jwt.sign(claims, key, { algorithm: 'HS256', noTimestamp: true }), expiresAt: claims.exp };
}

export function verifySessionToken(key: Buffer, token: string | undefined, now: Date, purpose: TokenPurpose = 'page'): SessionVerification {
  if (!token) return { ok: false, reason: 'session_missing', message: 'This request needs the page session token; reload the page' };
  let claims: Claims;
  try {
    // The algorithm is pinned: a token claiming `none` or RS256 is refused before its signature is looked at.
    claims = jwt.verify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE[purpose],
      clockTimestamp: Math.floor(now.getTime() / 1000),
    }) as Claims;
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) return { ok: false, reason: 'session_expired', message: 'The page session has expired; reload the page' };
    return { ok: false, reason: 'session_invalid', message: 'The page session token is not valid' };
  }
  const optionalText = (v: unknown) => v === undefined || typeof v === 'string';
  if (
    typeof claims.ck !== 'string' ||
    typeof claims.exp !== 'number' ||
    typeof claims.ins !== 'string' ||
    typeof claims.sat !== 'number' ||
    claims.exp > claims.sat + SESSION_MAX_SECONDS ||
    !optionalText(claims.sub) ||
    !optionalText(claims.repo) ||
    !optionalText(claims.rfn)
  ) {
    return { ok: false, reason: 'session_invalid', message: 'The page session token is not valid' };
  }
  return {
    ok: true,
    session: {
      clientKey: claims.ck,
      user: claims.sub ?? null,
      repoUuid: claims.repo ?? null,
      repoFullName: claims.rfn ?? null,
      instance: claims.ins,
      startedAt: claims.sat,
      expiresAt: claims.exp,
    },
  };
}
