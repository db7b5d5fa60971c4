import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { lockDataDir } from './data-dir-lock.ts';
import { InstallationLog } from './installation-log.ts';
import { checkClaim, checkDelivery, checkInstallation, checkJobFilter, checkJobPatch, checkNewJob, copyInstallation, type JobPatch } from './input.ts';
import { JobQueue } from './job-queue.ts';
import { parseRecord, type AcceptRecord, type JobState, type JobsRecord } from './journal-records.ts';
import { Journal, type BodyRef } from './journal.ts';
import { SerialQueue } from './serial-queue.ts';
import type { Delivery, Installation, Job, JobFilter, JobSummary, NewJob, Store } from './types.ts';

/**
 * The default Store: files in DATA_DIR, no database server.
 *
 * Why two mechanisms. Installations are few and change rarely, so they live in one lowdb
 * document (installations.json) plus a log of changes since (installation-log.ts): an
 * install appends one line, whatever else is stored. Deliveries and jobs
 * grow without bound, and lowdb rewrites its whole document per write, so they go to an
 * append-only journal instead (journal/NNNNNNNNNN.jsonl in 16 MB segments, each sealed one
 * with a .idx beside it; see journal.ts): accepting a delivery appends one line and fsyncs,
 * a cost that does not depend on how many deliveries are stored. A delivery and its job are
 * one record, so they are durable together.
 *
 * In memory: every delivery, every job's metadata, and a sorted hot set of queued jobs to
 * claim from; job payloads stay on disk and are read by position. open() replays the
 * journal to rebuild this index and returns jobs a crash left `running` to `queued`. Done
 * and dead jobs leave the hot set but stay readable.
 *
 * No compaction: payloads, the bulk of the bytes, never become garbage (jobs stay readable
 * by id), and superseded job states are ~150-byte lines, so rewriting segments would cost
 * I/O for little; the .idx files give open() what compaction would. Not one file per job
 * either: 100k files cost 100k opens at startup and an fsync'd rename per state change.
 *
 * Writes are ordered by call order: each mutation checks and updates memory synchronously
 * and appends its record in the same step, then waits for the group fsync before it
 * resolves. Reads wait for pending writes to be durable, so they never return something a
 * crash could take back. One process per DATA_DIR, enforced by a lock file (data-dir-lock.ts).
 */

export interface LowdbStoreOptions {
  dataDir: string;
  now?: () => Date;
  /** Segment size before the journal rolls over to a new file (tests use a small one). */
  maxSegmentBytes?: number;
  /** Take over a DATA_DIR lock written by another host (see data-dir-lock.ts). */
  takeOverLockFromOtherHost?: boolean;
}

interface JobEntry {
  /** Acceptance order: defines "oldest first". */
  readonly seq: number;
  /** Replaced, never mutated, so a reference handed to a reader stays consistent. */
  job: JobSummary;
  readonly payload: BodyRef;
}

/** One group's counters and newest superseding job, so no question about a group scans jobs. */
interface GroupEntry {
  unfinished: number;
  newestSuperseding: JobEntry | null;
}

const isUnfinished = (status: Job['status']) => status === 'queued' || status === 'running';
const groupKey = (clientKey: string, group: string) => `${clientKey}\n${group}`;


const JOURNAL_DIR = 'journal';
/** Parallel payload reads when listing many jobs. */
const READ_CONCURRENCY = 32;

export class LowdbStore implements Store {
  readonly #dataDir: string;
  readonly #now: () => Date;
  readonly #takeOverLock: boolean;
  readonly #journal: Journal;
  readonly #installationLog: InstallationLog;
  readonly #installWrites = new SerialQueue();
  #state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  #installations = new Map<string, Installation>();
  #deliveries = new Map<string, Delivery>();
  #jobs = new Map<string, JobEntry>();
  /** Every job in acceptance order, for listing from either end. */
  #jobOrder: JobEntry[] = [];
  #queued = new JobQueue<JobEntry>();
  #queuedByClient = new Map<string, number>();
  #groups = new Map<string, GroupEntry>();
  /** One copy of each repeated string (clientKey, event, job type): ~20% of the index heap. */
  #strings = new Map<string, string>();
  #seq = 0;
  #unlock: (() => Promise<void>) | null = null;

  constructor(opts: LowdbStoreOptions) {
    if (typeof opts?.dataDir !== 'string' || opts.dataDir === '') throw new TypeError('LowdbStore needs a dataDir');
    this.#dataDir = opts.dataDir;
    this.#now = opts.now ?? (() => new Date());
    this.#takeOverLock = opts.takeOverLockFromOtherHost === true;
    this.#installationLog = new InstallationLog(this.#dataDir);
    this.#journal = new Journal(path.join(this.#dataDir, JOURNAL_DIR), { maxSegmentBytes: opts.maxSegmentBytes });
  }

  async open(): Promise<void> {
    if (this.#state !== 'new') throw new Error('a LowdbStore can be opened once; create a new one to reopen');
    this.#state = 'opening';
    try {
      await mkdir(this.#dataDir, { recursive: true, mode: 0o700 });
      this.#unlock = await lockDataDir(this.#dataDir, { takeOverFromOtherHost: this.#takeOverLock });
      for (const { source, value } of await this.#installationLog.open()) {
        try {
          const installation = checkInstallation(value as Installation);
          this.#installations.set(installation.clientKey, installation);
        } catch (err) {
          throw new Error(`${source} is invalid: ${(err as Error).message}`);
        }
      }
      await this.#journal.open((meta, body) => this.#replay(meta, body));

      const stranded = [...this.#jobs.values()].filter((e) => e.job.status === 'running');
      if (stranded.length > 0) {
        const at = this.#timestamp();
        await this.#writeJobStates(stranded.map((e) => ({ ...stateOf(e.job), status: 'queued', updatedAt: at }))).durable;
      }
    } catch (err) {
      this.#state = 'closed';
      await this.#journal.close().catch(() => undefined);
      await this.#installationLog.close().catch(() => undefined);
      await this.#release();
      throw err;
    }
    this.#state = 'open';
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    try {
      await this.#installWrites.idle();
      await this.#installationLog.close();
      await this.#journal.close();
    } finally {
      await this.#release();
    }
  }

  async #release(): Promise<void> {
    const unlock = this.#unlock;
    this.#unlock = null;
    await unlock?.();
  }

  async getInstallation(clientKey: string): Promise<Installation | undefined> {
    this.#assertOpen();
    const found = this.#installations.get(clientKey);
    return found && copyInstallation(found);
  }

  async listInstallations(): Promise<Installation[]> {
    this.#assertOpen();
    return [...this.#installations.values()].map(copyInstallation);
  }

  async putInstallation(installation: Installation): Promise<void> {
    this.#assertOpen();
    const copy = checkInstallation(installation);
    await this.#installWrites.run(async () => {
      await this.#installationLog.append(copy);
      // Only now visible to readers: a get never returns an installation that is not on disk.
      this.#installations.set(copy.clientKey, copy);
    });
    if (this.#installationLog.shouldFold) {
      // Queued behind this install, not inside it: the install is acknowledged first.
      void this.#installWrites.run(async () => {
        if (this.#installationLog.shouldFold) await this.#installationLog.fold([...this.#installations.values()]);
      }).catch(() => undefined); // Nothing lost: the log still holds every record, and the next install tries again.
    }
  }

  async acceptDelivery(
    delivery: Omit<Delivery, 'jobId' | 'receivedAt'>,
    job: NewJob | null,
  ): Promise<{ duplicate: boolean; jobId: string | null }> {
    this.#assertOpen();
    const d = checkDelivery(delivery);
    const newJob = job === null ? null : checkNewJob(job);
    const known = this.#deliveries.get(d.id);
    if (known) {
      // The first copy may still be on its way to disk; "duplicate" must mean "already safe".
      await this.#journal.barrier();
      return { duplicate: true, jobId: known.jobId };
    }
    const at = this.#timestamp();
    const record: AcceptRecord = {
      t: 'accept',
      delivery: { ...d, receivedAt: at },
      job: newJob && { id: randomUUID(), ...newJob.job, createdAt: at },
    };
    const { body, durable } = this.#journal.append(record, newJob?.payloadJson);
    this.#applyAccept(record, body);
    await durable;
    return { duplicate: false, jobId: record.job?.id ?? null };
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    this.#assertOpen();
    const found = this.#deliveries.get(id);
    await this.#journal.barrier();
    return found && { ...found };
  }

  async countDeliveries(): Promise<number> {
    this.#assertOpen();
    const count = this.#deliveries.size;
    await this.#journal.barrier();
    return count;
  }

  async getJob(id: string): Promise<Job | undefined> {
    this.#assertOpen();
    const entry = this.#jobs.get(id);
    if (!entry) return undefined;
    const [job] = await this.#withPayloads([{ job: entry.job, payload: entry.payload }]);
    return job;
  }

  async claimJobs(limit: number, now: Date): Promise<Job[]> {
    this.#assertOpen();
    checkClaim(limit, now);
    const at = this.#timestamp();
    const states: JobState[] = [];
    const claimed: JobEntry[] = [];
    // Superseded jobs are finished on the way and do not count towards the limit.
    for (const entry of this.#queued.dueFrom(now.toISOString())) {
      if (claimed.length >= limit) break;
      const newer = this.#supersederOf(entry);
      if (newer) states.push({ ...stateOf(entry.job), status: 'done', lastError: `skipped: superseded by job ${newer.job.id}`, updatedAt: at });
      else {
        claimed.push(entry);
        states.push({ ...stateOf(entry.job), status: 'running', updatedAt: at });
      }
    }
    if (states.length === 0) return [];
    const { durable } = this.#writeJobStates(states);
    const snapshot = claimed.map((e) => ({ job: e.job, payload: e.payload }));
    await durable;
    return this.#withPayloads(snapshot);
  }

  async countQueuedJobs(clientKey: string): Promise<number> {
    this.#assertOpen();
    const count = this.#queuedByClient.get(clientKey) ?? 0;
    await this.#journal.barrier();
    return count;
  }

  async countUnfinishedJobs(clientKey: string, group: string): Promise<number> {
    this.#assertOpen();
    const count = this.#groups.get(groupKey(clientKey, group))?.unfinished ?? 0;
    await this.#journal.barrier();
    return count;
  }

  async findSuperseder(jobId: string): Promise<JobSummary | undefined> {
    this.#assertOpen();
    const entry = this.#jobs.get(jobId);
    const newer = entry && this.#supersederOf(entry);
    await this.#journal.barrier();
    return newer && { ...newer.job };
  }

  /** The group's newest superseding job when it is newer than `entry`. */
  #supersederOf(entry: JobEntry): JobEntry | undefined {
    const { group, clientKey } = entry.job;
    if (group === undefined) return undefined;
    const newest = this.#groups.get(groupKey(clientKey, group))?.newestSuperseding;
    return newest && newest.seq > entry.seq ? newest : undefined;
  }

  async updateJob(id: string, patch: Partial<Pick<Job, 'status' | 'attempts' | 'runAfter' | 'lastError'>>): Promise<void> {
    this.#assertOpen();
    const change: JobPatch = checkJobPatch(patch);
    const entry = this.#jobs.get(id);
    if (!entry) throw new Error(`no job with id ${JSON.stringify(id)}`);
    await this.#writeJobStates([{ ...stateOf(entry.job), ...change, updatedAt: this.#timestamp() }]).durable;
  }

  async listJobs(filter?: JobFilter): Promise<Job[]> {
    this.#assertOpen();
    const { status, clientKey, type, group, newestFirst = false, limit = Infinity } = checkJobFilter(filter);
    const picked: { job: Omit<Job, 'payload'>; payload: BodyRef }[] = [];
    const order = this.#jobOrder;
    for (let k = 0; k < order.length && picked.length < limit; k++) {
      const { job, payload } = order[newestFirst ? order.length - 1 - k : k]!;
      if (status !== undefined && job.status !== status) continue;
      if (clientKey !== undefined && job.clientKey !== clientKey) continue;
      if (type !== undefined && job.type !== type) continue;
      if (group !== undefined && job.group !== group) continue;
      picked.push({ job, payload });
    }
    return this.#withPayloads(picked);
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new Error(`store is ${this.#state === 'closed' ? 'closed' : 'not open yet'}`);
  }

  #timestamp(): string {
    const now = this.#now();
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error('store clock returned an invalid Date');
    return now.toISOString();
  }

  #replay(meta: unknown, body: BodyRef | null): void {
    const record = parseRecord(meta);
    if (record.t === 'accept') this.#applyAccept(record, body);
    else this.#applyJobStates(record.jobs);
  }

  /** The one place an accept changes memory, live or replayed. */
  #applyAccept(record: AcceptRecord, body: BodyRef | null): void {
    const { delivery, job } = record;
    if (this.#deliveries.has(delivery.id)) throw new Error(`delivery ${JSON.stringify(delivery.id)} recorded twice`);
    if ((job === null) !== (body === null)) throw new Error('a job and its payload must be recorded together');
    // Literals with every field named (no spreads) keep one object shape per kind: cheaper
    // to build 100k of on open() and smaller to hold.
    this.#deliveries.set(delivery.id, {
      id: delivery.id,
      clientKey: this.#intern(delivery.clientKey),
      event: this.#intern(delivery.event),
      jobId: job?.id ?? null,
      receivedAt: delivery.receivedAt,
    });
    if (job === null || body === null) return;
    if (this.#jobs.has(job.id)) throw new Error(`job ${job.id} recorded twice`);
    const meta: Omit<Job, 'payload'> = {
      id: job.id,
      clientKey: this.#intern(job.clientKey),
      type: this.#intern(job.type),
      status: 'queued',
      attempts: 0,
      runAfter: job.createdAt,
      createdAt: job.createdAt,
      updatedAt: job.createdAt,
    };
    if (job.group !== undefined) meta.group = job.group;
    if (job.supersedes === true) meta.supersedes = true;
    const entry: JobEntry = { seq: ++this.#seq, job: meta, payload: body };
    this.#jobs.set(job.id, entry);
    this.#jobOrder.push(entry);
    this.#queued.add(entry);
    this.#countQueued(meta.clientKey, 1);
    if (job.group !== undefined) {
      const key = groupKey(meta.clientKey, job.group);
      const group = this.#groups.get(key) ?? { unfinished: 0, newestSuperseding: null };
      group.unfinished += 1;
      if (job.supersedes === true) group.newestSuperseding = entry;
      this.#groups.set(key, group);
    }
  }

  #countQueued(clientKey: string, change: number): void {
    const count = (this.#queuedByClient.get(clientKey) ?? 0) + change;
    if (count === 0) this.#queuedByClient.delete(clientKey);
    else this.#queuedByClient.set(clientKey, count);
  }

  #intern(value: string): string {
    const known = this.#strings.get(value);
    if (known !== undefined) return known;
    this.#strings.set(value, value);
    return value;
  }

  /** The one place a job's state changes memory, live or replayed. */
  #applyJobStates(states: JobState[]): void {
    for (const state of states) {
      const entry = this.#jobs.get(state.id);
      if (!entry) throw new Error(`state for unknown job ${JSON.stringify(state.id)}`);
      const was = entry.job.status;
      entry.job = { ...entry.job, ...state };
      const now = state.status;
      if (was === 'queued' && now !== 'queued') {
        this.#queued.remove(entry.seq);
        this.#countQueued(entry.job.clientKey, -1);
      } else if (was !== 'queued' && now === 'queued') {
        this.#queued.add(entry);
        this.#countQueued(entry.job.clientKey, 1);
      }
      const group = entry.job.group === undefined ? undefined : this.#groups.get(groupKey(entry.job.clientKey, entry.job.group));
      if (group && isUnfinished(was) !== isUnfinished(now)) group.unfinished += isUnfinished(now) ? 1 : -1;
    }
  }

  /** Appends and applies at once (so call order is journal order); the caller awaits `durable`. */
  #writeJobStates(states: JobState[]): { durable: Promise<void> } {
    const record: JobsRecord = { t: 'jobs', jobs: states };
    const { durable } = this.#journal.append(record);
    this.#applyJobStates(states);
    return { durable };
  }

  /** Snapshots are taken by the caller before any await; payloads are read once durable. */
  async #withPayloads(items: { job: Omit<Job, 'payload'>; payload: BodyRef }[]): Promise<Job[]> {
    await this.#journal.barrier();
    const out: Job[] = new Array(items.length);
    for (let start = 0; start < items.length; start += READ_CONCURRENCY) {
      await Promise.all(
        items.slice(start, start + READ_CONCURRENCY).map(async ({ job, payload }, k) => {
          const text = await this.#journal.readBody(payload);
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            throw new Error(`payload of job ${job.id} is unreadable on disk (journal segment ${payload.segment}, byte ${payload.offset})`);
          }
          out[start + k] = { ...job, payload: value };
        }),
      );
    }
    return out;
  }
}

function stateOf(job: Omit<Job, 'payload'>): JobState {
  const state: JobState = { id: job.id, status: job.status, attempts: job.attempts, runAfter: job.runAfter, updatedAt: job.updatedAt };
  if (job.lastError !== undefined) state.lastError = job.lastError;
  return state;
}
