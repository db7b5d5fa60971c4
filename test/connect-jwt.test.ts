import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_LEEWAY_SECONDS } from '../src/connect/jwt.ts';
import { install, newTenant, postWebhook, readFixture, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

const PUSH = readFixture('repo-push/froggit-go--pushpayload.json');
const HOOK = '/connect/webhook';

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

let t: TestApp;
let a: Tenant;
let b: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  a = newTenant();
  b = newTenant();
  await install(t, a);
  await install(t, b);
});
afterAll(async () => t.close());

/** The same request as a valid delivery, but carrying `token`. */
async function deliver(token: string | null) {
  const req = request(t.app)
    .post(HOOK)
    .set('Content-Type', 'application/json')
    .set('X-Event-Key', 'repo:push')
    .set('X-Request-UUID', randomUUID());
  if (token !== null) req.set('Authorization', `JWT ${token}`);
  return req.send(PUSH.toString('utf8'));
}

function claimsOf(token: string): Record<string, unknown> {
  return jsonwebtoken.decode(token) as Record<string, unknown>;
}

describe('JWT attack suite (webhook route, SignedRequest)', () => {
  const valid = () => signFor(t, a, 'POST', HOOK);
  const seconds = () => Math.floor(t.clock.now.getTime() / 1000);

  it('accepts the genuine request (so every rejection below is the attack, not the setup)', async () => {
    expect((await deliver(valid())).status).toBe(202);
  });

  const attacks: [string, () => string | null, string][] = [
    ['no token', () => null, 'jwt_missing'],
    ['garbage', () => 'not.a.jwt', 'jwt_malformed'],
    ['two segments', () => 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0', 'jwt_malformed'],
    ['alg none', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claimsOf(valid()))}.`, 'jwt_algorithm_not_allowed'],
    ['alg HS512', () => jsonwebtoken.sign(claimsOf(valid()), a.sharedSecret, { algorithm: 'HS512' }), 'jwt_algorithm_not_allowed'],
    [
      'RS256 header',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return jsonwebtoken.sign(claimsOf(valid()), privateKey, { algorithm: 'RS256' });
      },
      'jwt_algorithm_not_allowed',
    ],
    ['wrong secret', () => signFor(t, { ...a, sharedSecret: 'not-the-secret-0123456789abcdef' }, 'POST', HOOK), 'jwt_invalid_signature'],
    ["another tenant's secret", () => signFor(t, { ...a, sharedSecret: b.sharedSecret }, 'POST', HOOK), 'jwt_invalid_signature'],
    ["another tenant's secret, aud naming us", () => signFor(t, b, 'POST', HOOK, { aud: [a.clientKey] }), 'jwt_invalid_signature'],
    ['unknown iss', () => signFor(t, { clientKey: 'ari:cloud:bitbucket::app/{nobody}/gatehouse', sharedSecret: a.sharedSecret }, 'POST', HOOK), 'jwt_unknown_tenant'],
    ['no iss', () => signFor(t, a, 'POST', HOOK, { claims: { iss: undefined } }), 'jwt_missing_claim'],
    ['no exp', () => signFor(t, a, 'POST', HOOK, { claims: { exp: undefined } }), 'jwt_missing_claim'],
    ['expired beyond the leeway', () => signFor(t, a, 'POST', HOOK, { claims: { exp: seconds() - CLOCK_LEEWAY_SECONDS - 1 } }), 'jwt_expired'],
    ['iat far in the future', () => signFor(t, a, 'POST', HOOK, { claims: { iat: seconds() + 3600, exp: seconds() + 3780 } }), 'jwt_issued_in_future'],
    ['nbf in the future', () => signFor(t, a, 'POST', HOOK, { claims: { nbf: seconds() + 600 } }), 'jwt_not_yet_valid'],
    ['missing qsh', () => signFor(t, a, 'POST', HOOK, { claims: { qsh: undefined } }), 'jwt_qsh_missing'],
    ['wrong qsh (another path)', () => signFor(t, a, 'POST', '/connect/lifecycle/uninstalled'), 'jwt_qsh_mismatch'],
    ['wrong qsh (another method)', () => signFor(t, a, 'GET', HOOK), 'jwt_qsh_mismatch'],
    [
      'a non-canonical encoding of the right signature (spare bits set)',
      () => {
        const token = valid();
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(token.slice(-1));
        // 32 bytes in 43 characters: the last character's two low bits decode to nothing.
        return token.slice(0, -1) + alphabet.charAt(last ^ 1);
      },
      'jwt_invalid_signature',
    ],
    ['four segments', () => `${valid()}.${b64url({})}`, 'jwt_malformed'],
    ['padded base64 segments', () => valid().replace('.', '==.'), 'jwt_malformed'],
    ['a header that is not an object', () => `${Buffer.from('"HS256"').toString('base64url')}.${valid().split('.').slice(1).join('.')}`, 'jwt_malformed'],
    ['HS256 header, no signature', () => valid().replace(/\.[^.]*$/, '.'), 'jwt_malformed'],
    ['exp that is not a number', () => signFor(t, a, 'POST', HOOK, { claims: { exp: String(seconds() + 180) } }), 'jwt_malformed'],
    ['context qsh (not supported by Bitbucket)', () => signFor(t, a, 'POST', HOOK, { claims: { qsh: 'context-qsh' } }), 'jwt_qsh_mismatch'],
  ];

  for (const [name, token, code] of attacks) {
    it(`rejects ${name} with 401 ${code}`, async () => {
      const res = await deliver(token());
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.error.code).toBe(code);
    });
  }

  it('accepts expiry within the named leeway', async () => {
    expect((await deliver(signFor(t, a, 'POST', HOOK, { claims: { exp: seconds() - CLOCK_LEEWAY_SECONDS + 5 } }))).status).toBe(202);
  });

  it('does not take a server-to-server token from the query string', async () => {
    const res = await request(t.app)
      .post(`${HOOK}?jwt=${signFor(t, a, 'POST', HOOK)}`)
      .set('X-Event-Key', 'repo:push')
      .set('Content-Type', 'application/json')
      .send(PUSH.toString('utf8'));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('jwt_missing');
  });

  it('uses the injected clock: the same token expires when time moves on', async () => {
    const token = valid();
    const saved = t.clock.now;
    t.clock.now = new Date(saved.getTime() + (180 + CLOCK_LEEWAY_SECONDS + 1) * 1000);
    try {
      expect((await deliver(token)).body.error.code).toBe('jwt_expired');
    } finally {
      t.clock.now = saved;
    }
  });

  it('never writes a token or secret to the log', async () => {
    const token = valid();
    await postWebhook(t, a, PUSH, { eventKey: 'repo:push', token });
    await deliver(signFor(t, a, 'POST', '/elsewhere'));
    const logs = t.logs();
    expect(logs).toContain('webhook acknowledged');
    expect(logs).not.toContain(token.split('.')[2]);
    expect(logs).not.toContain(a.sharedSecret);
  });
});
