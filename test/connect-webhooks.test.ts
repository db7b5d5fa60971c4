import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { deliveryKey } from '../src/core/dispatch.ts';
import { createLogger } from '../src/log.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { FIXTURES, install, newTenant, postWebhook, readFixture, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

const PUSH = 'repo-push/froggit-go--pushpayload.json';
const PR_CREATED = 'pullrequest-created/froggit-go.json';

let t: TestApp;
let a: Tenant;
beforeEach(async () => {
  t = await startTestApp();
  a = newTenant();
  await install(t, a);
});
afterEach(async () => t.close());

describe('real fixture deliveries', () => {
  const handled = ['repo-push', 'pullrequest-created', 'pullrequest-updated', 'pullrequest-fulfilled', 'pullrequest-rejected'];
  const files = handled.flatMap((dir) => readdirSync(path.join(FIXTURES, dir)).map((f) => `${dir}/${f}`));
  const skip = new Set(['repo-push/jenkins-push-pr.json']); // anonymised, invalid hash: see events.test.ts

  it('enqueues one job per handled fixture, bare or Connect-wrapped', async () => {
    let expected = 0;
    for (const file of files.filter((f) => !skip.has(f))) {
      const eventKey = path.dirname(file).replace('-', ':');
      const res = await postWebhook(t, a, readFixture(file), { eventKey });
      expect([file, res.status, res.body.status]).toEqual([file, 202, 'accepted']);
      expected++;
    }
    const jobs = await t.store.listJobs({ clientKey: a.clientKey, status: 'queued' });
    expect(jobs).toHaveLength(expected);
    expect(new Set(jobs.map((j) => j.type))).toEqual(
      new Set(['event:push', 'event:pull_request:opened', 'event:pull_request:updated', 'event:pull_request:merged', 'event:pull_request:declined']),
    );
  });

  it('wraps a bare payload the Connect way and reads the event key from the body', async () => {
    const res = await postWebhook(t, a, readFixture(PR_CREATED), { eventKey: 'pullrequest:created', wrap: true });
    expect(res.status).toBe(202);
    const job = await t.store.getJob(res.body.jobId as string);
    expect(job).toMatchObject({ type: 'event:pull_request:opened', status: 'queued', group: expect.stringMatching(/^pull_request:\{/) });
    expect(job?.payload).toMatchObject({ type: 'pull_request', action: 'opened', pullRequest: { id: 2 } });
  });

  it('takes the event key from a wrapped body when the header is absent', async () => {
    const res = await postWebhook(t, a, readFixture('repo-push/toolchain-connect--repo_push_create_tag.json'));
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('accepted');
  });
});

describe('redelivery', () => {
  it('recognises X-Request-UUID and does not enqueue twice', async () => {
    const uuid = randomUUID();
    const first = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', requestUuid: uuid });
    const again = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', requestUuid: uuid });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ duplicate: false, deliveryId: uuid });
    expect(again.status).toBe(200);
    // The answer points at the job the first delivery created.
    expect(again.body).toMatchObject({ duplicate: true, jobId: first.body.jobId });
    expect(await t.store.listJobs({ clientKey: a.clientKey })).toHaveLength(1);
  });

  it('falls back to a hash of the body when X-Request-UUID is absent', async () => {
    const first = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', requestUuid: null });
    const again = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', requestUuid: null });
    const other = await postWebhook(t, a, readFixture('repo-push/drone-go-scm--push.json'), { eventKey: 'repo:push', requestUuid: null });
    expect(first.body.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again.body.duplicate).toBe(true);
    expect(other.body.duplicate).toBe(false);
    expect(await t.store.listJobs({ clientKey: a.clientKey })).toHaveLength(2);
  });
});

describe('events the app does not act on', () => {
  it('acknowledges and records them without a job', async () => {
    const uuid = randomUUID();
    const res = await postWebhook(t, a, readFixture('pullrequest-approved/toolchain-connect.json'), {
      eventKey: 'pullrequest:approved',
      requestUuid: uuid,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'ignored', jobId: null });
    expect(await t.store.getDelivery(deliveryKey(a.clientKey, uuid))).toMatchObject({ event: 'pullrequest:approved', jobId: null });
    expect(await t.store.listJobs({ clientKey: a.clientKey })).toHaveLength(0);
  });
});

describe('bad deliveries', () => {
  it('400 on a body that is not JSON', async () => {
    const res = await postWebhook(t, a, '{"push": ', { eventKey: 'repo:push' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('400 on a handled event whose payload fails the schema, naming the field', async () => {
    const res = await postWebhook(t, a, { repository: { uuid: '{x}', full_name: 'a/b', name: 'b' } }, { eventKey: 'repo:push' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_payload');
    expect(res.body.error.message).toContain('push');
  });

  it('400 when the header and the body disagree on the event', async () => {
    const res = await postWebhook(t, a, readFixture('repo-push/toolchain-connect--repo_push_create_tag.json'), { eventKey: 'pullrequest:created' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('event_key_mismatch');
  });

  it('400 on a JSON body that is not an object', async () => {
    const res = await postWebhook(t, a, '[1,2]', { eventKey: 'repo:push' });
    expect(res.body.error.code).toBe('malformed_payload');
  });

  it('400 without any event key', async () => {
    const res = await postWebhook(t, a, readFixture(PUSH));
    expect(res.body.error.code).toBe('missing_event_key');
  });

  it('400 on an X-Request-UUID that could not be a delivery id', async () => {
    const res = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', requestUuid: 'x'.repeat(300) });
    expect(res.body.error.code).toBe('invalid_request_uuid');
  });

  it('413 on a body over 1 MB, as JSON', async () => {
    const big = { ...JSON.parse(readFixture(PUSH).toString('utf8')), padding: 'x'.repeat(1024 * 1024) };
    const res = await postWebhook(t, a, big, { eventKey: 'repo:push' });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('413 on a chunked body that grows past 1 MB (no Content-Length to refuse it by)', async () => {
    const server = createServer(t.app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/connect/webhook',
            headers: { authorization: `JWT ${signFor(t, a, 'POST', '/connect/webhook')}`, 'x-event-key': 'repo:push', 'transfer-encoding': 'chunked' },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        // 17 chunks of 64 KB: one past the limit. The server may stop reading; ignore EPIPE.
        for (let i = 0; i < 17; i++) req.write(chunk);
        req.end();
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('415 on a compressed body instead of inflating it', async () => {
    const res = await request(t.app)
      .post('/connect/webhook')
      .set('Authorization', `JWT ${signFor(t, a, 'POST', '/connect/webhook')}`)
      .set('X-Event-Key', 'repo:push')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync(readFixture(PUSH)));
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_encoding');
  });

  it('401 before the body is even read when the JWT is bad, closing the connection instead of draining the body', async () => {
    const big = { padding: 'x'.repeat(2 * 1024 * 1024) };
    const res = await postWebhook(t, a, big, { eventKey: 'repo:push', token: 'garbage' });
    expect(res.status).toBe(401);
    expect(res.headers.connection).toBe('close');
  });
});

describe('logging', () => {
  it("logs each delivery through a child logger bound to its tenant and request id", async () => {
    const res = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', requestUuid: 'log-probe-1' });
    expect(res.status).toBe(202);
    const lines = t.logs().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => l.msg === 'webhook acknowledged' && l.requestId === 'log-probe-1');
    expect(line).toMatchObject({ clientKey: a.clientKey, requestId: 'log-probe-1', event: 'repo:push', status: 'accepted', duplicate: false, jobId: res.body.jobId });
  });
});

describe('routing of the node:http intake', () => {
  it('takes the path with a trailing slash or a query, each signed as sent', async () => {
    for (const path of ['/connect/webhook/', '/connect/webhook?source=bitbucket']) {
      const res = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push', path });
      expect([path, res.status]).toEqual([path, 202]);
    }
  });

  it('leaves other methods on the path to Express, which answers a JSON 404', async () => {
    const res = await request(t.app).get('/connect/webhook').expect(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('survives a sender that hangs up mid-body, and serves the next delivery', async () => {
    const server = createServer(t.app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const before = await t.store.countDeliveries();
      await new Promise<void>((resolve) => {
        const req = httpRequest({
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/connect/webhook',
          headers: { authorization: `JWT ${signFor(t, a, 'POST', '/connect/webhook')}`, 'x-event-key': 'repo:push', 'content-length': '100000' },
        });
        req.on('error', () => resolve());
        req.write('{"push":');
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
      const next = await postWebhook(t, a, readFixture(PUSH), { eventKey: 'repo:push' });
      expect(next.status).toBe(202);
      // Only the complete delivery was recorded; the cut-off one left nothing behind.
      expect(await t.store.countDeliveries()).toBe(before + 1);
      expect(t.logs()).not.toContain('unhandled error');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('durability', () => {
  it('a queued job survives closing and reopening the store (a restart)', async () => {
    const res = await postWebhook(t, a, readFixture(PR_CREATED), { eventKey: 'pullrequest:created' });
    const jobId = res.body.jobId as string;
    await t.store.close();

    const reopened = new LowdbStore({ dataDir: t.config.dataDir });
    await reopened.open();
    try {
      expect(await reopened.getJob(jobId)).toMatchObject({ status: 'queued', type: 'event:pull_request:opened' });
      // And a restarted app still recognises the delivery as a redelivery.
      const app = createApp({ config: t.config, store: reopened, logger: createLogger('silent'), now: () => t.clock.now });
      const again = await postWebhook({ ...t, app }, a, readFixture(PR_CREATED), {
        eventKey: 'pullrequest:created',
        requestUuid: res.body.deliveryId as string,
      });
      expect(again.body.duplicate).toBe(true);
    } finally {
      await reopened.close();
    }
  });
});
