import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QUEUE_FULL_RETRY_AFTER_SECONDS } from '../src/core/tenant-queue-limit.ts';
import { install, installBody, newTenant, postWebhook, readFixture, startTestApp, type TestApp } from './helpers/connect-tenant.ts';

// Issue 10 item 5: anyone can call the install route, so what it accepts must be bounded;
// and one installation must not be able to fill the job queue every tenant shares.

const INSTALLED = '/connect/lifecycle/installed';
const PUSH = 'repo-push/froggit-go--pushpayload.json';

let t: TestApp | undefined;
afterEach(async () => t?.close());

describe('install payload bounds', () => {
  it('a 600 KB install body (within the old 1 MB limit) is refused unread (413) and creates no tenant', async () => {
    t = await startTestApp();
    const a = newTenant();
    const res = await request(t.app)
      .post(INSTALLED)
      .send(installBody(a, { principal: { type: 'workspace', uuid: '{x}', display_name: 'x'.repeat(600 * 1024) } }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await t.store.getInstallation(a.clientKey)).toBeUndefined();
  });

  it.each([
    ['principal.display_name', { principal: { type: 'workspace', display_name: 'n'.repeat(256) } }],
    ['principal.username', { principal: { type: 'user', username: 'u'.repeat(129) } }],
    ['clientKey', { clientKey: `ari:cloud:bitbucket::app/{${'c'.repeat(300)}}/gatehouse` }],
    ['key', { key: 'k'.repeat(65) }],
    ['sharedSecret', { sharedSecret: 's'.repeat(513) }],
    ['baseApiUrl', { baseApiUrl: `http://127.0.0.1:4101/${'p'.repeat(600)}` }],
    ['description', { description: 'd'.repeat(1025) }],
  ])('an over-long %s is refused with a 400 naming the field, and nothing is stored', async (field, overrides) => {
    t = await startTestApp();
    const a = newTenant();
    const res = await request(t.app).post(INSTALLED).send(installBody(a, overrides));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_install_payload');
    expect(res.body.error.message).toContain(`${field}: at most`);
    expect(await t.store.listInstallations()).toEqual([]);
  });
});

describe('queued jobs per installation', () => {
  it('a tenant with a full queue gets 429 + Retry-After, other tenants are not affected, and it is let in again once its queue drains', async () => {
    t = await startTestApp({ tenantQueueLimit: 5 });
    const app = t;
    const [noisy, quiet] = [newTenant(), newTenant()];
    await install(app, noisy);
    await install(app, quiet);
    const push = readFixture(PUSH);
    const deliver = (tenant = noisy, requestUuid: string = randomUUID()) => postWebhook(app, tenant, push, { eventKey: 'repo:push', requestUuid });

    // The tenant's queue is counted by index, never listed with its payloads.
    const listed = vi.spyOn(app.store, 'listJobs');
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const uuid = randomUUID();
      expect((await deliver(noisy, uuid)).status).toBe(202);
      accepted.push(uuid);
    }
    const refused = await deliver();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('tenant_queue_full');
    expect(refused.headers['retry-after']).toBe(String(QUEUE_FULL_RETRY_AFTER_SECONDS));
    // A redelivery of what was accepted is still recognised (it enqueues nothing).
    expect((await deliver(noisy, accepted[0])).status).toBe(200);
    expect((await deliver(quiet)).status).toBe(202);
    expect(listed).not.toHaveBeenCalled();
    expect(await app.store.listJobs({ clientKey: noisy.clientKey })).toHaveLength(5);

    // The worker gets through the queue; a little later the tenant is counted again and let in.
    for (const job of await app.store.listJobs({ clientKey: noisy.clientKey })) await app.store.updateJob(job.id, { status: 'done' });
    app.clock.now = new Date(app.clock.now.getTime() + 2_000);
    expect((await deliver()).status).toBe(202);
  });
});
