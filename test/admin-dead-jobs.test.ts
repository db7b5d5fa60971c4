import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/connect-tenant.ts';

describe('operator API GET /admin/jobs/dead', () => {
  const ADMIN = 'admin-token-0123456789abcdef0123456789';
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ adminToken: ADMIN });
  });
  afterEach(async () => t.close());

  async function deadJob(id: string, clientKey: string, why: string): Promise<string> {
    const { jobId } = await t.store.acceptDelivery({ id, clientKey, event: 'pullrequest:created' }, { clientKey, type: 'webhook:pullrequest:created', payload: { secret: 'tenant data' }, group: 'pr:1' });
    await t.store.claimJobs(10, new Date());
    await t.store.updateJob(jobId!, { status: 'dead', attempts: 5, lastError: why });
    return jobId!;
  }

  it('lists dead jobs without payloads, most recent first, and marks them read', async () => {
    const first = await deadJob('d-1', 'tenant-a', 'HTTP 403 from Bitbucket');
    const second = await deadJob('d-2', 'tenant-b', 'gave up after 5 attempts');
    const res = await request(t.app).get('/admin/jobs/dead').set('Authorization', `Bearer ${ADMIN}`);
    expect(res.status).toBe(200);
    expect(res.body.jobs.map((j: { id: string }) => j.id)).toEqual([second, first]);
    expect(res.body.jobs[1]).toEqual({
      id: first, clientKey: 'tenant-a', type: 'webhook:pullrequest:created', group: 'pr:1', attempts: 5,
      lastError: 'HTTP 403 from Bitbucket', createdAt: expect.any(String), diedAt: expect.any(String), readAt: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('tenant data');
    expect((await t.store.getJob(first))?.readAt).toBe(res.body.jobs[1].readAt);

    const one = await request(t.app).get('/admin/jobs/dead?limit=1&clientKey=tenant-a').set('Authorization', `Bearer ${ADMIN}`);
    expect(one.body.jobs.map((j: { id: string }) => j.id)).toEqual([first]);
  });

  it('answers 400 JSON naming a bad query, 401 without the token', async () => {
    for (const query of ['limit=0', 'limit=abc', 'limit=100000', 'status=dead']) {
      const res = await request(t.app).get(`/admin/jobs/dead?${query}`).set('Authorization', `Bearer ${ADMIN}`);
      expect([res.status, res.body.error.code], query).toEqual([400, 'invalid_request']);
    }
    const none = await request(t.app).get('/admin/jobs/dead');
    expect([none.status, none.body.error.code]).toEqual([401, 'unauthorized']);
  });
});
