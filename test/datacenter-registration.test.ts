import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/io.ts';
import { main } from '../src/cli/main.ts';
import { decryptSecret } from '../src/crypto.ts';
import { WEBHOOK_EVENTS } from '../src/datacenter/instance-api.ts';
import { signBody } from '../src/datacenter/signature.ts';
import { datacenterInstancesIn } from '../src/store/datacenter-instance-file.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { startTestApp, type TestApp } from './helpers/connect-tenant.ts';
import { startFakeDatacenter, type FakeDatacenter } from './helpers/fake-datacenter.ts';

const TOKEN = 'BBDC-NjY2OTk4MzM3NTk3OkVYQU1QTEVfVE9LRU5fVkFMVUVfRk9SX1RFU1RT';
const BASE_URL = 'https://gatehouse.example';

let dir: string;
let key: Buffer;
let dc: FakeDatacenter;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-dc-cli-'));
  key = randomBytes(32);
  // A token file as editors and `echo` write it: with a trailing newline.
  writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
  dc = await startFakeDatacenter({ token: TOKEN, repos: ['PRJ/my-repo', 'PRJ/other', 'OPS/infra'], admin: ['PRJ', 'OPS/infra'], contextPath: '/bitbucket' });
});

afterEach(async () => {
  await dc.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: (async function* () {})(),
    env: { DATA_DIR: path.join(dir, 'data'), ENCRYPTION_KEY: key.toString('hex'), BASE_URL, ...env },
    cwd: dir,
  } as unknown as CliIo;
  const status = await main(['datacenter', ...args], io);
  return { status, out, err };
}

function add(...extra: string[]) {
  return cli(['add', '--name', 'Acme DC', '--base-url', `${dc.baseUrl}/`, '--token-file', 'token', ...extra]);
}

const registry = () => datacenterInstancesIn(path.join(dir, 'data'));

describe('gatehouse datacenter add', () => {
  it('checks the token, stores the instance encrypted and prints one JSON line with the webhook URL and a generated secret', async () => {
    const { status, out, err } = await add();
    expect(status).toBe(0);
    expect(out.endsWith('\n') && out.trim().split('\n')).toHaveLength(1);
    const printed = JSON.parse(out);
    expect(printed).toMatchObject({
      instanceId: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Acme DC',
      baseUrl: dc.baseUrl,
      webhookUrl: `${BASE_URL}/datacenter/webhook/${printed.instanceId}`,
      webhookSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    // The token was checked with the trailing newline cut off, and only ever sent to the base URL's /rest tree.
    expect(dc.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(['GET /bitbucket/rest/api/latest/application-properties', 'GET /bitbucket/rest/api/latest/repos']);
    expect(dc.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const [stored] = await registry().listDatacenterInstances();
    expect(decryptSecret(key, stored!.encryptedToken)).toBe(TOKEN);
    expect(decryptSecret(key, stored!.encryptedWebhookSecret)).toBe(printed.webhookSecret);
    expect(readFileSync(path.join(dir, 'data', 'datacenter-instances.json'), 'utf8')).not.toContain(TOKEN);
    expect(out + err).not.toContain(TOKEN);
  });

  it('uses a given webhook secret (trailing newline trimmed) and does not print it', async () => {
    writeFileSync(path.join(dir, 'secret'), 'my-shared-secret\r\n');
    const { status, out } = await add('--webhook-secret-file', 'secret');
    expect(status).toBe(0);
    expect(JSON.parse(out).webhookSecret).toBeUndefined();
    const [stored] = await registry().listDatacenterInstances();
    expect(decryptSecret(key, stored!.encryptedWebhookSecret)).toBe('my-shared-secret');
  });

  it('stores nothing and says what is wrong when the instance refuses the token, cannot be reached, or the token reads nothing', async () => {
    writeFileSync(path.join(dir, 'token'), 'BBDC-wrong-token\n');
    const refused = await add();
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/rejected the token \(HTTP 401\)/);
    expect(refused.err).not.toContain('BBDC-wrong-token');

    writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
    const down = await cli(['add', '--name', 'x', '--base-url', 'http://127.0.0.1:1', '--token-file', 'token']);
    expect(down.status).toBe(1);
    expect(down.err).toMatch(/cannot reach Data Center at http:\/\/127\.0\.0\.1:1/);

    const blind = await startFakeDatacenter({ token: TOKEN, repos: [] });
    try {
      const nothing = await cli(['add', '--name', 'x', '--base-url', blind.baseUrl, '--token-file', 'token']);
      expect(nothing.status).toBe(1);
      expect(nothing.err).toMatch(/can read no repository/);
    } finally {
      await blind.close();
    }
    expect(await registry().listDatacenterInstances()).toEqual([]);
  });

  it('names too few permissions on a repository it is asked to install a webhook on', async () => {
    const { status, err } = await add('--install-webhooks', 'PRJ/my-repo');
    expect(status).toBe(1);
    expect(err).toMatch(/cannot manage the webhooks of repository PRJ\/my-repo \(HTTP 401\): it needs Repository admin/);
    const missing = await add('--install-webhooks', 'NOPE/none');
    expect(missing.err).toMatch(/repository NOPE\/none does not exist/);
  });

  it('refuses bad arguments with exit status 2', async () => {
    expect((await cli(['add', '--name', 'x', '--token-file', 'token'])).status).toBe(2);
    expect((await cli(['add', '--name', 'x', '--base-url', 'ftp://dc', '--token-file', 'token'])).err).toMatch(/base URL: expected an http or https URL/);
    expect((await cli(['add', '--name', 'x', '--base-url', dc.baseUrl, '--token-file', 'missing'])).err).toMatch(/--token-file: cannot read missing \(ENOENT\)/);
    expect((await add('--install-webhooks', 'PRJ/a/b')).err).toMatch(/--install-webhooks: "PRJ\/a\/b" is not PROJECT or PROJECT\/REPO/);
    expect((await cli(['frobnicate'])).status).toBe(2);
  });

  it('installs the webhooks with the events and the secret, and updates rather than duplicates them when run again', async () => {
    const first = JSON.parse((await add('--install-webhooks', 'PRJ,OPS/infra')).out);
    expect(first.webhooks).toEqual([
      { target: 'PRJ', action: 'created', webhookId: expect.any(Number) },
      { target: 'OPS/infra', action: 'created', webhookId: expect.any(Number) },
    ]);
    for (const scope of ['PRJ', 'OPS/infra']) {
      expect(dc.webhooks.get(scope)).toEqual([
        { id: expect.any(Number), name: 'Gatehouse', url: first.webhookUrl, active: true, events: [...WEBHOOK_EVENTS], configuration: { secret: first.webhookSecret } },
      ]);
    }
    // Again (a new token, say): same instance, same secret, the same webhooks updated.
    const again = await add('--install-webhooks', 'PRJ,OPS/infra');
    const second = JSON.parse(again.out);
    expect(second).toMatchObject({ instanceId: first.instanceId, updated: true, webhooks: [{ action: 'updated' }, { action: 'updated' }] });
    expect(second.webhookSecret).toBeUndefined();
    expect(dc.webhooks.get('PRJ')).toHaveLength(1);
    expect(dc.webhooks.get('PRJ')![0]!.configuration.secret).toBe(first.webhookSecret);
    expect(await registry().listDatacenterInstances()).toHaveLength(1);
  });

  it('refuses a taken name for another base URL', async () => {
    await add();
    const other = await startFakeDatacenter({ token: TOKEN });
    try {
      const res = await cli(['add', '--name', 'Acme DC', '--base-url', other.baseUrl, '--token-file', 'token']);
      expect(res.status).toBe(2);
      expect(res.err).toMatch(/is registered for http:\/\/127\.0\.0\.1:\d+\/bitbucket; remove it first/);
    } finally {
      await other.close();
    }
  });

  it('works while a server holds the DATA_DIR lock, and the server sees the instance at once', async () => {
    const server = new LowdbStore({ dataDir: path.join(dir, 'data') });
    await server.open();
    try {
      const { status, out } = await add();
      expect(status).toBe(0);
      expect((await server.getDatacenterInstance(JSON.parse(out).instanceId))?.name).toBe('Acme DC');
    } finally {
      await server.close();
    }
  });
});

describe('gatehouse datacenter list, rotate-secret, remove', () => {
  it('lists without tokens or secrets, rotates with a grace period, removes by name', async () => {
    const added = JSON.parse((await add()).out);
    const listed = await cli(['list']);
    expect(JSON.parse(listed.out)).toEqual([
      { instanceId: added.instanceId, name: 'Acme DC', baseUrl: dc.baseUrl, webhookUrl: added.webhookUrl, status: 'ok', createdAt: expect.any(String), updatedAt: expect.any(String) },
    ]);
    expect(listed.out).not.toContain(TOKEN);
    expect(listed.out).not.toContain(added.webhookSecret);

    const rotated = JSON.parse((await cli(['rotate-secret', 'Acme DC', '--grace-hours', '2'])).out);
    expect(rotated.webhookSecret).not.toBe(added.webhookSecret);
    expect(Date.parse(rotated.previousSecretValidUntil) - Date.now()).toBeGreaterThan(2 * 3_600_000 - 60_000);
    const [stored] = await registry().listDatacenterInstances();
    expect(decryptSecret(key, stored!.encryptedWebhookSecret)).toBe(rotated.webhookSecret);
    expect(decryptSecret(key, stored!.previousWebhookSecret!.encrypted)).toBe(added.webhookSecret);

    const removed = await cli(['remove', 'Acme DC']);
    expect(JSON.parse(removed.out)).toEqual({ removed: true, instanceId: added.instanceId, name: 'Acme DC' });
    expect(JSON.parse((await cli(['list'])).out)).toEqual([]);
    const again = await cli(['remove', 'Acme DC']);
    expect([again.status, again.err]).toEqual([2, expect.stringMatching(/no Data Center instance named "Acme DC"/)]);
  });

  it('updates installed webhooks to the new secret when asked', async () => {
    await add('--install-webhooks', 'PRJ');
    const rotated = JSON.parse((await cli(['rotate-secret', 'Acme DC', '--install-webhooks', 'PRJ'])).out);
    expect(rotated.webhooks).toEqual([{ target: 'PRJ', action: 'updated', webhookId: expect.any(Number) }]);
    expect(dc.webhooks.get('PRJ')![0]!.configuration.secret).toBe(rotated.webhookSecret);
  });
});

describe('operator API /admin/datacenter/instances', () => {
  const ADMIN = 'admin-token-0123456789abcdef0123456789';
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ adminToken: ADMIN });
  });
  afterEach(async () => t.close());

  const authed = (r: request.Test) => r.set('Authorization', `Bearer ${ADMIN}`);

  it('does not exist without ADMIN_TOKEN', async () => {
    const plain = await startTestApp();
    try {
      const res = await request(plain.app).get('/admin/datacenter/instances').set('Authorization', `Bearer ${ADMIN}`);
      expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
    } finally {
      await plain.close();
    }
  });

  it('answers 401 JSON without the operator token or with a wrong one', async () => {
    const none = await request(t.app).get('/admin/datacenter/instances');
    const wrong = await request(t.app).get('/admin/datacenter/instances').set('Authorization', 'Bearer nope');
    expect([none.status, none.body.error.code, none.headers['www-authenticate']]).toEqual([401, 'unauthorized', 'Bearer realm="gatehouse-admin"']);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'unauthorized']);
  });

  it('registers, lists, rotates and removes; the registered instance receives webhooks at once', async () => {
    const created = await authed(request(t.app).post('/admin/datacenter/instances')).send({ name: 'Acme DC', baseUrl: dc.baseUrl, token: TOKEN, installWebhooks: ['PRJ'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme DC', webhookUrl: `${t.config.baseUrl}/datacenter/webhook/${created.body.instanceId}`, webhookSecret: expect.any(String), updated: false });
    expect(JSON.stringify(created.body)).not.toContain(TOKEN);
    expect(dc.webhooks.get('PRJ')).toHaveLength(1);

    const body = '{"eventKey":"diagnostics:ping"}';
    const ping = await request(t.app)
      .post(`/datacenter/webhook/${created.body.instanceId}`)
      .set('X-Event-Key', 'diagnostics:ping')
      .set('X-Hub-Signature', signBody(created.body.webhookSecret, body))
      .send(body);
    expect(ping.status).toBe(200);

    const list = await authed(request(t.app).get('/admin/datacenter/instances'));
    expect(list.body.instances.map((i: { instanceId: string }) => i.instanceId)).toEqual([created.body.instanceId]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.webhookSecret);
    const one = await authed(request(t.app).get(`/admin/datacenter/instances/${created.body.instanceId}`));
    expect(one.body).toMatchObject({ name: 'Acme DC', status: 'ok' });

    const rotated = await authed(request(t.app).post(`/admin/datacenter/instances/${created.body.instanceId}/rotate-secret`)).send({ graceHours: 1 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhookSecret).not.toBe(created.body.webhookSecret);

    const removed = await authed(request(t.app).delete(`/admin/datacenter/instances/${created.body.instanceId}`));
    expect(removed.body).toEqual({ removed: true, instanceId: created.body.instanceId, name: 'Acme DC' });
    expect((await authed(request(t.app).get(`/admin/datacenter/instances/${created.body.instanceId}`))).status).toBe(404);
  });

  it('maps what went wrong to clear JSON errors', async () => {
    const rejected = await authed(request(t.app).post('/admin/datacenter/instances')).send({ name: 'x', baseUrl: dc.baseUrl, token: 'wrong' });
    expect([rejected.status, rejected.body.error.code]).toEqual([422, 'datacenter_token_rejected']);
    const unreachable = await authed(request(t.app).post('/admin/datacenter/instances')).send({ name: 'x', baseUrl: 'http://127.0.0.1:1', token: TOKEN });
    expect([unreachable.status, unreachable.body.error.code]).toEqual([502, 'datacenter_unreachable']);
    const invalid = await authed(request(t.app).post('/admin/datacenter/instances')).send({ name: 'x', baseUrl: dc.baseUrl, token: TOKEN, extra: 1 });
    expect([invalid.status, invalid.body.error.code]).toEqual([400, 'invalid_request']);
    const badJson = await authed(request(t.app).post('/admin/datacenter/instances')).set('Content-Type', 'application/json').send('{');
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'malformed_json']);
    expect(await t.store.listDatacenterInstances()).toEqual([]);
    const byName = await authed(request(t.app).delete('/admin/datacenter/instances?name=nobody'));
    expect([byName.status, byName.body.error.code]).toEqual([404, 'no_such_instance']);
  });
});
