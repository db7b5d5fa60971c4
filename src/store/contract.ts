import { describe, expect, it } from 'vitest';
import { DatacenterNameTakenError, type DatacenterInstance, type ForgeInstallation, type Installation, type NewJob, type Store } from './types.ts';
import { storagePerTest } from './contract-storage.ts';

/**
 * The behaviour every Store must have, run against each implementation (lowdb now,
 * Postgres later) so they cannot drift apart.
 *
 * `makeStore` returns an opened store over fresh, empty storage; `reopen()` returns a new,
 * opened store over the same storage (the suite closes the previous one first); `cleanup()`
 * closes whatever is still open and removes the storage.
 */
export type StoreFactory = () => Promise<{ store: Store; reopen: () => Promise<Store>; cleanup: () => Promise<void> }>;

const CLIENT = 'ari:cloud:bitbucket::app/{11111111-2222-3333-4444-555555555555}/gatehouse';
const OTHER_CLIENT = 'ari:cloud:bitbucket::app/{66666666-7777-8888-9999-000000000000}/gatehouse';

function installation(overrides: Partial<Installation> = {}): Installation {
  return {
    clientKey: CLIENT,
    key: 'gatehouse',
    baseUrl: 'https://bitbucket.org',
    baseApiUrl: 'https://api.bitbucket.org',
    encryptedSharedSecret: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.CCCC',
    state: 'installed',
    principal: { type: 'team', uuid: '{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}', username: 'acme' },
    installedAt: '2026-01-02T03:04:05.000Z',
    updatedAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

function newJob(n: number, overrides: Partial<NewJob> = {}): NewJob {
  return {
    clientKey: CLIENT,
    type: 'webhook:pullrequest:created',
    payload: { pullrequest: { id: n, title: `change ${n}` }, nested: [1, 'two', { three: null }] },
    ...overrides,
  };
}

function delivery(id: string, clientKey = CLIENT) {
  return { id, clientKey, event: 'pullrequest:created' };
}

function datacenterInstance(overrides: Partial<DatacenterInstance> = {}): DatacenterInstance {
  return {
    instanceId: 'dc_AbC-123',
    name: 'Acme Bitbucket',
    baseUrl: 'http://bitbucket.acme.internal:7990/bitbucket',
    encryptedToken: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.TTTT',
    encryptedWebhookSecret: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.SSSS',
    status: 'ok',
    createdAt: '2026-03-04T05:06:07.000Z',
    updatedAt: '2026-03-04T05:06:07.000Z',
    ...overrides,
  };
}

const FORGE_INSTALL = 'ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5';

function forgeInstallation(overrides: Partial<ForgeInstallation> = {}): ForgeInstallation {
  return {
    installationId: FORGE_INSTALL,
    clientKey: 'forge:b7ea02c9-0871-4858-a2a6-a190d7de977c',
    workspaceId: 'b7ea02c9-0871-4858-a2a6-a190d7de977c',
    apiBaseUrl: 'https://api.bitbucket.org',
    appVersion: '2',
    environment: { type: 'PRODUCTION', id: 'ari:cloud:ecosystem::environment/x/y' },
    state: 'installed',
    systemToken: null,
    installedAt: '2026-03-04T05:06:07.000Z',
    updatedAt: '2026-03-04T05:06:07.000Z',
    ...overrides,
  };
}

const FAR_FUTURE = new Date('2999-01-01T00:00:00.000Z');

export function storeContract(name: string, makeStore: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const reopen = storagePerTest(makeStore, (opened) => (store = opened));

    async function accept(id: string, job: NewJob | null = newJob(0), clientKey = CLIENT) {
      const result = await store.acceptDelivery(delivery(id, clientKey), job);
      expect(result.duplicate).toBe(false);
      return result.jobId;
    }

    describe('installations', () => {
      it('returns undefined for an unknown clientKey and an empty list at first', async () => {
        expect(await store.getInstallation(CLIENT)).toBeUndefined();
        expect(await store.listInstallations()).toEqual([]);
      });

      it('stores, replaces and lists installations in first-install order', async () => {
        await store.putInstallation(installation());
        await store.putInstallation(installation({ clientKey: OTHER_CLIENT }));
        const uninstalled = installation({ state: 'uninstalled', encryptedSharedSecret: null, updatedAt: '2026-02-01T00:00:00.000Z' });
        await store.putInstallation(uninstalled);
        expect(await store.getInstallation(CLIENT)).toEqual(uninstalled);
        expect((await store.listInstallations()).map((i) => i.clientKey)).toEqual([CLIENT, OTHER_CLIENT]);
      });

      it('hands out copies, so a caller cannot change stored data by mutating a result', async () => {
        const original = installation();
        await store.putInstallation(original);
        original.baseUrl = 'https://changed.example';
        const read = await store.getInstallation(CLIENT);
        read!.principal!.username = 'mallory';
        expect(await store.getInstallation(CLIENT)).toEqual(installation());
      });

      it('persists installations across reopen', async () => {
        await store.putInstallation(installation());
        await store.putInstallation(installation({ clientKey: OTHER_CLIENT, state: 'uninstalled', encryptedSharedSecret: null }));
        await reopen();
        expect(await store.listInstallations()).toEqual([
          installation(),
          installation({ clientKey: OTHER_CLIENT, state: 'uninstalled', encryptedSharedSecret: null }),
        ]);
      });

      it('rejects an installation without a clientKey', async () => {
        await expect(store.putInstallation(installation({ clientKey: '' }))).rejects.toThrow(/clientKey/);
        expect(await store.listInstallations()).toEqual([]);
      });
    });

    describe('Forge installations', () => {
      const token = (expiresAt: string) => ({ encrypted: `v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.${expiresAt.slice(11, 13)}`, expiresAt });

      it('stores, replaces, lists and persists Forge installations by installationId', async () => {
        expect(await store.getForgeInstallation(FORGE_INSTALL)).toBeUndefined();
        await store.putForgeInstallation(forgeInstallation());
        const other = forgeInstallation({ installationId: `${FORGE_INSTALL}0`, state: 'uninstalled' });
        await store.putForgeInstallation(other);
        await store.putForgeInstallation(forgeInstallation({ appVersion: '3' }));
        await reopen();
        expect(await store.getForgeInstallation(FORGE_INSTALL)).toEqual(forgeInstallation({ appVersion: '3' }));
        expect((await store.listForgeInstallations()).map((i) => i.installationId).sort()).toEqual([FORGE_INSTALL, `${FORGE_INSTALL}0`]);
      });

      it('keeps only a system token that expires later than the stored one, atomically', async () => {
        await store.putForgeInstallation(forgeInstallation());
        expect(await store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T08:00:00.000Z'), '2026-03-04T06:00:00.000Z')).toBe(true);
        const offers = await Promise.all([
          store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T09:00:00.000Z'), '2026-03-04T06:00:01.000Z'),
          store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T07:00:00.000Z'), '2026-03-04T06:00:02.000Z'),
          store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T10:00:00.000Z'), '2026-03-04T06:00:03.000Z'),
        ]);
        expect(offers).toEqual([true, false, true]);
        await reopen();
        expect((await store.getForgeInstallation(FORGE_INSTALL))?.systemToken).toEqual(token('2026-03-04T10:00:00.000Z'));
        expect(await store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T10:00:00.000Z'), '2026-03-04T06:00:04.000Z')).toBe(false);
      });

      it('refuses a token for an unknown or uninstalled installation, and a record without a tenant key', async () => {
        expect(await store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T08:00:00.000Z'), '2026-03-04T06:00:00.000Z')).toBe(false);
        await store.putForgeInstallation(forgeInstallation({ state: 'uninstalled' }));
        expect(await store.offerForgeSystemToken(FORGE_INSTALL, token('2026-03-04T08:00:00.000Z'), '2026-03-04T06:00:00.000Z')).toBe(false);
        await expect(store.putForgeInstallation(forgeInstallation({ clientKey: '' }))).rejects.toThrow(/clientKey/);
      });

      it('hands out copies', async () => {
        await store.putForgeInstallation(forgeInstallation());
        const read = await store.getForgeInstallation(FORGE_INSTALL);
        read!.environment.type = 'changed';
        expect(await store.getForgeInstallation(FORGE_INSTALL)).toEqual(forgeInstallation());
      });
    });

    describe('Data Center instances', () => {
      it('returns undefined for an unknown instance and an empty list at first', async () => {
        expect(await store.getDatacenterInstance('dc_AbC-123')).toBeUndefined();
        expect(await store.listDatacenterInstances()).toEqual([]);
      });

      it('stores, replaces, lists in registration order and persists across reopen', async () => {
        await store.putDatacenterInstance(datacenterInstance());
        await store.putDatacenterInstance(datacenterInstance({ instanceId: 'second', name: 'Other' }));
        const rotated = datacenterInstance({
          encryptedWebhookSecret: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.NNNN',
          previousWebhookSecret: { encrypted: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.SSSS', validUntil: '2026-03-05T05:06:07.000Z' },
          updatedAt: '2026-03-04T06:00:00.000Z',
        });
        await store.putDatacenterInstance(rotated);
        expect(await store.getDatacenterInstance('dc_AbC-123')).toEqual(rotated);
        await reopen();
        expect(await store.listDatacenterInstances()).toEqual([rotated, datacenterInstance({ instanceId: 'second', name: 'Other' })]);
      });

      it('refuses a second instance with a taken name and stores nothing', async () => {
        await store.putDatacenterInstance(datacenterInstance());
        await expect(store.putDatacenterInstance(datacenterInstance({ instanceId: 'other' }))).rejects.toBeInstanceOf(DatacenterNameTakenError);
        expect((await store.listDatacenterInstances()).map((i) => i.instanceId)).toEqual(['dc_AbC-123']);
      });

      it('rejects malformed instances with a message naming the field', async () => {
        await expect(store.putDatacenterInstance(datacenterInstance({ instanceId: 'has/slash' }))).rejects.toThrow(/instanceId/);
        await expect(store.putDatacenterInstance(datacenterInstance({ baseUrl: 'ftp://x.example' }))).rejects.toThrow(/baseUrl/);
        await expect(store.putDatacenterInstance(datacenterInstance({ baseUrl: 'https://x.example/' }))).rejects.toThrow(/baseUrl/);
        await expect(store.putDatacenterInstance(datacenterInstance({ status: 'broken' as never }))).rejects.toThrow(/status/);
        await expect(store.putDatacenterInstance(datacenterInstance({ encryptedToken: '' }))).rejects.toThrow(/encryptedToken/);
        expect(await store.listDatacenterInstances()).toEqual([]);
      });

      it('sets the status and last error alone, and clears the error when back to ok', async () => {
        await store.putDatacenterInstance(datacenterInstance());
        const lastError = { message: 'Data Center answered 401: the token was revoked', at: '2026-03-04T07:00:00.000Z' };
        expect(await store.setDatacenterInstanceStatus('dc_AbC-123', 'token_revoked', lastError)).toBe(true);
        expect(await store.getDatacenterInstance('dc_AbC-123')).toEqual(datacenterInstance({ status: 'token_revoked', lastError }));
        expect(await store.setDatacenterInstanceStatus('dc_AbC-123', 'ok')).toBe(true);
        expect(await store.getDatacenterInstance('dc_AbC-123')).toEqual(datacenterInstance());
        expect(await store.setDatacenterInstanceStatus('unknown', 'ok')).toBe(false);
      });

      it('deletes an instance, freeing its name', async () => {
        await store.putDatacenterInstance(datacenterInstance());
        expect(await store.deleteDatacenterInstance('dc_AbC-123')).toBe(true);
        expect(await store.deleteDatacenterInstance('dc_AbC-123')).toBe(false);
        expect(await store.getDatacenterInstance('dc_AbC-123')).toBeUndefined();
        await store.putDatacenterInstance(datacenterInstance({ instanceId: 'again' }));
        await reopen();
        expect((await store.listDatacenterInstances()).map((i) => i.instanceId)).toEqual(['again']);
      });

      it('hands out copies', async () => {
        await store.putDatacenterInstance(datacenterInstance({ lastError: { message: 'x', at: '2026-03-04T07:00:00.000Z' } }));
        const read = await store.getDatacenterInstance('dc_AbC-123');
        read!.lastError!.message = 'changed';
        read!.name = 'changed';
        expect((await store.getDatacenterInstance('dc_AbC-123'))!.lastError!.message).toBe('x');
        expect((await store.listDatacenterInstances())[0]!.name).toBe('Acme Bitbucket');
      });
    });

    describe('deliveries', () => {
      it('records a delivery with its job', async () => {
        const before = Date.now();
        const result = await store.acceptDelivery(delivery('d-1'), newJob(1, { group: 'pr:1' }));
        expect(result.duplicate).toBe(false);
        expect(result.jobId).toEqual(expect.any(String));
        const d = await store.getDelivery('d-1');
        expect(d).toEqual({ id: 'd-1', clientKey: CLIENT, event: 'pullrequest:created', jobId: result.jobId, receivedAt: expect.any(String) });
        expect(Date.parse(d!.receivedAt)).toBeGreaterThanOrEqual(before - 1000);
        const job = await store.getJob(result.jobId!);
        expect(job).toMatchObject({
          id: result.jobId,
          clientKey: CLIENT,
          type: 'webhook:pullrequest:created',
          payload: newJob(1).payload,
          status: 'queued',
          attempts: 0,
          group: 'pr:1',
        });
        expect(Date.parse(job!.runAfter)).toBeLessThanOrEqual(Date.now());
        expect(job!.createdAt).toBe(job!.updatedAt);
        expect(await store.countDeliveries()).toBe(1);
      });

      it('detects a duplicate delivery id and enqueues nothing more', async () => {
        const jobId = await accept('d-dup', newJob(1));
        const again = await store.acceptDelivery(delivery('d-dup'), newJob(2));
        expect(again).toEqual({ duplicate: true, jobId });
        expect(await store.countDeliveries()).toBe(1);
        expect((await store.listJobs()).map((j) => j.id)).toEqual([jobId]);
      });

      it('records a delivery without a job when the event is ignored', async () => {
        const result = await store.acceptDelivery(delivery('d-null'), null);
        expect(result).toEqual({ duplicate: false, jobId: null });
        expect(await store.getDelivery('d-null')).toMatchObject({ id: 'd-null', jobId: null });
        expect(await store.listJobs()).toEqual([]);
        expect(await store.acceptDelivery(delivery('d-null'), newJob(1))).toEqual({ duplicate: true, jobId: null });
        expect(await store.listJobs()).toEqual([]);
      });

      it('returns undefined for unknown deliveries and jobs', async () => {
        expect(await store.getDelivery('nope')).toBeUndefined();
        expect(await store.getJob('nope')).toBeUndefined();
      });

      it('rejects bad input without recording anything', async () => {
        await expect(store.acceptDelivery(delivery(''), newJob(1))).rejects.toThrow(/delivery\.id/);
        await expect(store.acceptDelivery(delivery('d-bad'), newJob(1, { type: '' }))).rejects.toThrow(/job\.type/);
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        await expect(store.acceptDelivery(delivery('d-bad'), newJob(1, { payload: circular }))).rejects.toThrow(/JSON-serialisable/);
        expect(await store.countDeliveries()).toBe(0);
        expect(await store.getDelivery('d-bad')).toBeUndefined();
      });

      it('persists deliveries, jobs and payloads across reopen, and still detects duplicates', async () => {
        const jobA = await accept('p-1', newJob(1));
        await accept('p-2', null);
        const before = await store.getJob(jobA!);
        await reopen();
        expect(await store.countDeliveries()).toBe(2);
        expect(await store.getDelivery('p-2')).toMatchObject({ jobId: null });
        expect(await store.getJob(jobA!)).toEqual(before);
        expect(await store.acceptDelivery(delivery('p-1'), newJob(9))).toEqual({ duplicate: true, jobId: jobA });
        expect(await store.listJobs()).toHaveLength(1);
      });
    });

    describe('jobs', () => {
      it('claims due jobs oldest first, up to the limit, and marks them running', async () => {
        const ids = [];
        for (let n = 0; n < 4; n++) ids.push(await accept(`c-${n}`, newJob(n)));
        const first = await store.claimJobs(2, new Date());
        expect(first.map((j) => j.id)).toEqual(ids.slice(0, 2));
        expect(first.every((j) => j.status === 'running')).toBe(true);
        expect(first[1]!.payload).toEqual(newJob(1).payload);
        expect((await store.getJob(ids[0]!))!.status).toBe('running');
        const second = await store.claimJobs(10, new Date());
        expect(second.map((j) => j.id)).toEqual(ids.slice(2));
        expect(await store.claimJobs(10, new Date())).toEqual([]);
        expect(await store.claimJobs(0, new Date())).toEqual([]);
      });

      it('does not claim a job before its runAfter', async () => {
        const id = await accept('r-1');
        const created = (await store.getJob(id!))!;
        expect(await store.claimJobs(1, new Date(Date.parse(created.runAfter) - 1))).toEqual([]);
        expect((await store.claimJobs(1, new Date(created.runAfter))).map((j) => j.id)).toEqual([id]);
      });

      it('requeues with backoff: not claimable until runAfter, then ahead of newer jobs', async () => {
        const older = await accept('b-1');
        await store.claimJobs(1, new Date());
        const retryAt = new Date(Date.now() + 60_000);
        await store.updateJob(older!, { status: 'queued', attempts: 1, runAfter: retryAt.toISOString(), lastError: 'HTTP 503 from Bitbucket' });
        const newer = await accept('b-2');
        expect((await store.claimJobs(10, new Date())).map((j) => j.id)).toEqual([newer]);
        await store.updateJob(newer!, { status: 'queued', runAfter: new Date(0).toISOString() });
        const later = await store.claimJobs(10, retryAt);
        expect(later.map((j) => j.id)).toEqual([older, newer]);
        expect(later[0]).toMatchObject({ attempts: 1, lastError: 'HTTP 503 from Bitbucket', runAfter: retryAt.toISOString() });
      });

      it('finishes jobs as done or dead; neither is claimed again and both stay readable', async () => {
        const ok = await accept('f-1', newJob(1));
        const bad = await accept('f-2', newJob(2));
        await store.claimJobs(2, new Date());
        await store.updateJob(ok!, { status: 'done' });
        await store.updateJob(bad!, { status: 'dead', attempts: 5, lastError: 'gave up after 5 attempts' });
        expect(await store.claimJobs(10, FAR_FUTURE)).toEqual([]);
        expect(await store.getJob(ok!)).toMatchObject({ status: 'done', payload: newJob(1).payload });
        expect(await store.getJob(bad!)).toMatchObject({ status: 'dead', attempts: 5, lastError: 'gave up after 5 attempts' });
        await reopen();
        expect(await store.getJob(bad!)).toMatchObject({ status: 'dead', attempts: 5, payload: newJob(2).payload });
        expect(await store.claimJobs(10, FAR_FUTURE)).toEqual([]);
      });

      it('retries a dead job of its installation once, however many ask at once', async () => {
        const dead = await accept('r-1', newJob(1));
        const alive = await accept('r-2', newJob(2));
        await store.claimJobs(2, new Date());
        await store.updateJob(dead!, { status: 'dead', attempts: 5, lastError: 'gave up' });
        const retry = { runAfter: '2026-01-01T00:00:00.000Z', lastError: 'retried by admin' };
        expect(await store.retryDeadJob(dead!, 'another-client', retry)).toBe('not_found');
        expect(await store.retryDeadJob('no-such-job', CLIENT, retry)).toBe('not_found');
        expect(await store.retryDeadJob(alive!, CLIENT, retry)).toBe('not_dead');
        const outcomes = await Promise.all(Array.from({ length: 5 }, () => store.retryDeadJob(dead!, CLIENT, retry)));
        expect(outcomes.sort()).toEqual(['not_dead', 'not_dead', 'not_dead', 'not_dead', 'retried']);
        expect(await store.getJob(dead!)).toMatchObject({ status: 'queued', attempts: 0, runAfter: retry.runAfter, lastError: 'retried by admin' });
        expect(await store.countQueuedJobs(CLIENT)).toBe(1);
        expect((await store.claimJobs(10, FAR_FUTURE)).map((j) => j.id)).toEqual([dead]);
      });

      it('bumps updatedAt on every change', async () => {
        const id = await accept('u-1');
        const created = (await store.getJob(id!))!;
        await store.updateJob(id!, { attempts: 1 });
        const updated = (await store.getJob(id!))!;
        expect(updated.attempts).toBe(1);
        expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
        expect(updated.createdAt).toBe(created.createdAt);
      });

      it('rejects updates to unknown jobs and malformed updates', async () => {
        const id = await accept('x-1');
        await expect(store.updateJob('missing', { status: 'done' })).rejects.toThrow(/no job/);
        await expect(store.updateJob(id!, { status: 'finished' as never })).rejects.toThrow(/status/);
        await expect(store.updateJob(id!, { attempts: -1 })).rejects.toThrow(/attempts/);
        await expect(store.updateJob(id!, { runAfter: 'tomorrow' })).rejects.toThrow(/runAfter/);
        expect((await store.getJob(id!))!).toMatchObject({ status: 'queued', attempts: 0 });
      });

      it('returns jobs a crash left running to the queue on reopen', async () => {
        const running = await accept('k-1');
        const done = await accept('k-2');
        const queued = await accept('k-3');
        await store.claimJobs(2, new Date());
        await store.updateJob(done!, { status: 'done' });
        await reopen();
        expect((await store.getJob(running!))!.status).toBe('queued');
        expect((await store.getJob(done!))!.status).toBe('done');
        expect((await store.claimJobs(10, new Date())).map((j) => j.id)).toEqual([running, queued]);
      });

      it('lists jobs in acceptance order, filtered by status and clientKey', async () => {
        const a = await accept('l-1', newJob(1));
        const b = await accept('l-2', newJob(2, { clientKey: OTHER_CLIENT }), OTHER_CLIENT);
        const c = await accept('l-3', newJob(3));
        await store.claimJobs(1, new Date());
        await store.updateJob(a!, { status: 'done' });
        expect((await store.listJobs()).map((j) => j.id)).toEqual([a, b, c]);
        expect((await store.listJobs({ status: 'queued' })).map((j) => j.id)).toEqual([b, c]);
        expect((await store.listJobs({ clientKey: CLIENT })).map((j) => j.id)).toEqual([a, c]);
        expect((await store.listJobs({ clientKey: CLIENT, status: 'done' })).map((j) => j.id)).toEqual([a]);
        expect(await store.listJobs({ status: 'dead' })).toEqual([]);
        expect((await store.listJobs({ clientKey: OTHER_CLIENT }))[0]!.payload).toEqual(newJob(2).payload);
      });

      it('lists by type and group, newest first and limited, for "latest scan of this pull request"', async () => {
        const pr1old = await accept('g-1', newJob(1, { group: 'pr:1' }));
        const pr2 = await accept('g-2', newJob(2, { group: 'pr:2' }));
        const pr1new = await accept('g-3', newJob(3, { group: 'pr:1' }));
        const push = await accept('g-4', newJob(4, { type: 'webhook:repo:push' }));
        expect((await store.listJobs({ group: 'pr:1' })).map((j) => j.id)).toEqual([pr1old, pr1new]);
        const latest = await store.listJobs({ clientKey: CLIENT, group: 'pr:1', newestFirst: true, limit: 1 });
        expect(latest.map((j) => j.id)).toEqual([pr1new]);
        expect(latest[0]!.payload).toEqual(newJob(3).payload);
        expect((await store.listJobs({ newestFirst: true })).map((j) => j.id)).toEqual([push, pr1new, pr2, pr1old]);
        expect((await store.listJobs({ limit: 2 })).map((j) => j.id)).toEqual([pr1old, pr2]);
        expect((await store.listJobs({ type: 'webhook:repo:push' })).map((j) => j.id)).toEqual([push]);
        expect(await store.listJobs({ limit: 0 })).toEqual([]);
        await expect(store.listJobs({ status: 'paused' as never })).rejects.toThrow(/status/);
        await expect(store.listJobs({ limit: -1 })).rejects.toThrow(/limit/);
      });
    });

    describe('indexed questions about jobs', () => {
      it('counts queued jobs per installation through claims, retries and finishes, and across reopen', async () => {
        expect(await store.countQueuedJobs(CLIENT)).toBe(0);
        const a = await accept('q-1', newJob(1));
        await accept('q-2', newJob(2));
        await accept('q-3', newJob(3, { clientKey: OTHER_CLIENT }), OTHER_CLIENT);
        await accept('q-4', null);
        expect(await store.countQueuedJobs(CLIENT)).toBe(2);
        expect(await store.countQueuedJobs(OTHER_CLIENT)).toBe(1);
        const [claimed] = await store.claimJobs(1, new Date());
        expect(claimed!.id).toBe(a);
        expect(await store.countQueuedJobs(CLIENT)).toBe(1);
        // A retry waiting for its runAfter is still queued.
        await store.updateJob(a!, { status: 'queued', runAfter: FAR_FUTURE.toISOString() });
        expect(await store.countQueuedJobs(CLIENT)).toBe(2);
        await reopen();
        expect(await store.countQueuedJobs(CLIENT)).toBe(2);
        await store.updateJob(a!, { status: 'dead', lastError: 'gave up' });
        expect(await store.countQueuedJobs(CLIENT)).toBe(1);
        expect(await store.countQueuedJobs('nobody')).toBe(0);
      });

      it('counts unfinished jobs of a group: queued and running, not done or dead', async () => {
        const first = await accept('u-1', newJob(1, { group: 'pr:1' }));
        await accept('u-2', newJob(2, { group: 'pr:2' }));
        expect(await store.countUnfinishedJobs(CLIENT, 'pr:1')).toBe(1);
        await store.claimJobs(1, new Date());
        expect(await store.countUnfinishedJobs(CLIENT, 'pr:1')).toBe(1);
        await store.updateJob(first!, { status: 'done' });
        expect(await store.countUnfinishedJobs(CLIENT, 'pr:1')).toBe(0);
        expect(await store.countUnfinishedJobs(CLIENT, 'pr:2')).toBe(1);
        expect(await store.countUnfinishedJobs(OTHER_CLIENT, 'pr:2')).toBe(0);
        await reopen();
        expect(await store.countUnfinishedJobs(CLIENT, 'pr:2')).toBe(1);
      });

      it('finds the newer superseding job of a group, without its payload; other groups, tenants and kinds do not count', async () => {
        const republish = await accept('s-0', newJob(0, { group: 'pr:1', type: 'republish' }));
        const older = await accept('s-1', newJob(1, { group: 'pr:1', supersedes: true }));
        await accept('s-2', newJob(2, { group: 'pr:2', supersedes: true }));
        await accept('s-3', newJob(3, { group: 'pr:1', clientKey: OTHER_CLIENT, supersedes: true }), OTHER_CLIENT);
        const laterRepublish = await accept('s-4', newJob(4, { group: 'pr:1', type: 'republish' }));
        expect(await store.findSuperseder(older!)).toBeUndefined();
        expect(await store.findSuperseder(laterRepublish!)).toBeUndefined();
        const found = await store.findSuperseder(republish!);
        expect(found).toMatchObject({ id: older, group: 'pr:1', supersedes: true });
        expect(found).not.toHaveProperty('payload');
        const newer = await accept('s-5', newJob(5, { group: 'pr:1', supersedes: true }));
        expect((await store.findSuperseder(older!))?.id).toBe(newer);
        expect((await store.findSuperseder(laterRepublish!))?.id).toBe(newer);
        await reopen();
        expect((await store.findSuperseder(older!))?.id).toBe(newer);
        expect(await store.findSuperseder('no-such-job')).toBeUndefined();
        await expect(store.acceptDelivery(delivery('s-6'), newJob(6, { supersedes: true }))).rejects.toThrow(/supersedes needs a job.group/);
      });

      it('finishes superseded jobs when they come up for claiming, instead of handing them out', async () => {
        const first = await accept('c-1', newJob(1, { group: 'pr:1', supersedes: true }));
        const republish = await accept('c-2', newJob(2, { group: 'pr:1', type: 'republish' }));
        const other = await accept('c-3', newJob(3, { group: 'pr:2', supersedes: true }));
        const last = await accept('c-4', newJob(4, { group: 'pr:1', supersedes: true }));
        const claimed = await store.claimJobs(2, new Date());
        expect(claimed.map((j) => j.id)).toEqual([other, last]);
        for (const id of [first, republish]) {
          expect(await store.getJob(id!)).toMatchObject({ status: 'done', lastError: `skipped: superseded by job ${last}` });
        }
        expect(await store.countQueuedJobs(CLIENT)).toBe(0);
        expect(await store.countUnfinishedJobs(CLIENT, 'pr:1')).toBe(1);
      });

      it('leaves a job queued while a job of its group runs, and hands it out once that one ends', async () => {
        const running = await accept('r-1', newJob(1, { group: 'pr:1', supersedes: true }));
        expect((await store.claimJobs(1, new Date())).map((j) => j.id)).toEqual([running]);
        const next = await accept('r-2', newJob(2, { group: 'pr:1', supersedes: true }));
        const other = await accept('r-3', newJob(3, { group: 'pr:2', supersedes: true }));
        expect((await store.claimJobs(5, new Date())).map((j) => j.id)).toEqual([other]);
        expect(await store.claimJobs(5, new Date())).toEqual([]);
        expect(await store.getJob(next!)).toMatchObject({ status: 'queued', attempts: 0 });
        expect(await store.countQueuedJobs(CLIENT)).toBe(1);
        await store.updateJob(running!, { status: 'done' });
        expect((await store.claimJobs(5, new Date())).map((j) => j.id)).toEqual([next]);
      });
    });

    describe('concurrency', () => {
      it('serialises many parallel accepts: none lost, duplicates detected once, ids unique', async () => {
        const distinct = Array.from({ length: 150 }, (_, n) => store.acceptDelivery(delivery(`par-${n}`), newJob(n)));
        const sameId = Array.from({ length: 30 }, (_, n) => store.acceptDelivery(delivery('par-same'), newJob(1000 + n)));
        const results = await Promise.all([...distinct, ...sameId]);
        expect(results.slice(0, 150).every((r) => !r.duplicate)).toBe(true);
        const same = results.slice(150);
        expect(same.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(same.map((r) => r.jobId)).size).toBe(1);
        const jobIds = results.slice(0, 151).map((r) => r.jobId);
        expect(new Set(jobIds).size).toBe(151);
        expect(await store.countDeliveries()).toBe(151);

        await reopen();
        expect(await store.countDeliveries()).toBe(151);
        const listed = await store.listJobs();
        expect(listed).toHaveLength(151);
        expect(listed.find((j) => j.id === results[42]!.jobId)!.payload).toEqual(newJob(42).payload);
      });

      it('never hands the same job to two parallel claims', async () => {
        await Promise.all(Array.from({ length: 40 }, (_, n) => store.acceptDelivery(delivery(`cl-${n}`), newJob(n))));
        const batches = await Promise.all(Array.from({ length: 8 }, () => store.claimJobs(7, new Date())));
        const claimed = batches.flat().map((j) => j.id);
        expect(claimed).toHaveLength(40);
        expect(new Set(claimed).size).toBe(40);
      });

      it('keeps parallel installation writes whole', async () => {
        await Promise.all(
          Array.from({ length: 20 }, (_, n) => store.putInstallation(installation({ clientKey: `client-${n}`, baseUrl: `https://bitbucket.org/${n}` }))),
        );
        await reopen();
        const listed = await store.listInstallations();
        expect(listed).toHaveLength(20);
        expect(listed.find((i) => i.clientKey === 'client-7')!.baseUrl).toBe('https://bitbucket.org/7');
      });
    });
  });
}
