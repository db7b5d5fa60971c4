import { JOB_STATUSES } from './input.ts';
import type { Job, JobStatus, JobSummary } from './types.ts';

/**
 * The two kinds of record LowdbStore writes to its journal. Each is self-contained, so the
 * journal can be replayed from the start to rebuild the in-memory index.
 *
 * `accept`: a delivery and the job it created, in one record so they are durable together
 * (the job's payload is the record body). `jobs`: the new mutable state of one or more jobs
 * (a claim of several jobs is one record, so a crash never leaves half a claim). `carry`: a
 * live delivery and/or job copied whole (state and payload) out of the oldest segment so
 * that segment can be deleted; replaying it replaces whatever older copy is still on disk.
 */

export interface AcceptRecord {
  t: 'accept';
  delivery: { id: string; clientKey: string; event: string; receivedAt: string };
  /** `seq` (acceptance order) is absent in records written before it was stored. */
  job: { id: string; clientKey: string; type: string; createdAt: string; group?: string; supersedes?: boolean; seq?: number } | null;
}

export interface CarryRecord {
  t: 'carry';
  delivery: AcceptRecord['delivery'] & { jobId: string | null } | null;
  job: (JobSummary & { seq: number }) | null;
}

export type JobState = Pick<Job, 'id' | 'status' | 'attempts' | 'runAfter' | 'updatedAt' | 'lastError' | 'readAt'>;

export interface JobsRecord {
  t: 'jobs';
  jobs: JobState[];
}

export type JournalRecord = AcceptRecord | JobsRecord | CarryRecord;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** Only the canonical form the store writes (Date#toISOString for years 0000-9999). */
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function isTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIME.test(value);
}

function isDelivery(d: unknown): d is AcceptRecord['delivery'] {
  return isObject(d) && isString(d.id) && isString(d.clientKey) && isString(d.event) && isTime(d.receivedAt);
}

function isNewJob(j: unknown): j is NonNullable<AcceptRecord['job']> {
  return (
    isObject(j) && isString(j.id) && isString(j.clientKey) && isString(j.type) && isTime(j.createdAt) &&
    (j.group === undefined || isString(j.group)) && (j.supersedes === undefined || typeof j.supersedes === 'boolean') &&
    (j.seq === undefined || Number.isSafeInteger(j.seq))
  );
}

function isJobState(value: unknown): value is JobState {
  return (
    isObject(value) &&
    isString(value.id) &&
    JOB_STATUSES.includes(value.status as JobStatus) &&
    Number.isSafeInteger(value.attempts) &&
    isTime(value.runAfter) &&
    isTime(value.updatedAt) &&
    (value.lastError === undefined || isString(value.lastError)) &&
    (value.readAt === undefined || isTime(value.readAt))
  );
}

/** Checks a replayed record's shape; throws a short description of what is wrong. */
export function parseRecord(value: unknown): JournalRecord {
  if (!isObject(value)) throw new Error('record is not an object');
  if (value.t === 'accept') {
    if (!isDelivery(value.delivery)) throw new Error('accept record has a malformed delivery');
    if (value.job !== null && !isNewJob(value.job)) throw new Error('accept record has a malformed job');
    return value as unknown as AcceptRecord;
  }
  if (value.t === 'carry') {
    const d = value.delivery;
    const j = value.job;
    if (d !== null && (!isDelivery(d) || !((d as Fields).jobId === null || isString((d as Fields).jobId)))) throw new Error('carry record has a malformed delivery');
    if (j !== null && (!isNewJob(j) || !isJobState(j) || !Number.isSafeInteger(j.seq))) throw new Error('carry record has a malformed job');
    return value as unknown as CarryRecord;
  }
  if (value.t === 'jobs') {
    if (!Array.isArray(value.jobs) || !value.jobs.every(isJobState)) throw new Error('jobs record has a malformed job state');
    return value as unknown as JobsRecord;
  }
  throw new Error(`unknown record type ${JSON.stringify(value.t)}`);
}
