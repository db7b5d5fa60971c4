import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LowdbStore } from '../store/lowdb-store.ts';
import { createDispatcher, deliveryKey } from './dispatch.ts';
import type { PullRequestEvent, PushEvent } from './events.ts';

const repository = { uuid: '{r-1}', fullName: 'acme/web', workspace: 'acme', name: 'web', isPrivate: true };
const push: PushEvent = {
  type: 'push',
  deliveryId: 'd-push',
  sourceEvent: 'repo:push',
  repository,
  actor: null,
  changes: [{ kind: 'branch', name: 'main', before: 'a'.repeat(40), after: 'b'.repeat(40), forced: false, commits: ['b'.repeat(40)], truncated: false }],
};
const side = { branch: 'feature', commit: 'c'.repeat(12), repository };
const pr: PullRequestEvent = {
  type: 'pull_request',
  action: 'updated',
  deliveryId: 'd-pr',
  sourceEvent: 'pullrequest:updated',
  repository,
  actor: null,
  pullRequest: { id: 7, title: 't', state: 'OPEN', draft: false, source: side, destination: { ...side, branch: 'main' }, mergeCommit: null, author: null },
};

let dir: string;
let store: LowdbStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-dispatch-'));
  store = new LowdbStore({ dataDir: dir });
  await store.open();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dispatch', () => {
  it('records the delivery and enqueues a job carrying the event', async () => {
    const { dispatch } = createDispatcher(store);
    const result = await dispatch({ clientKey: 'ck' }, push);
    expect(result.duplicate).toBe(false);
    const job = await store.getJob(result.jobId!);
    expect(job).toMatchObject({ clientKey: 'ck', type: 'event:push', status: 'queued', payload: push });
    expect(job?.group).toBeUndefined();
    expect(await store.getDelivery(deliveryKey('ck', 'd-push'))).toMatchObject({ clientKey: 'ck', event: 'repo:push', jobId: result.jobId });
  });

  it('keeps delivery ids apart per tenant: another installation cannot pre-claim an id', async () => {
    const { dispatch } = createDispatcher(store);
    const first = await dispatch({ clientKey: 'attacker' }, push);
    const second = await dispatch({ clientKey: 'victim' }, push);
    expect([first.duplicate, second.duplicate]).toEqual([false, false]);
    expect((await store.getJob(second.jobId!))?.clientKey).toBe('victim');
    expect((await dispatch({ clientKey: 'victim' }, push)).duplicate).toBe(true);
  });

  it('groups pull request jobs by repository and pull request', async () => {
    const { dispatch } = createDispatcher(store);
    const job = await store.getJob((await dispatch({ clientKey: 'ck' }, pr)).jobId!);
    expect(job).toMatchObject({ type: 'event:pull_request:updated', group: 'pull_request:{r-1}:7' });
  });

  it('enqueues nothing for a delivery id it has seen', async () => {
    const { dispatch } = createDispatcher(store);
    await dispatch({ clientKey: 'ck' }, push);
    expect((await dispatch({ clientKey: 'ck' }, push)).duplicate).toBe(true);
    expect(await store.listJobs()).toHaveLength(1);
  });

  it('records ignored deliveries without a job, and recognises them again', async () => {
    const { ignore } = createDispatcher(store);
    expect(await ignore({ clientKey: 'ck' }, { deliveryId: 'd-x', sourceEvent: 'repo:updated' })).toEqual({ duplicate: false, jobId: null });
    expect((await ignore({ clientKey: 'ck' }, { deliveryId: 'd-x', sourceEvent: 'repo:updated' })).duplicate).toBe(true);
    expect(await store.listJobs()).toHaveLength(0);
  });
});
