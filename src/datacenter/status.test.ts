import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { datacenterInstancesIn } from '../store/datacenter-instance-file.ts';
import type { DatacenterInstanceRegistry } from '../store/types.ts';
import { BitbucketNetworkError } from '../bitbucket/errors.ts';
import { TenantCredentialsRejectedError } from '../core/code-host.ts';
import type { Job } from '../store/types.ts';
import { tokenFingerprintOf } from '../codehost/datacenter/index.ts';
import { instanceHealth, recordJobOutcomes } from './status.ts';

describe('instance health', () => {
  let dir: string;
  let store: DatacenterInstanceRegistry;
  let logged: string[];
  const now = new Date('2026-03-01T12:00:00Z');

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-dc-status-'));
    store = datacenterInstancesIn(dir);
    logged = [];
    await store.putDatacenterInstance({
      instanceId: 'abc',
      name: 'Acme',
      baseUrl: 'https://dc.example',
      encryptedToken: 'v1.x.y.z',
      encryptedWebhookSecret: 'v1.x.y.z',
      status: 'ok',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  function health() {
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(chunk.toString()), done()) });
    return instanceHealth({ store, logger: createLogger('info', sink), now: () => now });
  }

  it('records a refused token once, with one log line, however many jobs report it', async () => {
    const h = health();
    await Promise.all([1, 2, 3].map(() => h.tokenRejected('datacenter:abc', 'Data Center answered 401')));
    await h.tokenRejected('datacenter:abc', 'Data Center answered 401');
    expect(await store.getDatacenterInstance('abc')).toMatchObject({ status: 'token_revoked', lastError: { message: 'Data Center answered 401', at: now.toISOString() } });
    await new Promise((r) => setTimeout(r, 300)); // pino flushes in batches
    expect(logged.join('').match(/refused its token/g)).toHaveLength(1);
  });

  it('ignores a refusal of a token since replaced (a job that began with the old one), and says once when the new one works', async () => {
    const h = health();
    const current = tokenFingerprintOf((await store.getDatacenterInstance('abc'))!);
    await h.tokenRejected('datacenter:abc', '401', 'f'.repeat(16));
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('ok');
    await h.tokenRejected('datacenter:abc', '401', current);
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('token_revoked');
    // The operator registers a new token (the record is ok again), then two jobs succeed.
    await store.setDatacenterInstanceStatus('abc', 'ok');
    await h.healthy('datacenter:abc');
    await h.healthy('datacenter:abc');
    await new Promise((r) => setTimeout(r, 300)); // pino flushes in batches
    expect(logged.join('').match(/accepted its new token/g)).toHaveLength(1);
  });

  it('is not cleared by a later success: only a new token clears it', async () => {
    const h = health();
    await h.tokenRejected('datacenter:abc', '401');
    await h.healthy('datacenter:abc');
    await h.unreachable('datacenter:abc', 'ECONNREFUSED');
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('token_revoked');
  });

  it('marks an unreachable instance and clears it when a job succeeds again', async () => {
    const h = health();
    await h.unreachable('datacenter:abc', 'cannot reach https://dc.example: ECONNREFUSED');
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('unreachable');
    await h.healthy('datacenter:abc');
    expect(await store.getDatacenterInstance('abc')).toMatchObject({ status: 'ok' });
    expect((await store.getDatacenterInstance('abc'))?.lastError).toBeUndefined();
  });

  it('ignores tenants that are not Data Center instances, and removed instances', async () => {
    const h = health();
    await h.tokenRejected('ari:cloud:bitbucket::app/{x}/gatehouse', '401');
    await h.tokenRejected('datacenter:gone', '401');
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('ok');
  });

  it('reads job outcomes: a refused token at once, an outage only when a job gave up, a success clears an outage', async () => {
    const record = recordJobOutcomes(health());
    const job = { clientKey: 'datacenter:abc' } as Job;
    const down = new BitbucketNetworkError({ method: 'GET', path: '/rest/api/latest/x', attempts: 3 }, false, new Error('ECONNREFUSED'));
    await record(job, { ok: false, error: down, final: false });
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('ok');
    await record(job, { ok: false, error: down, final: true });
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('unreachable');
    await record(job, { ok: true });
    expect((await store.getDatacenterInstance('abc'))?.status).toBe('ok');
    await record(job, { ok: false, error: new TenantCredentialsRejectedError('datacenter:abc', 'refused the access token (401)'), final: true });
    expect(await store.getDatacenterInstance('abc')).toMatchObject({ status: 'token_revoked', lastError: { message: 'refused the access token (401)' } });
    await record({ clientKey: 'cloud-tenant' } as Job, { ok: true });
  });
});
