import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import jsonwebtoken from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../../src/store/results-store.ts';

/**
 * Test harness for the Connect front door (DESIGN.md example 10): a real app over a real
 * LowdbStore in a temp dir, a frozen clock, a captured log, and helpers that sign requests
 * the way Bitbucket does (atlassian-jwt's own qsh, independent of the verifier's code) and
 * post the real fixture payloads in ../shared/reference/payloads.
 */

/** Copied byte-for-byte from ../shared/reference/payloads (licences and sources in SOURCES.md there). */
export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/bitbucket-payloads/cloud');
export const BITBUCKET_ORIGIN = 'http://127.0.0.1:4100';
export const BITBUCKET_API_ORIGIN = 'http://127.0.0.1:4101';
export const T0 = new Date('2026-03-01T12:00:00Z');

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    production: false,
    port: 0,
    baseUrl: 'https://gatehouse.example',
    dataDir: mkdtempSync(path.join(tmpdir(), 'gatehouse-connect-')),
    appKey: 'gatehouse',
    encryptionKey: randomBytes(32),
    bitbucketBaseUrls: [BITBUCKET_ORIGIN],
    bitbucketApiUrls: [BITBUCKET_API_ORIGIN],
    osvMirrorUrl: 'http://127.0.0.1:4102',
    logLevel: 'debug',
    ...overrides,
  };
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  store: LowdbStore;
  results: JournalResultsStore;
  config: Config;
  clock: { now: Date };
  /** Everything the app logged, one JSON line per entry. */
  logs: () => string;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const store = new LowdbStore({ dataDir: config.dataDir });
  await store.open();
  const results = new JournalResultsStore({ dataDir: config.dataDir });
  await results.open();
  const clock = { now: T0 };
  let logged = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged += chunk.toString('utf8');
      done();
    },
  });
  const logger: Logger = createLogger('debug', sink);
  // No Bitbucket answers at BITBUCKET_API_ORIGIN here: the pages' lookups fail at once instead of retrying.
  const app = createApp({ config, store, results, logger, now: () => clock.now, clientTuning: { maxRetries: 0, fetch: fakeTokenEndpoint } });
  return {
    app,
    store,
    results,
    config,
    clock,
    logs: () => logged,
    async close() {
      await results.close();
      await store.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** What signing and posting need of an app under test (any store behind it). */
export type SignedApp = Pick<TestApp, 'app' | 'config' | 'clock'>;

export interface Tenant {
  clientKey: string;
  sharedSecret: string;
}

/** Shared secrets Bitbucket issued, by clientKey (what its token endpoint below accepts). */
const issued = new Map<string, Set<string>>();

/** Records that Bitbucket issued this tenant's secret: a genuine install, which the app can prove. */
export function bitbucketIssued(tenant: Tenant): Tenant {
  let secrets = issued.get(tenant.clientKey);
  if (!secrets) issued.set(tenant.clientKey, (secrets = new Set()));
  secrets.add(tenant.sharedSecret);
  return tenant;
}

/** A tenant as Bitbucket creates it (its secret issued by Bitbucket). */
export function newTenant(): Tenant {
  return bitbucketIssued({
    clientKey: `ari:cloud:bitbucket::app/{${randomUUID()}}/gatehouse`,
    sharedSecret: randomBytes(32).toString('base64url'),
  });
}

/**
 * Bitbucket's token endpoint at BITBUCKET_ORIGIN, in the app's fetch: the JWT bearer grant
 * succeeds when the JWT (iss = app key) verifies with a secret issued for its `sub`. Every
 * other request goes to the network, where nothing listens, and fails at once. The simulator
 * (src/simulator/web-origin.ts) is the full-fidelity version of this endpoint.
 */
export const fakeTokenEndpoint: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.origin !== BITBUCKET_ORIGIN || url.pathname !== '/site/oauth2/access_token') return fetch(input, init);
  // An answer on a later turn of the event loop, as from a real server.
  await new Promise((resolve) => setImmediate(resolve));
  const token = /^JWT (\S+)$/.exec(new Headers(init?.headers).get('authorization') ?? '')?.[1];
  const claims = token ? jsonwebtoken.decode(token) : null;
  const sub = typeof claims === 'object' && claims?.iss === 'gatehouse' ? claims.sub : undefined;
  const verifies = (secret: string) => {
    try {
      jsonwebtoken.verify(token!, secret, { algorithms: ['HS256'] });
      return true;
    } catch {
      return false;
    }
  };
  if (sub !== undefined && [...(issued.get(sub) ?? [])].some(verifies)) {
    return Response.json({ access_token: randomUUID(), expires_in: 3600, token_type: 'bearer' });
  }
  return Response.json({ error: 'invalid_grant', error_description: 'JWT not signed with a secret of this installation' }, { status: 401 });
};

export function installBody(tenant: Tenant, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    key: 'gatehouse',
    clientKey: tenant.clientKey,
    publicKey: 'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC',
    sharedSecret: tenant.sharedSecret,
    serverVersion: '1',
    pluginsVersion: '1',
    baseUrl: BITBUCKET_ORIGIN,
    baseApiUrl: BITBUCKET_API_ORIGIN,
    productType: 'bitbucket',
    description: 'Bitbucket',
    eventType: 'installed',
    principal: { type: 'workspace', uuid: '{0b7f0b3e-1d2c-4f55-9d6e-7c1f2a3b4c5d}', slug: 'acme', display_name: 'Acme' },
    ...overrides,
  };
}

export interface SignOptions {
  secret: string;
  iss: string;
  method: string;
  /** Path and query as the client requests it (including any BASE_URL path prefix). */
  url: string;
  /** The app's BASE_URL: the qsh path is relative to its path. */
  baseUrl: string;
  now: Date;
  aud?: string | string[];
  sub?: string;
  lifetimeSeconds?: number;
  /** Replace or delete (undefined) claims after the defaults are computed. */
  claims?: Record<string, unknown>;
}

/** Signs a request the way Bitbucket does: HS256, qsh from atlassian-jwt over the request. */
export function signJwt(o: SignOptions): string {
  const iat = Math.floor(o.now.getTime() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl(o.method, new URL(o.url, o.baseUrl).href), false, o.baseUrl);
  const payload: Record<string, unknown> = {
    iss: o.iss,
    iat,
    exp: iat + (o.lifetimeSeconds ?? 180),
    qsh,
    sub: o.sub ?? '{5d1f6a4b-0f0e-4c8e-9a39-0d5c3b6c9f11}',
    ...(o.aud === undefined ? {} : { aud: o.aud }),
  };
  for (const [k, v] of Object.entries(o.claims ?? {})) {
    if (v === undefined) delete payload[k];
    else payload[k] = v;
  }
  return encodeSymmetric(payload, o.secret);
}

export function signFor(t: SignedApp, tenant: Tenant, method: string, url: string, extra: Partial<SignOptions> = {}): string {
  return signJwt({ secret: tenant.sharedSecret, iss: tenant.clientKey, method, url, baseUrl: t.config.baseUrl, now: t.clock.now, ...extra });
}

/** First install: unsigned, as Bitbucket sends it. */
export async function install(t: SignedApp, tenant: Tenant): Promise<void> {
  const res = await request(t.app).post('/connect/lifecycle/installed').send(installBody(tenant));
  if (res.status !== 204) throw new Error(`install failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export function readFixture(relative: string): Buffer {
  return readFileSync(path.join(FIXTURES, relative));
}

export interface PostOptions {
  eventKey?: string;
  requestUuid?: string | null;
  /** Wrap the body the way Connect delivers it: {"event", "data"}. */
  wrap?: boolean;
  token?: string;
  /** Defaults to /connect/webhook; include any BASE_URL path prefix. */
  path?: string;
}

/**
 * Posts a body to the webhook route signed for `tenant`. A fixture file (Buffer) stored with
 * its captured headers (`{"headers","payload"}`) is unpacked into its Connect body; an
 * object is JSON-encoded; a string is sent exactly as given (for malformed bodies).
 */
export function postWebhook(t: SignedApp, tenant: Tenant, body: Buffer | string | object, o: PostOptions = {}): request.Test {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    let value = (Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : body) as Record<string, unknown>;
    if (value.headers && value.payload) value = value.payload as Record<string, unknown>;
    text = JSON.stringify(o.wrap ? { event: o.eventKey, data: value } : value);
  }
  const route = o.path ?? '/connect/webhook';
  const req = request(t.app)
    .post(route)
    .set('Content-Type', 'application/json')
    .set('User-Agent', 'Bitbucket-Webhooks/2.0')
    .set('Authorization', `JWT ${o.token ?? signFor(t, tenant, 'POST', route)}`);
  if (o.eventKey) req.set('X-Event-Key', o.eventKey);
  const uuid = o.requestUuid === undefined ? randomUUID() : o.requestUuid;
  if (uuid !== null) req.set('X-Request-UUID', uuid);
  // A string, not a Buffer: superagent would JSON-encode a Buffer under a JSON content type.
  return req.send(text);
}
