import { createPublicKey } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { FIT_ISSUER, FIT_TTL_SECONDS, ForgeTokenAuthority, SYSTEM_TOKEN_TTL_SECONDS, newAppId, newInstallationId, uiContext } from './tokens.ts';

const WORKSPACE = '4c16a397-8e48-479c-8ca2-442e46c90570';

function setup(start = new Date('2026-12-02T08:00:00Z')) {
  let now = start;
  const appId = newAppId();
  const authority = new ForgeTokenAuthority({ appId, now: () => now });
  const installation = { installationId: newInstallationId(), workspaceId: WORKSPACE, apiBaseUrl: 'http://127.0.0.1:4101' };
  return { authority, appId, installation, advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)) };
}

function verifyWithJwks(token: string, jwks: { keys: Array<Record<string, unknown>> }, clockTimestamp: number) {
  const { header } = jsonwebtoken.decode(token, { complete: true })!;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid}`);
  return jsonwebtoken.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['RS256'], clockTimestamp }) as jsonwebtoken.JwtPayload;
}

describe('local Forge tokens', () => {
  it('signs a FIT with the full claim set that verifies against its JWKS', () => {
    const { authority, appId, installation } = setup();
    const fit = authority.signFit({ ...installation, appVersion: '3', module: { type: 'core:endpoint', key: 'events' } });
    const header = jsonwebtoken.decode(fit, { complete: true })!.header;
    expect(header).toMatchObject({ alg: 'RS256', kid: authority.currentKid });
    const claims = verifyWithJwks(fit, authority.jwks(), Date.parse('2026-12-02T08:00:01Z') / 1000);
    expect(claims).toMatchObject({
      iss: FIT_ISSUER,
      aud: appId,
      app: {
        id: appId,
        version: '3',
        installationId: installation.installationId,
        apiBaseUrl: installation.apiBaseUrl,
        environment: { type: 'DEVELOPMENT' },
        module: { type: 'core:endpoint', key: 'events' },
        installation: { id: installation.installationId, contexts: [{ name: 'bitbucket', apiBaseUrl: installation.apiBaseUrl, workspaceId: WORKSPACE }] },
      },
    });
    expect(claims.exp! - claims.iat!).toBe(FIT_TTL_SECONDS);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^[0-9a-f]{40}$/);
    expect(claims).not.toHaveProperty('icLabel');
    expect(claims).not.toHaveProperty('context');
    expect(claims).not.toHaveProperty('principal');
  });

  it('adds a UI context and principal, an icLabel only when asked, and overrides for hostile tests', () => {
    const { authority, installation } = setup();
    const context = uiContext({ workspaceId: WORKSPACE, moduleKey: 'pr-panel', repositoryUuid: 'aaaa', pullRequestId: 7 });
    const fit = authority.signFit({ ...installation, context, principal: '712020:abc', icLabel: 'orange', overrides: { aud: 'ari:cloud:ecosystem::app/other' } });
    const claims = jsonwebtoken.decode(fit) as jsonwebtoken.JwtPayload;
    expect(claims.context).toEqual({ workspaceId: `{${WORKSPACE}}`, moduleKey: 'pr-panel', extension: { repository: { uuid: '{aaaa}' }, pullRequest: { id: 7 } } });
    expect(claims.principal).toBe('712020:abc');
    expect(claims.icLabel).toBe('orange');
    expect(claims.aud).toBe('ari:cloud:ecosystem::app/other');
  });

  it('rotates keys: the JWKS keeps the old key for FITs in flight unless told to drop it', () => {
    const { authority, installation } = setup();
    const before = authority.signFit(installation);
    const oldKid = authority.currentKid;
    const newKid = authority.rotateKey();
    expect(newKid).not.toBe(oldKid);
    expect(authority.jwks().keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    const clock = Date.parse('2026-12-02T08:00:01Z') / 1000;
    expect(() => verifyWithJwks(before, authority.jwks(), clock)).not.toThrow();
    authority.rotateKey(false);
    expect(authority.jwks().keys).toHaveLength(1);
    expect(() => verifyWithJwks(before, authority.jwks(), clock)).toThrow(/no key/);
    expect(authority.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('issues system and user tokens the simulated API accepts until they expire', () => {
    const { authority, installation, advance } = setup();
    const system = authority.systemToken(installation);
    const user = authority.userToken(installation, '712020:abc');
    expect(system.expiresAt - Date.parse('2026-12-02T08:00:00Z') / 1000).toBe(SYSTEM_TOKEN_TTL_SECONDS);
    // The remote reads exp from the token itself, as with Forge's opaque JWTs.
    expect((jsonwebtoken.decode(system.token) as { exp: number }).exp).toBe(system.expiresAt);
    expect(authority.checkOAuthToken(system.token)).toEqual({
      ok: true,
      claims: { kind: 'system', installationId: installation.installationId, workspaceId: WORKSPACE, exp: system.expiresAt },
    });
    expect(authority.checkOAuthToken(user.token)).toMatchObject({ ok: true, claims: { kind: 'user', accountId: '712020:abc' } });
    advance(SYSTEM_TOKEN_TTL_SECONDS);
    expect(authority.checkOAuthToken(system.token)).toEqual({ ok: false, reason: 'expired' });
    expect(authority.checkOAuthToken(user.token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses forged, malformed and revoked tokens', () => {
    const { authority, installation } = setup();
    const other = setup().authority.systemToken(installation);
    expect(authority.checkOAuthToken(other.token)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(authority.checkOAuthToken('not-a-token')).toEqual({ ok: false, reason: 'malformed' });
    const fit = authority.signFit(installation);
    expect(authority.checkOAuthToken(fit).ok).toBe(false);
    const system = authority.systemToken(installation);
    authority.revokeInstallation(installation.installationId);
    expect(authority.checkOAuthToken(system.token)).toEqual({ ok: false, reason: 'revoked' });
  });
});
