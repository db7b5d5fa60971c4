import { expect, it } from 'vitest';
import { DEFAULT_RETENTION, JobIndex, summaryWith, type JobEntry } from './job-index.ts';
import type { JobSummary } from './types.ts';

const queued: JobSummary = {
  id: 'j-1',
  clientKey: 'c',
  type: 'event:pull_request:opened',
  status: 'queued',
  attempts: 0,
  runAfter: '2026-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  group: 'pr:1',
  supersedes: true,
};

it('applies a state to a summary: the state changes, the identity stays', () => {
  const running = summaryWith(queued, { id: 'j-1', status: 'running', attempts: 1, runAfter: queued.runAfter, updatedAt: '2026-01-01T00:00:01.000Z' });
  expect(running).toEqual({ ...queued, status: 'running', attempts: 1, updatedAt: '2026-01-01T00:00:01.000Z' });
  const failed = summaryWith(running, { status: 'queued', lastError: 'timeout' });
  expect(failed.lastError).toBe('timeout');
  // A state without lastError keeps the last one, as the journal's records expect.
  expect(summaryWith(failed, { status: 'running' }).lastError).toBe('timeout');
  expect(summaryWith(failed, { readAt: '2026-01-02T00:00:00.000Z' }).readAt).toBe('2026-01-02T00:00:00.000Z');
});

it('writes every summary with its fields in one order, however its input was put together', () => {
  const scrambled = { updatedAt: queued.updatedAt, supersedes: true, group: 'pr:1', id: 'j-2', status: 'queued', lastError: 'x', type: queued.type, attempts: 0, clientKey: 'c', createdAt: queued.createdAt, runAfter: queued.runAfter } as JobSummary;
  const order = Object.keys(summaryWith(summaryWith(queued, { lastError: 'x' })));
  expect(Object.keys(summaryWith(scrambled))).toEqual(order);
  expect(order).toEqual(['id', 'clientKey', 'type', 'status', 'attempts', 'runAfter', 'createdAt', 'updatedAt', 'group', 'supersedes', 'lastError']);
  const { group: _group, supersedes: _supersedes, ...ungrouped } = queued;
  expect(Object.keys(summaryWith(ungrouped))).toEqual(['id', 'clientKey', 'type', 'status', 'attempts', 'runAfter', 'createdAt', 'updatedAt']);
});

it('keeps each tenant\'s groups apart and lets a group go with its last job', () => {
  const index = new JobIndex();
  const job = (id: string, clientKey: string, status: JobSummary['status']): JobEntry => ({
    seq: index.nextSeq(),
    job: summaryWith({ ...queued, id, clientKey, status }),
    payload: { segment: 1, offset: 0, length: 2 },
    stateSegment: 1,
  });
  index.addJob(job('a', 'tenant-1', 'queued'));
  index.addJob(job('b', 'tenant-2', 'queued'));
  expect([index.countUnfinished('tenant-1', 'pr:1'), index.countUnfinished('tenant-2', 'pr:1')]).toEqual([1, 1]);
  expect(index.sizes().groups).toBe(2);

  const finishedAt = '2026-01-01T00:00:01.000Z';
  index.applyState({ id: 'a', status: 'done', attempts: 1, runAfter: queued.runAfter, updatedAt: finishedAt }, 1);
  expect(index.countUnfinished('tenant-1', 'pr:1')).toBe(0);
  expect(index.sharedGroup('tenant-1', 'pr:1')).toBe('pr:1');
  index.sweep(Date.parse(finishedAt) + DEFAULT_RETENTION.doneJobMs + 1, DEFAULT_RETENTION);
  expect(index.jobs.has('a')).toBe(false);
  expect(index.sizes().groups).toBe(1);
  expect(index.countUnfinished('tenant-2', 'pr:1')).toBe(1);
});
