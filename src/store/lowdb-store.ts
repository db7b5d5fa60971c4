import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { lockDataDir } from './data-dir-lock.ts';
import { DatacenterInstanceFile } from './datacenter-instance-file.ts';
import { InstallationLog } from './installation-log.ts';
import { checkClaim, checkDeadJobRead, checkDelivery, checkForgeInstallation, checkInstallation, checkJobFilter, checkJobPatch, checkNewJob, copyInstallation, type JobPatch } from './input.ts';
import { DEFAULT_RETENTION, isReadDead, JobIndex, summaryWith, type JobEntry, type Retention } from './job-index.ts';
import { parseRecord, type AcceptRecord, type CarryRecord, type JobState, type JobsRecord } from './journal-records.ts';
import { Journal, type BodyRef } from './journal.ts';
import { dropUnneededSegments } from './segment-compaction.ts';
import { SerialQueue } from './serial-queue.ts';
import { UNFINISHED_COUNT_CAP, type DatacenterInstance, type DatacenterInstanceStatus, type Delivery, type ForgeInstallation, type Installation, type Job, type JobFilter, type JobSummary, type NewJob, type Store } from './types.ts';

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
 * In memory: what is live (job-index.ts): deliveries inside the dedupe window, unfinished
 * jobs, finished ones for their retention period, each job's metadata but not its payload,
 * which stays on disk and is read by position; plus the indexes the hot paths ask. open()
 * replays the journal to rebuild this and returns jobs a crash left `running` to `queued`.
 *
 * History is let go: what outlived its retention is forgotten (sweep), and the oldest
 * journal segment is deleted once nothing live points into it. When only a few live items
 * hold it (a dead job kept 30 days among thousands of expired deliveries), they are copied
 * forward to the current segment first (`carry` records), so disk and memory stay bounded
 * by the retention windows, not by everything ever received. Not one file per job: 100k
 * files cost 100k opens at startup and an fsync'd rename per state change.
 *
 * Writes are ordered by call order: each mutation checks and updates memory synchronously
 * and appends its record in the same step, then waits for the group fsync before it
 * resolves. Reads wait for pending writes to be durable, so they never return something a
 * crash could take back. One process per DATA_DIR, enforced by a lock file (data-dir-lock.ts).
 *
 * Data Center instances are the exception: the `gatehouse datacenter` command changes them
 * while the server runs, so they live in a document of their own that any process may
 * change under a short lock (datacenter-instance-file.ts).
 */

export interface LowdbStoreOptions {
  dataDir: string;
  now?: () => Date;
  /** Segment size before the journal rolls over to a new file (tests use a small one). */
  maxSegmentBytes?: number;
  /** Take over a DATA_DIR lock written by another host (see data-dir-lock.ts). */
  takeOverLockFromOtherHost?: boolean;
  /** How long deliveries and finished jobs are kept (job-index.ts); defaults to DEFAULT_RETENTION. */
  retention?: Partial<Retention>;
  /** How often history is let go while nothing is written (writes also trigger it); default a minute. */
  maintenanceIntervalMs?: number;
}

export const MAINTENANCE_INTERVAL_MS = 60_000;

const JOURNAL_DIR = 'journal';
/** Superseded jobs one claim finishes at most (PgStore's claim looks at as many queued jobs). */
export const MAX_SUPERSEDED_PER_CLAIM = 500;
/** Parallel payload reads when listing many jobs. */
const READ_CONCURRENCY = 32;

export class LowdbStore implements Store {
  readonly #dataDir: string;
  readonly #now: () => Date;
  readonly #takeOverLock: boolean;
  readonly #retention: Retention;
  readonly #journal: Journal;
  readonly #installationLog: InstallationLog<Installation>;
  readonly #forgeLog: InstallationLog<ForgeInstallation>;
  readonly #installWrites = new SerialQueue();
  readonly #datacenter: DatacenterInstanceFile;
  #state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  #installations = new Map<string, Installation>();
  #forgeInstallations = new Map<string, ForgeInstallation>();
  #index = new JobIndex();
  /** One copy of each repeated string (clientKey, event, job type): ~20% of the index heap. */
  #strings = new Map<string, string>();
  #maintaining: Promise<void> | null = null;
  readonly #maintenanceIntervalMs: number;
  #maintenanceTimer: NodeJS.Timeout | null = null;
  #unlock: (() => Promise<void>) | null = null;

  constructor(opts: LowdbStoreOptions) {
    if (typeof opts?.dataDir !== 'string' || opts.dataDir === '') throw new TypeError('LowdbStore needs a dataDir');
    this.#dataDir = opts.dataDir;
    this.#now = opts.now ?? (() => new Date());
    this.#takeOverLock = opts.takeOverLockFromOtherHost === true;
    this.#retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.#maintenanceIntervalMs = opts.maintenanceIntervalMs ?? MAINTENANCE_INTERVAL_MS;
    this.#installationLog = new InstallationLog(this.#dataDir);
    this.#forgeLog = new InstallationLog(this.#dataDir, { snapshot: 'forge-installations.json', log: 'forge-installations.log' });
    this.#datacenter = new DatacenterInstanceFile(this.#dataDir);
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
      for (const { source, value } of await this.#forgeLog.open()) {
        try {
          const installation = checkForgeInstallation(value as ForgeInstallation);
          this.#forgeInstallations.set(installation.installationId, installation);
        } catch (err) {
          throw new Error(`${source} is invalid: ${(err as Error).message}`);
        }
      }
      await this.#journal.open((meta, body, segment) => this.#replay(meta, body, segment));
      this.#index.replayed();
      this.#sweep();

      const stranded = [...this.#index.jobs.values()].filter((e) => e.job.status === 'running');
      if (stranded.length > 0) {
        const at = this.#timestamp();
        await this.#writeJobStates(stranded.map((e) => ({ ...stateOf(e.job), status: 'queued', updatedAt: at }))).durable;
      }
    } catch (err) {
      this.#state = 'closed';
      await this.#journal.close().catch(() => undefined);
      await this.#installationLog.close().catch(() => undefined);
      await this.#forgeLog.close().catch(() => undefined);
      await this.#release();
      throw err;
    }
    this.#state = 'open';
    this.#maintainSoon();
    // An idle server lets go of history too: retention must not wait for the next webhook.
    this.#maintenanceTimer = setInterval(() => this.#maintainSoon(), this.#maintenanceIntervalMs).unref();
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#maintenanceTimer) clearInterval(this.#maintenanceTimer);
    try {
      await this.#maintaining?.catch(() => undefined);
      await this.#installWrites.idle();
      await this.#installationLog.close();
      await this.#forgeLog.close();
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

  /** How many entries each in-memory structure holds (bench/store-footprint.ts). */
  footprint(): Record<string, number> {
    return { ...this.#index.sizes(), installations: this.#installations.size, internedStrings: this.#strings.size };
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

  async getForgeInstallation(installationId: string): Promise<ForgeInstallation | undefined> {
    this.#assertOpen();
    const found = this.#forgeInstallations.get(installationId);
    return found && structuredClone(found);
  }

  async listForgeInstallations(): Promise<ForgeInstallation[]> {
    this.#assertOpen();
    return [...this.#forgeInstallations.values()].map((i) => structuredClone(i));
  }

  async putForgeInstallation(installation: ForgeInstallation): Promise<void> {
    this.#assertOpen();
    const copy = checkForgeInstallation(installation);
    await this.#installWrites.run(() => this.#appendForge(copy));
  }

  async offerForgeSystemToken(installationId: string, token: { encrypted: string; expiresAt: string }, at: string): Promise<boolean> {
    this.#assertOpen();
    // Decided inside the serial queue: a concurrent offer cannot slip in between check and write.
    return this.#installWrites.run(async () => {
      const current = this.#forgeInstallations.get(installationId);
      if (!current || current.state !== 'installed') return false;
      if (current.systemToken && Date.parse(current.systemToken.expiresAt) >= Date.parse(token.expiresAt)) return false;
      await this.#appendForge(checkForgeInstallation({ ...current, systemToken: token, updatedAt: at }));
      return true;
    });
  }

  /** Appends then shows; callers run inside #installWrites. */
  async #appendForge(copy: ForgeInstallation): Promise<void> {
    await this.#forgeLog.append(copy);
    this.#forgeInstallations.set(copy.installationId, copy);
    if (this.#forgeLog.shouldFold) {
      // Nothing is lost when this fails: the log still holds every record.
      await this.#forgeLog.fold([...this.#forgeInstallations.values()]).catch(() => undefined);
    }
  }

  async getDatacenterInstance(instanceId: string): Promise<DatacenterInstance | undefined> {
    this.#assertOpen();
    return this.#datacenter.get(instanceId);
  }

  async listDatacenterInstances(): Promise<DatacenterInstance[]> {
    this.#assertOpen();
    return this.#datacenter.list();
  }

  async putDatacenterInstance(instance: DatacenterInstance): Promise<void> {
    this.#assertOpen();
    await this.#datacenter.put(instance);
  }

  async setDatacenterInstanceStatus(instanceId: string, status: DatacenterInstanceStatus, lastError?: { message: string; at: string }): Promise<boolean> {
    this.#assertOpen();
    return this.#datacenter.setStatus(instanceId, status, lastError);
  }

  async deleteDatacenterInstance(instanceId: string): Promise<boolean> {
    this.#assertOpen();
    return this.#datacenter.delete(instanceId);
  }

  async acceptDelivery(
    delivery: Omit<Delivery, 'jobId' | 'receivedAt'>,
    job: NewJob | null,
  ): Promise<{ duplicate: boolean; jobId: string | null }> {
    this.#assertOpen();
    const d = checkDelivery(delivery);
    const newJob = job === null ? null : checkNewJob(job);
    this.#sweep();
    const known = this.#index.deliveries.get(d.id);
    if (known) {
      // The first copy may still be on its way to disk; "duplicate" must mean "already safe".
      await this.#journal.barrier();
      return { duplicate: true, jobId: known.delivery.jobId };
    }
    const at = this.#timestamp();
    const record: AcceptRecord = {
      t: 'accept',
      delivery: { ...d, receivedAt: at },
      job: newJob && { id: randomUUID(), ...newJob.job, createdAt: at, seq: this.#index.nextSeq() },
    };
    const { body, segment, durable } = this.#journal.append(record, newJob?.payloadJson);
    this.#index.segments.recorded(segment);
    this.#applyAccept(record, body, segment);
    this.#maintainSoon();
    await durable;
    return { duplicate: false, jobId: record.job?.id ?? null };
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    this.#assertOpen();
    this.#sweep();
    const found = this.#index.deliveries.get(id)?.delivery;
    await this.#journal.barrier();
    return found && { ...found };
  }

  async countDeliveries(): Promise<number> {
    this.#assertOpen();
    this.#sweep();
    const count = this.#index.deliveries.size;
    await this.#journal.barrier();
    return count;
  }

  async getJob(id: string): Promise<Job | undefined> {
    this.#assertOpen();
    this.#sweep();
    const entry = this.#index.jobs.get(id);
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
    // Superseded jobs are finished on the way and do not count towards the limit; at most
    // MAX_SUPERSEDED_PER_CLAIM of them per call, so one claim's record and work stay bounded
    // however many events a pull request piled up (the next claim goes on from there).
    // A job whose group (pull request) has one running stays queued, unrecorded, as the
    // PostgreSQL claim does too: handed out, the worker would only put it back (two records,
    // two writes), and a busy pull request's deliveries made that happen on every
    // acknowledgement. The worker's own group check stays as a guard.
    const skipped: JobEntry[] = [];
    // One reason string per superseding job, not one per superseded job: each stays in memory for the retention period.
    const reasons = new Map<string, string>();
    const supersededBy = (id: string) => reasons.get(id) ?? reasons.set(id, `skipped: superseded by job ${id}`).get(id)!;
    for (const entry of this.#index.queued.takeDue(now.toISOString())) {
      if (claimed.length >= limit || states.length - claimed.length + skipped.length >= MAX_SUPERSEDED_PER_CLAIM) break;
      const newer = this.#index.supersederOf(entry);
      if (newer) states.push({ ...stateOf(entry.job), status: 'done', lastError: supersededBy(newer.job.id), updatedAt: at });
      else if (this.#index.groupRunning(entry)) skipped.push(entry);
      else {
        claimed.push(entry);
        states.push({ ...stateOf(entry.job), status: 'running', updatedAt: at });
      }
    }
    // Taken off the queue by the walk above: queued again, in the same order (same seq and time).
    for (const entry of skipped) this.#index.queued.add(entry);
    if (states.length === 0) return [];
    const { durable } = this.#writeJobStates(states);
    const snapshot = claimed.map((e) => ({ job: e.job, payload: e.payload }));
    await durable;
    return this.#withPayloads(snapshot);
  }

  async countQueuedJobs(clientKey: string): Promise<number> {
    this.#assertOpen();
    const count = this.#index.countQueued(clientKey);
    await this.#journal.barrier();
    return count;
  }

  async countUnfinishedJobs(clientKey: string, group: string): Promise<number> {
    this.#assertOpen();
    const count = Math.min(this.#index.countUnfinished(clientKey, group), UNFINISHED_COUNT_CAP);
    await this.#journal.barrier();
    return count;
  }

  async findSuperseder(jobId: string): Promise<JobSummary | undefined> {
    this.#assertOpen();
    const entry = this.#index.jobs.get(jobId);
    const newer = entry && this.#index.supersederOf(entry);
    await this.#journal.barrier();
    return newer && { ...newer.job };
  }

  async updateJob(id: string, patch: Partial<Pick<Job, 'status' | 'attempts' | 'runAfter' | 'lastError'>>): Promise<void> {
    this.#assertOpen();
    const change: JobPatch = checkJobPatch(patch);
    const entry = this.#index.jobs.get(id);
    if (!entry) throw new Error(`no job with id ${JSON.stringify(id)}`);
    await this.#writeJobStates([{ ...stateOf(entry.job), ...change, updatedAt: this.#timestamp() }]).durable;
  }

  async retryDeadJob(id: string, clientKey: string, retry: { runAfter: string; lastError: string }): Promise<'retried' | 'not_found' | 'not_dead'> {
    this.#assertOpen();
    const change = checkJobPatch({ status: 'queued', attempts: 0, ...retry });
    const entry = this.#index.jobs.get(id);
    if (!entry || entry.job.clientKey !== clientKey) return 'not_found';
    if (entry.job.status !== 'dead') return 'not_dead';
    // Checked and applied with no await between: a second caller sees the job queued already.
    await this.#writeJobStates([{ ...stateOf(entry.job), ...change, updatedAt: this.#timestamp() }]).durable;
    return 'retried';
  }

  /** Not a hot path (an operator asks): walks the live jobs, bounded by retention. */
  async readDeadJobs(opts: { limit: number; clientKey?: string }): Promise<JobSummary[]> {
    this.#assertOpen();
    const { limit, clientKey } = checkDeadJobRead(opts);
    this.#sweep();
    const dead = [...this.#index.jobs.values()]
      .filter(({ job }) => job.status === 'dead' && (clientKey === undefined || job.clientKey === clientKey))
      .sort((a, b) => (a.job.updatedAt === b.job.updatedAt ? b.seq - a.seq : a.job.updatedAt < b.job.updatedAt ? 1 : -1))
      .slice(0, limit);
    const unread = dead.filter(({ job }) => !isReadDead(job));
    const at = this.#timestamp();
    // Applied at once, so the summaries below carry their readAt; answered once durable.
    const durable = unread.length > 0 ? this.#writeJobStates(unread.map(({ job }) => ({ ...stateOf(job), readAt: at }))).durable : this.#journal.barrier();
    const read = dead.map(({ job }) => ({ ...job }));
    await durable;
    return read;
  }

  /** Not a hot path: walks the live jobs (bounded by retention), never the whole history. */
  async listJobs(filter?: JobFilter): Promise<Job[]> {
    this.#assertOpen();
    const { status, clientKey, type, group, newestFirst = false, limit = Infinity } = checkJobFilter(filter);
    this.#sweep();
    const matching = [...this.#index.jobs.values()].filter(
      ({ job }) =>
        (status === undefined || job.status === status) &&
        (clientKey === undefined || job.clientKey === clientKey) &&
        (type === undefined || job.type === type) &&
        (group === undefined || job.group === group),
    );
    matching.sort((a, b) => (newestFirst ? b.seq - a.seq : a.seq - b.seq));
    return this.#withPayloads(matching.slice(0, limit).map(({ job, payload }) => ({ job, payload })));
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new Error(`store is ${this.#state === 'closed' ? 'closed' : 'not open yet'}`);
  }

  /** Forgets what outlived its retention; costs what it forgets (job-index.ts), so every call may. */
  #sweep(): void {
    this.#index.sweep(this.#clock().getTime(), this.#retention);
  }

  #timestamp(): string {
    return this.#clock().toISOString();
  }

  #clock(): Date {
    const now = this.#now();
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error('store clock returned an invalid Date');
    return now;
  }

  #replay(meta: unknown, body: BodyRef | null, segment: number): void {
    const record = parseRecord(meta);
    this.#index.segments.recorded(segment);
    if (record.t === 'accept') this.#applyAccept(record, body, segment);
    else if (record.t === 'carry') this.#applyCarry(record, body, segment);
    // States of a job no longer live (pruned, its record deleted) are history: skipped.
    else for (const state of record.jobs) this.#index.applyState(state, segment);
  }

  /** The one place an accept changes memory, live or replayed. */
  #applyAccept(record: AcceptRecord, body: BodyRef | null, segment: number): void {
    const { delivery, job } = record;
    const known = this.#index.deliveries.get(delivery.id);
    if (known) {
      // Accepted again after the dedupe window let it go: the older copy is history.
      if (Date.parse(delivery.receivedAt) - Date.parse(known.delivery.receivedAt) < this.#retention.deliveryMs) {
        throw new Error(`delivery ${JSON.stringify(delivery.id)} recorded twice`);
      }
      this.#index.forgetDelivery(known);
    }
    if ((job === null) !== (body === null)) throw new Error('a job and its payload must be recorded together');
    // Literals with every field named (no spreads) keep one object shape per kind: cheaper
    // to build 100k of on open() and smaller to hold.
    this.#index.addDelivery({
      delivery: {
        id: delivery.id,
        clientKey: this.#intern(delivery.clientKey),
        event: this.#intern(delivery.event),
        jobId: job?.id ?? null,
        receivedAt: delivery.receivedAt,
      },
      segment,
    });
    if (job === null || body === null) return;
    if (this.#index.jobs.has(job.id)) throw new Error(`job ${job.id} recorded twice`);
    const meta = summaryWith({
      id: job.id,
      clientKey: this.#intern(job.clientKey),
      type: this.#intern(job.type),
      status: 'queued',
      attempts: 0,
      runAfter: job.createdAt,
      createdAt: job.createdAt,
      updatedAt: job.createdAt,
      group: job.group === undefined ? undefined : this.#index.sharedGroup(job.clientKey, job.group),
      supersedes: job.supersedes,
    });
    this.#index.addJob({ seq: job.seq ?? this.#index.nextSeq(), job: meta, payload: body, stateSegment: segment });
  }

  #applyCarry(record: CarryRecord, body: BodyRef | null, segment: number): void {
    if (record.delivery) {
      const { id, clientKey, event, jobId, receivedAt } = record.delivery;
      this.#index.addDelivery({ delivery: { id, clientKey: this.#intern(clientKey), event: this.#intern(event), jobId, receivedAt }, segment });
    }
    if (record.job) {
      if (body === null) throw new Error('a carried job must carry its payload');
      const { seq, ...job } = record.job;
      this.#index.addJob({ seq, job: summaryWith({ ...job, clientKey: this.#intern(job.clientKey), type: this.#intern(job.type) }), payload: body, stateSegment: segment });
    }
  }

  #intern(value: string): string {
    const known = this.#strings.get(value);
    if (known !== undefined) return known;
    this.#strings.set(value, value);
    return value;
  }

  /** Appends and applies at once (so call order is journal order); the caller awaits `durable`. */
  #writeJobStates(states: JobState[]): { durable: Promise<void> } {
    const record: JobsRecord = { t: 'jobs', jobs: states };
    const { durable, segment } = this.#journal.append(record);
    this.#index.segments.recorded(segment);
    for (const state of states) this.#index.applyState(state, segment);
    this.#maintainSoon();
    return { durable };
  }

  /** Starts letting history go unless that is already under way. */
  #maintainSoon(): void {
    if (this.#maintaining || this.#state !== 'open') return;
    this.#maintaining = this.#maintain().finally(() => {
      this.#maintaining = null;
    });
    // A failure (disk full) leaves everything in place; the next write tries again.
    this.#maintaining.catch(() => undefined);
  }

  /** Forgets what outlived its retention, then deletes the oldest segments nothing live needs. */
  async #maintain(): Promise<void> {
    await Promise.resolve();
    this.#sweep();
    await dropUnneededSegments(this.#journal, this.#index.segments, (segment) => this.#carryForward(segment), () => this.#state === 'open');
  }

  /** Copies every live item of `segment` to the journal's head, whole. */
  async #carryForward(segment: number): Promise<void> {
    const holders = [...this.#index.holdersOf(segment)];
    const payloads = await Promise.all(holders.map(({ job }) => (job ? this.#journal.readBody(job.payload) : Promise.resolve(undefined))));
    let durable: Promise<void> = Promise.resolve();
    for (const [i, { delivery, job }] of holders.entries()) {
      if (this.#state !== 'open') return;
      // Re-read: the item may have changed or gone while the payloads were read.
      const liveJob = job && this.#index.jobs.get(job.job.id) === job ? job : undefined;
      const liveDelivery = delivery && this.#index.deliveries.get(delivery.delivery.id) === delivery ? delivery : undefined;
      if (!liveJob && !liveDelivery) continue;
      const record: CarryRecord = {
        t: 'carry',
        delivery: liveDelivery ? { ...liveDelivery.delivery } : null,
        job: liveJob ? { ...liveJob.job, seq: liveJob.seq } : null,
      };
      const appended = this.#journal.append(record, liveJob ? payloads[i] : undefined);
      this.#index.segments.recorded(appended.segment);
      this.#applyCarry(record, appended.body, appended.segment);
      durable = appended.durable;
    }
    // Batches are written in order: the last one durable means every one is.
    await durable;
  }

  /** Snapshots are taken by the caller before any await; payloads are read once durable. */
  async #withPayloads(items: { job: JobSummary; payload: BodyRef }[]): Promise<Job[]> {
    await this.#journal.barrier();
    const out: Job[] = new Array(items.length);
    for (let start = 0; start < items.length; start += READ_CONCURRENCY) {
      await Promise.all(
        items.slice(start, start + READ_CONCURRENCY).map(async ({ job, payload }, k) => {
          out[start + k] = { ...job, payload: await this.#readPayload(job.id, payload) };
        }),
      );
    }
    return out;
  }

  async #readPayload(jobId: string, ref: BodyRef): Promise<unknown> {
    let text: string;
    try {
      text = await this.#journal.readBody(ref);
    } catch (err) {
      // Carried forward and its old segment deleted since the snapshot: read the new copy.
      const moved = this.#index.jobs.get(jobId)?.payload;
      if (!moved || moved === ref) throw err;
      text = await this.#journal.readBody(moved);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`payload of job ${jobId} is unreadable on disk (journal segment ${ref.segment}, byte ${ref.offset})`);
    }
  }
}

function stateOf(job: JobSummary): JobState {
  const state: JobState = { id: job.id, status: job.status, attempts: job.attempts, runAfter: job.runAfter, updatedAt: job.updatedAt };
  if (job.lastError !== undefined) state.lastError = job.lastError;
  if (job.readAt !== undefined) state.readAt = job.readAt;
  return state;
}
