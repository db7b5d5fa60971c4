import type { BodyRef } from './journal.ts';
import { Fifo } from './fifo.ts';
import { JobQueue } from './job-queue.ts';
import type { JobState } from './journal-records.ts';
import { SegmentUse } from './segment-compaction.ts';
import type { Delivery, Job, JobSummary } from './types.ts';

/**
 * LowdbStore's memory: what is live in its journal, with an index for every question a hot
 * path asks, so that each costs the same however much history the journal has seen.
 *
 * Live means: deliveries inside the dedupe window, queued and running jobs, done jobs for
 * the retention period after they finished, dead jobs for 30 days after they died or the
 * retention period after an operator read them, whichever comes first. sweep()
 * forgets the rest, oldest first, from queues kept in arrival and finishing order, so it
 * never looks at anything that stays.
 *
 * Every live item counts a reference on each journal segment it needs (a delivery: its
 * record; a job: the record with its payload and the one with its latest state). A segment
 * nobody references can be deleted; see LowdbStore#maintain.
 */

export interface Retention {
  /** How long a delivery id is remembered (a redelivery inside it is a duplicate). */
  deliveryMs: number;
  /** How long a done job (and its payload) stays readable after it finished. */
  doneJobMs: number;
  /** How long a dead job stays readable after it died. */
  deadJobMs: number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RETENTION: Retention = { deliveryMs: 7 * DAY_MS, doneJobMs: 7 * DAY_MS, deadJobMs: 30 * DAY_MS };

export interface DeliveryEntry {
  readonly delivery: Delivery;
  /** Segment of the record that holds it. */
  segment: number;
}

export interface JobEntry {
  /** Acceptance order: defines "oldest first" and which job of a group is newer. */
  readonly seq: number;
  /** Replaced, never mutated, so a reference handed to a reader stays consistent. */
  job: JobSummary;
  payload: BodyRef;
  /** Segment of the record that holds the job's current state. */
  stateSegment: number;
}

/** One group's counters and newest superseding job, so no question about a group scans jobs. */
interface GroupEntry {
  /** The group's name as its first live job spelled it; later jobs share this copy. */
  readonly group: string;
  unfinished: number;
  /** Of the unfinished, how many are running (claimed and not yet finished or put back). */
  running: number;
  newestSuperseding: JobEntry | null;
}

interface FinishedItem {
  entry: JobEntry;
  job: JobSummary;
}

/**
 * A job's summary with `state` applied: every field written in one order by one literal, so
 * that all summaries share a few hidden classes. Built by spreading (`{ ...job, ...state }`),
 * each one got a hidden class of its own once the spread's inline cache went megamorphic: a
 * map and a descriptor array, about 390 bytes per live job, a third of what the index held.
 * The job's identity (id, tenant, type, group, creation) never changes; its state does.
 */
export function summaryWith(job: JobSummary, state: Partial<JobSummary> = {}): JobSummary {
  const summary: JobSummary = {
    id: job.id,
    clientKey: job.clientKey,
    type: job.type,
    status: state.status ?? job.status,
    attempts: state.attempts ?? job.attempts,
    runAfter: state.runAfter ?? job.runAfter,
    createdAt: job.createdAt,
    updatedAt: state.updatedAt ?? job.updatedAt,
  };
  if (job.group !== undefined) summary.group = job.group;
  if (job.supersedes === true) summary.supersedes = true;
  const lastError = 'lastError' in state ? state.lastError : job.lastError;
  if (lastError !== undefined) summary.lastError = lastError;
  const readAt = 'readAt' in state ? state.readAt : job.readAt;
  if (readAt !== undefined) summary.readAt = readAt;
  return summary;
}

const isUnfinished = (status: Job['status']) => status === 'queued' || status === 'running';
/** Read by an operator while in its current dead state (a read before a later change does not count). */
export const isReadDead = (job: JobSummary): boolean => job.status === 'dead' && job.readAt !== undefined && job.readAt >= job.updatedAt;
const noteTime = (kind: 'done' | 'dead' | 'read', job: JobSummary): string => (kind === 'read' ? job.readAt! : job.updatedAt);

/**
 * Whether the job's current state is still the one an item noted: the same finish for
 * done and dead (being read later does not renew the 30 days), the same read for `read`.
 */
function stillStandsFor(kind: 'done' | 'dead' | 'read', current: JobSummary, noted: JobSummary): boolean {
  if (current.status !== noted.status || current.updatedAt !== noted.updatedAt) return false;
  return kind !== 'read' || current.readAt === noted.readAt;
}
/** When an item noted at `time` (ISO) is past a cutoff `keepMs` behind: never for no item, at once for a time that does not parse. */
function dueAt(time: string | undefined, keepMs: number): number {
  if (time === undefined) return Infinity;
  const due = Date.parse(time) + keepMs;
  return Number.isNaN(due) ? -Infinity : due;
}

export class JobIndex {
  readonly deliveries = new Map<string, DeliveryEntry>();
  readonly jobs = new Map<string, JobEntry>();
  readonly queued = new JobQueue<JobEntry>();
  readonly #queuedByClient = new Map<string, number>();
  /** Per tenant, then per group: a lookup builds no key string (it ran several times per acknowledgement). */
  readonly #groups = new Map<string, Map<string, GroupEntry>>();
  #groupCount = 0;
  readonly #deliveryOrder = new Fifo<DeliveryEntry>();
  /**
   * Jobs in the order they finished (or, for `read`, were read dead), with the state they were
   * noted in; an item whose job has since changed what it stands for is stale and skipped.
   */
  readonly #finished = {
    done: new Fifo<FinishedItem>(),
    dead: new Fifo<FinishedItem>(),
    read: new Fifo<FinishedItem>(),
  };
  /** Records and live references per journal segment (segment-compaction.ts). */
  readonly segments = new SegmentUse();
  #seq = 0;
  /**
   * Until this time (ms) sweep() has nothing to forget: it stops at each queue's head, and every
   * head is younger than its cutoff. Every acknowledgement sweeps, and working out the four
   * cutoffs was most of what a sweep cost. A queue's head changes only when sweep() takes it,
   * when an empty queue gets an item (which resets this) and on replay (likewise).
   */
  #quietUntil = -Infinity;
  #quietFor: Retention | null = null;

  /** Entries in each structure (bench/store-footprint.ts: what grows with history). */
  sizes(): Record<string, number> {
    const { waiting, ready } = this.queued.nodes;
    return {
      deliveries: this.deliveries.size,
      jobs: this.jobs.size,
      queued: this.queued.size,
      queueWaitingNodes: waiting,
      queueReadyNodes: ready,
      queuedByClient: this.#queuedByClient.size,
      groups: this.#groupCount,
      deliveryOrder: this.#deliveryOrder.size.held,
      finishedDone: this.#finished.done.size.held,
      finishedDead: this.#finished.dead.size.held,
      finishedRead: this.#finished.read.size.held,
      segments: this.segments.size.segments,
    };
  }

  /** After replay: the forgetting queues in time order (see Fifo#sortBy). */
  replayed(): void {
    this.#quietUntil = -Infinity;
    this.#deliveryOrder.sortBy((d) => d.delivery.receivedAt);
    for (const kind of ['done', 'dead', 'read'] as const) this.#finished[kind].sortBy((f) => noteTime(kind, f.job));
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  addDelivery(entry: DeliveryEntry): void {
    const known = this.deliveries.get(entry.delivery.id);
    if (known) {
      // A copy carried forward: same delivery, newer place.
      this.segments.unref(known.segment);
      known.segment = entry.segment;
      this.segments.ref(entry.segment);
      return;
    }
    this.deliveries.set(entry.delivery.id, entry);
    if (this.#deliveryOrder.peek() === undefined) this.#quietUntil = -Infinity;
    this.#deliveryOrder.push(entry);
    this.segments.ref(entry.segment);
  }

  /** Adds a job (or replaces it with a copy carried forward to a newer segment). */
  addJob(entry: JobEntry): void {
    this.#seq = Math.max(this.#seq, entry.seq);
    const known = this.jobs.get(entry.job.id);
    if (known) {
      this.segments.unref(known.payload.segment);
      this.segments.unref(known.stateSegment);
      known.payload = entry.payload;
      known.stateSegment = entry.stateSegment;
      this.segments.ref(known.payload.segment);
      this.segments.ref(known.stateSegment);
      this.applyState(entry.job, entry.stateSegment, true);
      return;
    }
    this.jobs.set(entry.job.id, entry);
    this.segments.ref(entry.payload.segment);
    this.segments.ref(entry.stateSegment);
    const { clientKey, group, status } = entry.job;
    if (status === 'queued') {
      this.queued.add(entry);
      this.#countQueued(clientKey, 1);
    }
    if (group !== undefined) {
      let tenant = this.#groups.get(clientKey);
      if (tenant === undefined) this.#groups.set(clientKey, (tenant = new Map()));
      let g = tenant.get(group);
      if (g === undefined) {
        tenant.set(group, (g = { group, unfinished: 0, running: 0, newestSuperseding: null }));
        this.#groupCount += 1;
      }
      if (isUnfinished(status)) g.unfinished += 1;
      if (status === 'running') g.running += 1;
      if (entry.job.supersedes === true && (g.newestSuperseding === null || g.newestSuperseding.seq < entry.seq)) g.newestSuperseding = entry;
    }
    this.#noteFinished(entry);
  }

  /**
   * Applies a job's new state, recorded in `segment`. Returns false for a job that is not
   * live (pruned earlier: its later states may still be in the journal).
   */
  applyState(state: JobState | JobSummary, segment: number, carried = false): boolean {
    const entry = this.jobs.get(state.id);
    if (!entry) return false;
    const was = entry.job.status;
    const wasDueAt = entry.job.runAfter;
    entry.job = summaryWith(entry.job, state);
    if (!carried) {
      this.segments.unref(entry.stateSegment);
      entry.stateSegment = segment;
      this.segments.ref(segment);
    }
    const now = entry.job.status;
    if (was === 'queued' && now !== 'queued') {
      this.queued.remove(entry);
      this.#countQueued(entry.job.clientKey, -1);
    } else if (was !== 'queued' && now === 'queued') {
      this.queued.add(entry);
      this.#countQueued(entry.job.clientKey, 1);
    } else if (now === 'queued' && entry.job.runAfter !== wasDueAt) {
      // Put off (or brought forward) while queued: queued again under its new time.
      this.queued.add(entry);
    }
    const g = this.#groupOf(entry.job.clientKey, entry.job.group);
    if (g && isUnfinished(was) !== isUnfinished(now)) g.unfinished += isUnfinished(now) ? 1 : -1;
    if (g && (was === 'running') !== (now === 'running')) g.running += now === 'running' ? 1 : -1;
    // Every change of a finished job is noted again: the older note is stale from now on.
    this.#noteFinished(entry);
    return true;
  }

  countQueued(clientKey: string): number {
    return this.#queuedByClient.get(clientKey) ?? 0;
  }

  countUnfinished(clientKey: string, group: string): number {
    return this.#groupOf(clientKey, group)?.unfinished ?? 0;
  }

  /** A live group's copy of its name, so that every job of a busy pull request holds one string, not one each. */
  sharedGroup(clientKey: string, group: string): string {
    return this.#groupOf(clientKey, group)?.group ?? group;
  }

  /** Whether a job of `entry`'s group is running. */
  groupRunning(entry: JobEntry): boolean {
    const { group, clientKey } = entry.job;
    return (this.#groupOf(clientKey, group)?.running ?? 0) > 0;
  }

  /** The group's newest superseding job when it is newer than `entry`. */
  supersederOf(entry: JobEntry): JobEntry | undefined {
    const { group, clientKey } = entry.job;
    const newest = this.#groupOf(clientKey, group)?.newestSuperseding;
    return newest && newest.seq > entry.seq ? newest : undefined;
  }

  /** Forgets what has outlived its retention at `now` (ms); costs what it forgets, nothing more. */
  sweep(now: number, retention: Retention): void {
    if (retention === this.#quietFor && now <= this.#quietUntil) return;
    const deliveryCutoff = new Date(now - retention.deliveryMs).toISOString();
    for (let d = this.#deliveryOrder.peek(); d && d.delivery.receivedAt < deliveryCutoff; d = this.#deliveryOrder.peek()) {
      this.#deliveryOrder.shift();
      this.forgetDelivery(d);
    }
    // A dead job goes 30 days after it died, or the normal retention after an operator read it.
    for (const [kind, keepMs] of [['done', retention.doneJobMs], ['dead', retention.deadJobMs], ['read', retention.doneJobMs]] as const) {
      const fifo = this.#finished[kind];
      const cutoff = new Date(now - keepMs).toISOString();
      for (let f = fifo.peek(); f && noteTime(kind, f.job) < cutoff; f = fifo.peek()) {
        fifo.shift();
        // Stale when the job changed since (a later item or none stands for it).
        if (this.jobs.get(f.job.id) === f.entry && stillStandsFor(kind, f.entry.job, f.job)) this.#dropJob(f.entry);
      }
    }
    this.#quietFor = retention;
    this.#quietUntil = Math.min(
      dueAt(this.#deliveryOrder.peek()?.delivery.receivedAt, retention.deliveryMs),
      ...(['done', 'dead', 'read'] as const).map((kind) => {
        const head = this.#finished[kind].peek();
        return dueAt(head && noteTime(kind, head.job), kind === 'dead' ? retention.deadJobMs : retention.doneJobMs);
      }),
    );
  }

  /** Forgets a delivery (its FIFO item, if still queued, is then stale and skipped). */
  forgetDelivery(entry: DeliveryEntry): void {
    if (this.deliveries.get(entry.delivery.id) !== entry) return;
    this.deliveries.delete(entry.delivery.id);
    this.segments.unref(entry.segment);
  }

  /** Live deliveries and jobs with a reference into `segment` (to carry them forward). */
  *holdersOf(segment: number): Generator<{ delivery?: DeliveryEntry; job?: JobEntry }> {
    for (const d of this.deliveries.values()) if (d.segment === segment) yield { delivery: d };
    for (const j of this.jobs.values()) if (j.payload.segment === segment || j.stateSegment === segment) yield { job: j };
  }

  #noteFinished(entry: JobEntry): void {
    const { job } = entry;
    if (job.status === 'done' || job.status === 'dead') this.#noteIn(this.#finished[job.status], { entry, job });
    if (isReadDead(job)) this.#noteIn(this.#finished.read, { entry, job });
  }

  #noteIn(fifo: Fifo<FinishedItem>, item: FinishedItem): void {
    if (fifo.peek() === undefined) this.#quietUntil = -Infinity;
    fifo.push(item);
  }

  #dropJob(entry: JobEntry): void {
    this.jobs.delete(entry.job.id);
    this.segments.unref(entry.payload.segment);
    this.segments.unref(entry.stateSegment);
    const { group, clientKey } = entry.job;
    const g = this.#groupOf(clientKey, group);
    if (g === undefined) return;
    if (g.newestSuperseding === entry) g.newestSuperseding = null;
    if (g.unfinished > 0 || g.newestSuperseding !== null) return;
    const tenant = this.#groups.get(clientKey)!;
    tenant.delete(g.group);
    this.#groupCount -= 1;
    if (tenant.size === 0) this.#groups.delete(clientKey);
  }

  #groupOf(clientKey: string, group: string | undefined): GroupEntry | undefined {
    return group === undefined ? undefined : this.#groups.get(clientKey)?.get(group);
  }

  #countQueued(clientKey: string, change: number): void {
    const count = (this.#queuedByClient.get(clientKey) ?? 0) + change;
    if (count === 0) this.#queuedByClient.delete(clientKey);
    else this.#queuedByClient.set(clientKey, count);
  }
}
