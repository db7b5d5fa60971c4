import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import jsonwebtoken from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invocationOf, requireFit } from '../src/forge/auth.ts';
import { FIT_CLOCK_LEEWAY_SECONDS } from '../src/forge/fit.ts';
import { JWKS_LIMITS, JwksCache } from '../src/forge/jwks.ts';
import { createLogger } from '../src/log.ts';
import { ForgeTokenAuthority, newAppId, newInstallationId, uiContext } from '../src/simulator/forge/tokens.ts';
import { startJwksServer } from './helpers/jwks-server.ts';

const WORKSPACE = '4c16a397-8e48-479c-8ca2-442e46c90570';
const installation = { installationId: newInstallationId(), workspaceId: WORKSPACE, apiBaseUrl: 'https://api.bitbucket.org' };

let clockMs = Date.parse('2026-12-02T08:00:00Z');
const now = () => new Date(clockMs);
const appId = newAppId();
const forge = new ForgeTokenAuthority({ appId, now });
let jwks: Awaited<ReturnType<typeof startJwksServer>>;
let keys: JwksCache;
let app: express.Express;

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function rebuild() {
  keys = new JwksCache({ url: jwks.url, now: () => clockMs, limits: { FETCH_TIMEOUT_MS: 300 } });
  app = express();
  app.use('/forge', requireFit({ appId, keys, now, logger: createLogger('silent') }));
  app.post('/forge/events', (_req, res) => {
    res.json(invocationOf(res));
  });
}

beforeAll(async () => {
  jwks = await startJwksServer(forge);
});
afterAll(async () => jwks.close());
beforeEach(() => {
  jwks.behaviour.mode = 'ok';
  rebuild();
});

const call = (token: string | undefined, path = '/forge/events') => {
  const req = request(app).post(path);
  if (token !== undefined) req.set('Authorization', `Bearer ${token}`);
  return req.send({});
};

describe('FIT verification on /forge/*', () => {
  it('accepts a FIT from the JWKS and hands the route the verified installation', async () => {
    const context = uiContext({ workspaceId: WORKSPACE, moduleKey: 'pr-panel', repositoryUuid: 'abc', pullRequestId: 1 });
    const res = await call(forge.signFit({ ...installation, appVersion: '2', context, principal: '712020:u' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      installationId: installation.installationId,
      appVersion: '2',
      bitbucket: { apiBaseUrl: 'https://api.bitbucket.org', workspaceId: WORKSPACE },
      principal: '712020:u',
      context: { workspaceId: `{${WORKSPACE}}` },
    });
    expect(jwks.hits()).toBeGreaterThan(0);
  });

  it('verifies many FITs with one JWKS fetch', async () => {
    const before = jwks.hits();
    for (let i = 0; i < 5; i++) expect((await call(forge.signFit(installation))).status).toBe(200);
    expect(jwks.hits() - before).toBe(1);
  });

  const attacks: Array<[string, () => string, string]> = [
    ['no token', () => '', 'fit_missing'],
    ['garbage', () => 'not.a.jwt', 'fit_malformed'],
    [
      'alg none',
      () => {
        const claims = jsonwebtoken.decode(forge.signFit(installation)) as object;
        return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
      },
      'fit_algorithm_not_allowed',
    ],
    [
      'HS256 signed with the public key',
      () => {
        const claims = jsonwebtoken.decode(forge.signFit(installation)) as object;
        const jwk = forge.jwks().keys[0]!;
        return jsonwebtoken.sign(claims, JSON.stringify(jwk), { algorithm: 'HS256', keyid: jwk.kid });
      },
      'fit_algorithm_not_allowed',
    ],
    ["another app's aud", () => forge.signFit({ ...installation, overrides: { aud: newAppId() } }), 'fit_wrong_audience'],
    ['aud as an array naming us', () => forge.signFit({ ...installation, overrides: { aud: [appId] } }), 'fit_wrong_audience'],
    ['wrong issuer', () => forge.signFit({ ...installation, overrides: { iss: 'someone-else' } }), 'fit_wrong_issuer'],
    [
      'expired beyond the leeway',
      () => forge.signFit({ ...installation, overrides: { exp: Math.floor(clockMs / 1000) - FIT_CLOCK_LEEWAY_SECONDS - 1 } }),
      'fit_expired',
    ],
    [
      'not yet valid beyond the leeway',
      () => forge.signFit({ ...installation, overrides: { nbf: Math.floor(clockMs / 1000) + FIT_CLOCK_LEEWAY_SECONDS + 5 } }),
      'fit_not_yet_valid',
    ],
    ['without exp', () => forge.signFit({ ...installation, overrides: { exp: undefined } }), 'fit_invalid_claims'],
    ['carrying icLabel', () => forge.signFit({ ...installation, icLabel: 'orange' }), 'fit_isolated_cloud'],
    [
      'tampered payload',
      () => {
        const [h, , s] = forge.signFit(installation).split('.');
        const claims = jsonwebtoken.decode(forge.signFit(installation)) as Record<string, unknown>;
        return `${h}.${b64url({ ...claims, principal: 'admin' })}.${s}`;
      },
      'fit_invalid_signature',
    ],
    [
      'unknown kid',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const claims = jsonwebtoken.decode(forge.signFit(installation)) as object;
        return jsonwebtoken.sign(claims, privateKey, { algorithm: 'RS256', keyid: 'forge/unknown' });
      },
      'fit_unknown_key',
    ],
    [
      'wrong key for a known kid',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const claims = jsonwebtoken.decode(forge.signFit(installation)) as object;
        return jsonwebtoken.sign(claims, privateKey, { algorithm: 'RS256', keyid: forge.currentKid });
      },
      'fit_invalid_signature',
    ],
    ['without an installation id', () => forge.signFit({ ...installation, overrides: { app: { id: appId } } }), 'fit_invalid_claims'],
  ];

  it.each(attacks)('refuses %s with a JSON 401', async (_name, token, code) => {
    const res = await call(token() || undefined);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.error.code).toBe(code);
  });

  it('accepts a FIT just inside the leeway', async () => {
    const res = await call(forge.signFit({ ...installation, overrides: { exp: Math.floor(clockMs / 1000) - FIT_CLOCK_LEEWAY_SECONDS + 2 } }));
    expect(res.status).toBe(200);
  });

  it('guards every /forge path, including ones with no route', async () => {
    const res = await call(undefined, '/forge/anything');
    expect(res.status).toBe(401);
  });
});

describe('the JWKS behind the FIT check', () => {
  it('answers 503 with Retry-After while the JWKS is down, never 401, and recovers within seconds', async () => {
    jwks.behaviour.mode = 'down';
    const fit = forge.signFit(installation);
    const down = await call(fit);
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('forge_keys_unavailable');
    expect(Number(down.headers['retry-after'])).toBeLessThanOrEqual(JWKS_LIMITS.FAILED_FETCH_RETRY_MS / 1000);
    // Inside the retry interval requests fail fast without hammering the JWKS.
    const hits = jwks.hits();
    expect((await call(fit)).status).toBe(503);
    expect(jwks.hits()).toBe(hits);
    jwks.behaviour.mode = 'ok';
    clockMs += JWKS_LIMITS.FAILED_FETCH_RETRY_MS;
    expect((await call(forge.signFit(installation))).status).toBe(200);
  });

  it('answers 503 when the JWKS is too slow or not a key set', async () => {
    jwks.behaviour.mode = 'slow';
    const started = Date.now();
    expect((await call(forge.signFit(installation))).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3_000);
    rebuild();
    jwks.behaviour.mode = 'garbage';
    expect((await call(forge.signFit(installation))).status).toBe(503);
  });

  it('follows a key rotation with one refetch on the new kid', async () => {
    expect((await call(forge.signFit(installation))).status).toBe(200);
    clockMs += JWKS_LIMITS.REFETCH_MIN_INTERVAL_MS;
    forge.rotateKey(false);
    const before = jwks.hits();
    expect((await call(forge.signFit(installation))).status).toBe(200);
    expect(jwks.hits() - before).toBe(1);
  });

  it('keeps using known keys when a refresh of stale keys fails', async () => {
    expect((await call(forge.signFit(installation))).status).toBe(200);
    clockMs += JWKS_LIMITS.MAX_AGE_MS;
    jwks.behaviour.mode = 'down';
    expect((await call(forge.signFit(installation))).status).toBe(200);
  });

  it('refetches at most once per interval for a flood of unknown kids', async () => {
    expect((await call(forge.signFit(installation))).status).toBe(200);
    clockMs += JWKS_LIMITS.REFETCH_MIN_INTERVAL_MS;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = jsonwebtoken.decode(forge.signFit(installation)) as object;
    const before = jwks.hits();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(jsonwebtoken.sign(claims, privateKey, { algorithm: 'RS256', keyid: `forge/bogus-${i}` }))),
    );
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(jwks.hits() - before).toBe(1);
    clockMs += JWKS_LIMITS.REFETCH_MIN_INTERVAL_MS;
    expect((await call(jsonwebtoken.sign(claims, privateKey, { algorithm: 'RS256', keyid: 'forge/bogus-late' }))).status).toBe(401);
    expect(jwks.hits() - before).toBe(2);
  });
});
