import { gzipSync } from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/http/server.ts';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_HEADER } from '../src/ui/session-token.ts';
import { sendRaw } from './fuzz/target.ts';
import { install, newTenant, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

/**
 * What the HTTP fuzz suite (fuzz-http.test.ts) found, each pinned by a test of its own:
 * failures raised by Express's layers and by Node's HTTP parser used to come back as a 500
 * or as a bare status line without the JSON error body.
 */

let t: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = newTenant();
  await install(t, tenant);
});
afterAll(async () => t.close());

function expectJsonError(res: { status: number; headers: Record<string, string>; text: string }, status: number, code: string): void {
  expect([res.status, res.headers['content-type']]).toEqual([status, 'application/json; charset=utf-8']);
  expect(JSON.parse(res.text)).toEqual({ error: { code, message: expect.any(String) } });
  expect(res.text).not.toMatch(/node_modules|\n\s+at /);
}

describe('failures of Express layers answer as JSON client errors', () => {
  it('a form with more fields than the page forms allow is 413, not 500', async () => {
    const instance = installationInstance((await t.store.getInstallation(tenant.clientKey))!);
    const session = mintSessionToken(deriveSessionKey(t.config.encryptionKey), { clientKey: tenant.clientKey, user: null, repoUuid: null, repoFullName: null, instance }, t.clock.now).token;
    const form = Array.from({ length: 60 }, (_, i) => `f${i}=x`).join('&');
    const res = await request(t.app).post('/ui/settings').set(SESSION_HEADER, session).type('form').send(form);
    expectJsonError(res, 413, 'too_many_fields');
  });

  it('a path parameter that does not percent-decode is 400, not 500', async () => {
    for (const name of ['%E0%A4%A', '%', 'panel.css%zz']) {
      expectJsonError(await request(t.app).get(`/ui/static/${name}`), 400, 'bad_request');
    }
  });

  it('a compressed body that does not inflate is 400, not 500', async () => {
    const url = '/api/policy';
    const res = await request(t.app).put(url).set('Authorization', `JWT ${signFor(t, tenant, 'PUT', url)}`).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('not gzip at all');
    expectJsonError(res, 400, 'bad_request');
  });

  it('a gzip body over the limit is refused with the limit of that route', async () => {
    const url = '/api/policy';
    const body = gzipSync(JSON.stringify({ ignoredPaths: Array.from({ length: 20_000 }, (_, i) => `dir${i}/**`) }));
    // Not typed as JSON: superagent would encode a Buffer as JSON (the API parses any type as JSON).
    const res = await request(t.app).put(url).set('Authorization', `JWT ${signFor(t, tenant, 'PUT', url)}`).set('Content-Type', 'application/octet-stream').set('Content-Encoding', 'gzip').send(body);
    expectJsonError(res, 413, 'payload_too_large');
    expect(JSON.parse(res.text).error.message).toBe('Request body exceeds the 64 KB limit');
  });
});

describe('page session tokens', () => {
  it('a token signed with the app key but with claims of the wrong type is refused, not a 500', async () => {
    // Only the app holds the key, but the claims are checked all the same before they are used.
    const key = deriveSessionKey(t.config.encryptionKey);
    const iat = Math.floor(t.clock.now.getTime() / 1000);
    const ins = installationInstance((await t.store.getInstallation(tenant.clientKey))!);
    for (const odd of [{ rfn: 42 }, { repo: { uuid: 'x' } }, { sub: ['a'] }]) {
      const claims = { iss: 'gatehouse', aud: 'gatehouse-sbom-link', ck: tenant.clientKey, repo: '{r}', rfn: 'acme/web', ins, sat: iat, iat, exp: iat + 60, ...odd };
      const token = jwt.sign(claims, key, { algorithm: 'HS256', noTimestamp: true });
      expectJsonError(await request(t.app).get(`/ui/sbom?token=${token}`), 401, 'session_invalid');
    }
  });
});

describe("requests Node's parser refuses are answered in the JSON error shape", () => {
  let port: number;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const server = createHttpServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => close());

  /** The whole answer to bytes written as they are (the server closes after a refusal). */
  async function raw(bytes: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const res = await sendRaw(port, Buffer.from(bytes, 'latin1'), false);
    if (!res.ok) throw new Error(res.error);
    return { status: res.status, headers: res.headers, body: res.body.toString('utf8') };
  }

  it('headers over 16 KB: 431 with a JSON error and the security headers', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', connection: 'close' });
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'headers_too_large', message: expect.any(String) } });
  });

  it('an unparseable request: 400 with a JSON error', async () => {
    for (const bytes of ['BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n', 'POST /connect/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!']) {
      const answer = await raw(bytes);
      expect([bytes, answer.status]).toEqual([bytes, 400]);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'malformed_request', message: expect.any(String) } });
    }
  });

  it('CONNECT: 405 with a JSON error, not a dropped connection', async () => {
    const answer = await raw('CONNECT /api/policy HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer.status).toBe(405);
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'method_not_allowed', message: expect.any(String) } });
  });

  it('the answer to a HEAD request it refuses has no body', async () => {
    const answer = await raw(`HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expect(answer.body).toBe('');
  });
});
