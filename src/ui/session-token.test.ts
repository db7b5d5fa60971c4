import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_MAX_SECONDS, SESSION_TTL_SECONDS, verifySessionToken } from './session-token.ts';

const master = randomBytes(32);
const key = deriveSessionKey(master);
const session = { clientKey: 'ck', user: '{u}', repoUuid: '{r}', repoFullName: 'acme/web', instance: 'i1' };
const t0 = new Date('2026-03-01T12:00:00Z');

describe('page session token', () => {
  it('round-trips installation, user and repository, expiring after 15 minutes', () => {
    const { token, expiresAt } = mintSessionToken(key, session, t0);
    expect(expiresAt).toBe(t0.getTime() / 1000 + SESSION_TTL_SECONDS);
    expect(verifySessionToken(key, token, t0)).toEqual({ ok: true, session: { ...session, startedAt: t0.getTime() / 1000, expiresAt } });
    const late = new Date(t0.getTime() + SESSION_TTL_SECONDS * 1000 + 1000);
    expect(verifySessionToken(key, token, late)).toMatchObject({ ok: false, reason: 'session_expired' });
  });

  it('renewal keeps the start of the session and never reaches past its absolute end', () => {
    const start = t0.getTime() / 1000;
    let { token } = mintSessionToken(key, session, t0);
    let at = t0;
    // Renewed every 10 minutes, as an open page with activity would be.
    for (;;) {
      at = new Date(at.getTime() + 10 * 60_000);
      const verified = verifySessionToken(key, token, at);
      if (!verified.ok) break;
      expect(verified.session.startedAt).toBe(start);
      const { expiresAt: _e, ...claims } = verified.session;
      const renewed = mintSessionToken(key, claims, at);
      expect(renewed.expiresAt).toBeLessThanOrEqual(start + SESSION_MAX_SECONDS);
      token = renewed.token;
    }
    expect(at.getTime() / 1000).toBeGreaterThanOrEqual(start + SESSION_MAX_SECONDS);
    expect(at.getTime() / 1000).toBeLessThanOrEqual(start + SESSION_MAX_SECONDS + 10 * 60);
  });

  it('names an installation instance that changes with every install and is gone once uninstalled', () => {
    const first = { installedAt: '2026-03-01T12:00:00.000Z', encryptedSharedSecret: 'v1.a.b.c' };
    expect(installationInstance(first)).toBe(installationInstance({ ...first }));
    expect(installationInstance({ ...first, encryptedSharedSecret: 'v1.d.e.f' })).not.toBe(installationInstance(first));
    expect(installationInstance({ ...first, installedAt: '2026-03-02T12:00:00.000Z' })).not.toBe(installationInstance(first));
    expect(installationInstance({ ...first, encryptedSharedSecret: null })).toBe('');
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
