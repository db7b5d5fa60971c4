import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { deriveSessionKey, mintSessionToken, SESSION_TTL_SECONDS, verifySessionToken } from './session-token.ts';

const master = randomBytes(32);
const key = deriveSessionKey(master);
const session = { clientKey: 'ck', user: '{u}', repoUuid: '{r}', repoFullName: 'acme/web' };
const t0 = new Date('2026-03-01T12:00:00Z');

describe('page session token', () => {
  it('round-trips installation, user and repository, expiring after 15 minutes', () => {
    const { token, expiresAt } = mintSessionToken(key, session, t0);
    expect(expiresAt).toBe(t0.getTime() / 1000 + SESSION_TTL_SECONDS);
    expect(verifySessionToken(key, token, t0)).toEqual({ ok: true, session: { ...session, expiresAt } });
    const late = new Date(t0.getTime() + SESSION_TTL_SECONDS * 1000 + 1000);
    expect(verifySessionToken(key, token, late)).toMatchObject({ ok: false, reason: 'session_expired' });
  });

  it('keeps an anonymous viewer anonymous', () => {
    const { token } = mintSessionToken(key, { ...session, user: null }, t0);
    expect(verifySessionToken(key, token, t0)).toMatchObject({ ok: true, session: { user: null } });
  });

  it('is signed with a derived key: not the master key, and another master key cannot verify it', () => {
    expect(key.equals(master)).toBe(false);
    const { token } = mintSessionToken(key, session, t0);
    expect(verifySessionToken(deriveSessionKey(randomBytes(32)), token, t0)).toMatchObject({ ok: false, reason: 'session_invalid' });
    expect(verifySessionToken(master, token, t0)).toMatchObject({ ok: false, reason: 'session_invalid' });
  });

  it('keeps purposes apart: an SBOM link token is not a page session, nor the reverse', () => {
    const link = mintSessionToken(key, session, t0, 'sbom').token;
    const page = mintSessionToken(key, session, t0).token;
    expect(verifySessionToken(key, link, t0)).toMatchObject({ ok: false, reason: 'session_invalid' });
    expect(verifySessionToken(key, page, t0, 'sbom')).toMatchObject({ ok: false, reason: 'session_invalid' });
    expect(verifySessionToken(key, link, t0, 'sbom').ok).toBe(true);
  });

  it('refuses unsigned tokens and missing ones', () => {
    const unsigned = jwt.sign({ iss: 'gatehouse', aud: 'gatehouse-page', ck: 'ck', exp: 2e9 }, '', { algorithm: 'none' });
    expect(verifySessionToken(key, unsigned, t0)).toMatchObject({ ok: false, reason: 'session_invalid' });
    expect(verifySessionToken(key, undefined, t0)).toMatchObject({ ok: false, reason: 'session_missing' });
    expect(verifySessionToken(key, 'not.a.token', t0)).toMatchObject({ ok: false, reason: 'session_invalid' });
  });

  it('needs a 32-byte master key', () => {
    expect(() => deriveSessionKey(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
