import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../../log.ts';
import {
  checkClaim,
  checkDeadJobRead,
  checkDatacenterInstance,
  checkDatacenterLastError,
  checkDatacenterStatus,
  checkForgeInstallation,
  checkForgeSystemToken,
  checkDelivery,
  checkInstallation,
  checkJobFilter,
  checkJobPatch,
  checkNewJob,
} from '../input.ts';
import { DEFAULT_RETENTION, type Retention } from '../job-index.ts';
import {
  DatacenterNameTakenError,
  type DatacenterInstance,
  type DatacenterInstanceStatus,
  type Delivery,
  type ForgeInstallation,
  type Installation,
  type Job,
  type JobFilter,
  type JobSummary,
  type NewJob,
  type Store,
  UNFINISHED_COUNT_CAP,
} from '../types.ts';
import { query } from './database.ts';
import { checkSchema } from './migrate.ts';
import { JOBS_CHANNEL, JobNotices } from './wakeups.ts';

/**
 * The Store on PostgreSQL, for several instances sharing one database.
 *
 * The queue is the jobs table itself, claimed with FOR UPDATE SKIP LOCKED by the
 * gatehouse_claim_jobs function (see the migration): a delivery and its job are one
 * statement, so they commit together, and every Store question is one indexed query.
 * Not pg-boss or graphile-worker: see "Running several instances" in the README.
 *
 * Leases: a claimed job is `running` with this instance as its lease owner until
 * `lease_until`, which the instance renews while it works on the job. An instance that
 * dies (kill -9) stops renewing, and the next claim by any instance puts its jobs back in
 * the queue once the lease ran out, so a job waits at most about one lease. Writes about a
 * job this instance holds are fenced by the lease: if another instance took the job over
 * meanwhile, the write is refused (LeaseLostError) instead of overwriting its outcome.
 *
 * Retention: deliveries, done and dead jobs past their retention are invisible to every
 * read at once (each query compares with the store's clock) and deleted in batches by a
 * periodic prune.
 */

export interface PgStoreOptions {
  pool: pg.Pool;
  logger?: Logger;
  now?: () => Date;
  retention?: Partial<Retention>;
  /** How long a claimed job is this instance's without renewal. */
  leaseMs?: number;
  /** How often retention deletes what it no longer keeps. */
  pruneEveryMs?: number;
}

/** A job this instance claimed was taken over by another instance (its lease had run out). */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export const DEFAULT_LEASE_MS = 15_000;
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 5_000;
/** Queued jobs one claim looks at (see gatehouse_claim_jobs). */
const CLAIM_SCAN = 500;

interface JobRow {
  id: string;
  seq: string;
  client_key: string;
  type: string;
  payload?: unknown;
  status: Job['status'];
  attempts: number;
  run_after: Date;
  created_at: Date;
  updated_at: Date;
  last_error: string | null;
  grp: string | null;
  supersedes: boolean;
  read_at: Date | null;
}

const SUMMARY_COLUMNS = 'id, seq, client_key, type, status, attempts, run_after, created_at, updated_at, last_error, grp, supersedes, read_at';
const JOB_COLUMNS = `${SUMMARY_COLUMNS}, payload`;

export class PgStore implements Store {
  readonly #pool: pg.Pool;
  readonly #logger: Logger | undefined;
  readonly #now: () => Date;
  readonly #retention: Retention;
  readonly #leaseMs: number;
  readonly #pruneEveryMs: number;
  /** This instance's name in lease_owner. */
  readonly #owner = `${process.pid}-${randomUUID()}`;
  /** Jobs claimed here and still being worked on: their leases are renewed. */
  readonly #held = new Set<string>();
  readonly #notices: JobNotices;
  #state: 'new' | 'open' | 'closed' = 'new';
  #timers: NodeJS.Timeout[] = [];

  constructor(opts: PgStoreOptions) {
    this.#pool = opts.pool;
    this.#logger = opts.logger;
    this.#now = opts.now ?? (() => new Date());
    this.#retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.#leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.#pruneEveryMs = opts.pruneEveryMs ?? PRUNE_EVERY_MS;
    this.#notices = new JobNotices(() => query(this.#pool, `SELECT pg_notify('${JOBS_CHANNEL}', '')`), this.#logger);
  }

  get owner(): string {
    return this.#owner;
  }

  /** Checks the schema is the one this code knows. Jobs of dead instances come back through their leases. */
  async open(): Promise<void> {
    if (this.#state !== 'new') throw new Error('a PgStore can be opened once; create a new one to reopen');
    await checkSchema(this.#pool);
    this.#state = 'open';
    this.#every(Math.max(1_000, Math.floor(this.#leaseMs / 3)), () => this.#renewLeases());
    this.#every(this.#pruneEveryMs, () => this.prune());
  }

  /** Stops renewing; jobs still held go back to the queue for another instance. The pool is the caller's. */
  async close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#notices.settled();
    if (this.#held.size === 0) return;
    const ids = [...this.#held];
    this.#held.clear();
    await query(
      this.#pool,
      `WITH u AS (UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = $3
                  WHERE id = ANY($1) AND status = 'running' AND lease_owner = $2 RETURNING 1)
       SELECT pg_notify('${JOBS_CHANNEL}', '') FROM (SELECT 1 FROM u LIMIT 1) x`,
      [ids, this.#owner, this.#timestamp()],
    );
  }

  async getInstallation(clientKey: string): Promise<Installation | undefined> {
    this.#assertOpen();
    const { rows } = await query<{ doc: Installation }>(this.#pool, 'SELECT doc FROM installations WHERE client_key = $1', [clientKey]);
    return rows[0]?.doc;
  }

  async putInstallation(installation: Installation): Promise<void> {
    this.#assertOpen();
    const copy = checkInstallation(installation);
    await query(this.#pool, 'INSERT INTO installations (client_key, doc) VALUES ($1, $2) ON CONFLICT (client_key) DO UPDATE SET doc = EXCLUDED.doc', [
      copy.clientKey,
      JSON.stringify(copy),
    ]);
  }

  async listInstallations(): Promise<Installation[]> {
    this.#assertOpen();
    const { rows } = await query<{ doc: Installation }>(this.#pool, 'SELECT doc FROM installations ORDER BY seq');
    return rows.map((r) => r.doc);
  }

  async getForgeInstallation(installationId: string): Promise<ForgeInstallation | undefined> {
    this.#assertOpen();
    const { rows } = await query<{ doc: ForgeInstallation }>(this.#pool, 'SELECT doc FROM forge_installations WHERE installation_id = $1', [installationId]);
    return rows[0]?.doc;
  }

  async listForgeInstallations(): Promise<ForgeInstallation[]> {
    this.#assertOpen();
    const { rows } = await query<{ doc: ForgeInstallation }>(this.#pool, 'SELECT doc FROM forge_installations');
    return rows.map((r) => r.doc);
  }

  async putForgeInstallation(installation: ForgeInstallation): Promise<void> {
    this.#assertOpen();
    const copy = checkForgeInstallation(installation);
    await query(
      this.#pool,
      `INSERT INTO forge_installations (installation_id, token_expires_at, doc) VALUES ($1, $2, $3)
       ON CONFLICT (installation_id) DO UPDATE SET token_expires_at = EXCLUDED.token_expires_at, doc = EXCLUDED.doc`,
      [copy.installationId, copy.systemToken?.expiresAt ?? null, JSON.stringify(copy)],
    );
  }

  async offerForgeSystemToken(installationId: string, token: { encrypted: string; expiresAt: string }, at: string): Promise<boolean> {
    this.#assertOpen();
    const checked = checkForgeSystemToken(token);
    // One statement: of two offers racing, the database keeps the later expiry whatever the order.
    const { rowCount } = await query(
      this.#pool,
      `UPDATE forge_installations
          SET token_expires_at = $2, doc = jsonb_set(jsonb_set(doc, '{systemToken}', $3::jsonb), '{updatedAt}', to_jsonb($4::text))
        WHERE installation_id = $1 AND doc->>'state' = 'installed' AND (token_expires_at IS NULL OR token_expires_at < $2)`,
      [installationId, checked.expiresAt, JSON.stringify(checked), at],
    );
    return rowCount === 1;
  }

  async getDatacenterInstance(instanceId: string): Promise<DatacenterInstance | undefined> {
    this.#assertOpen();
    const { rows } = await query<{ doc: DatacenterInstance }>(this.#pool, 'SELECT doc FROM datacenter_instances WHERE instance_id = $1', [instanceId]);
    return rows[0]?.doc;
  }

  async listDatacenterInstances(): Promise<DatacenterInstance[]> {
    this.#assertOpen();
    const { rows } = await query<{ doc: DatacenterInstance }>(this.#pool, 'SELECT doc FROM datacenter_instances ORDER BY seq');
    return rows.map((r) => r.doc);
  }

  async putDatacenterInstance(instance: DatacenterInstance): Promise<void> {
    this.#assertOpen();
    const copy = checkDatacenterInstance(instance);
    try {
      await query(
        this.#pool,
        `INSERT INTO datacenter_instances (instance_id, name, doc) VALUES ($1, $2, $3)
         ON CONFLICT (instance_id) DO UPDATE SET name = EXCLUDED.name, doc = EXCLUDED.doc`,
        [copy.instanceId, copy.name, JSON.stringify(copy)],
      );
    } catch (err) {
      // The unique name is the database's to enforce: two instances registering at once cannot both win.
      if ((err as { constraint?: string }).constraint === 'datacenter_instances_name_unique') throw new DatacenterNameTakenError(copy.name);
      throw err;
    }
  }

  async setDatacenterInstanceStatus(instanceId: string, status: DatacenterInstanceStatus, lastError?: { message: string; at: string }): Promise<boolean> {
    this.#assertOpen();
    const checkedStatus = checkDatacenterStatus(status);
    const checkedError = lastError === undefined ? null : checkDatacenterLastError(lastError);
    // One statement touching status and lastError only, so a concurrent rotation's secrets stay.
    const { rowCount } = await query(
      this.#pool,
      `UPDATE datacenter_instances
         SET doc = ((doc::jsonb - 'lastError') || jsonb_build_object('status', $2::text)
                   || CASE WHEN $3::jsonb IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('lastError', $3::jsonb) END)::json
       WHERE instance_id = $1`,
      [instanceId, checkedStatus, checkedError === null ? null : JSON.stringify(checkedError)],
    );
    return (rowCount ?? 0) > 0;
  }

  async deleteDatacenterInstance(instanceId: string): Promise<boolean> {
    this.#assertOpen();
    const { rowCount } = await query(this.#pool, 'DELETE FROM datacenter_instances WHERE instance_id = $1', [instanceId]);
    return (rowCount ?? 0) > 0;
  }

  async acceptDelivery(delivery: Omit<Delivery, 'jobId' | 'receivedAt'>, job: NewJob | null): Promise<{ duplicate: boolean; jobId: string | null }> {
    this.#assertOpen();
    const d = checkDelivery(delivery);
    const newJob = job === null ? null : checkNewJob(job);
    const at = this.#now();
    const jobId = newJob ? randomUUID() : null;
    // One statement, so one transaction: the delivery and its job are durable together. A
    // known id inside the dedupe window inserts nothing; one past it is accepted afresh.
    // Other instances hear of the job once it is committed (JobNotices).
    const { rows } = await query<{ accepted: boolean; queued: boolean }>(
      this.#pool,
      `WITH d AS (
         INSERT INTO deliveries (id, client_key, event, job_id, received_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET client_key = EXCLUDED.client_key, event = EXCLUDED.event, job_id = EXCLUDED.job_id, received_at = EXCLUDED.received_at
           WHERE deliveries.received_at <= $6
         RETURNING 1
       ), j AS (
         INSERT INTO jobs (id, client_key, type, payload, status, attempts, run_after, created_at, updated_at, grp, supersedes)
         SELECT $4, $7, $8, $9, 'queued', 0, $5, $5, $5, $10, $11 WHERE $4::text IS NOT NULL AND EXISTS (SELECT 1 FROM d)
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM d) AS accepted, EXISTS (SELECT 1 FROM j) AS queued`,
      [
        d.id,
        d.clientKey,
        d.event,
        jobId,
        at,
        new Date(at.getTime() - this.#retention.deliveryMs),
        newJob?.job.clientKey ?? null,
        newJob?.job.type ?? null,
        newJob?.payloadJson ?? null,
        newJob?.job.group ?? null,
        newJob?.job.supersedes === true,
      ],
    );
    if (rows[0]?.queued) this.#notices.notify();
    if (rows[0]?.accepted) return { duplicate: false, jobId };
    // Known: what it was accepted with (read now, so a concurrent first accept is seen committed).
    const known = await query<{ job_id: string | null }>(this.#pool, 'SELECT job_id FROM deliveries WHERE id = $1', [d.id]);
    return { duplicate: true, jobId: known.rows[0]?.job_id ?? null };
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    this.#assertOpen();
    const { rows } = await query<{ id: string; client_key: string; event: string; job_id: string | null; received_at: Date }>(
      this.#pool,
      'SELECT id, client_key, event, job_id, received_at FROM deliveries WHERE id = $1 AND received_at > $2',
      [id, this.#deliveryCutoff()],
    );
    const row = rows[0];
    return row && { id: row.id, clientKey: row.client_key, event: row.event, jobId: row.job_id, receivedAt: row.received_at.toISOString() };
  }

  async countDeliveries(): Promise<number> {
    this.#assertOpen();
    const { rows } = await query<{ n: string }>(this.#pool, 'SELECT count(*) AS n FROM deliveries WHERE received_at > $1', [this.#deliveryCutoff()]);
    return Number(rows[0]?.n ?? 0);
  }

  async getJob(id: string): Promise<Job | undefined> {
    this.#assertOpen();
    const { rows } = await query<JobRow>(this.#pool, `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1 AND ${this.#visible(2)}`, [id, ...this.#cutoffs()]);
    return rows[0] && toJob(rows[0]);
  }

  async claimJobs(limit: number, now: Date): Promise<Job[]> {
    this.#assertOpen();
    checkClaim(limit, now);
    if (limit === 0) return [];
    const { rows } = await query<JobRow>(
      this.#pool,
      `SELECT ${JOB_COLUMNS} FROM gatehouse_claim_jobs($1, $2, $3, $4, make_interval(secs => $5), $6) ORDER BY seq`,
      [limit, now, this.#now(), this.#owner, this.#leaseMs / 1000, Math.max(CLAIM_SCAN, limit)],
    );
    for (const row of rows) this.#held.add(row.id);
    return rows.map(toJob);
  }

  async retryDeadJob(id: string, clientKey: string, retry: { runAfter: string; lastError: string }): Promise<'retried' | 'not_found' | 'not_dead'> {
    this.#assertOpen();
    const change = checkJobPatch({ status: 'queued', attempts: 0, ...retry });
    // One statement: the row is locked by the UPDATE, so of two racing instances one matches `dead`.
    const { rows } = await query<{ retried: boolean }>(
      this.#pool,
      `WITH u AS (
         UPDATE jobs SET status = 'queued', attempts = 0, run_after = $3, last_error = $4, updated_at = $5, read_at = NULL, lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND client_key = $2 AND status = 'dead'
         RETURNING id
       )
       SELECT EXISTS (SELECT 1 FROM u) AS retried, (SELECT count(pg_notify('${JOBS_CHANNEL}', '')) FROM u) AS notified`,
      [id, clientKey, change.runAfter, change.lastError, this.#now()],
    );
    if (rows[0]?.retried) return 'retried';
    const found = await query<{ one: number }>(this.#pool, 'SELECT 1 AS one FROM jobs WHERE id = $1 AND client_key = $2', [id, clientKey]);
    return found.rows.length > 0 ? 'not_dead' : 'not_found';
  }

  async updateJob(id: string, patch: Partial<Pick<Job, 'status' | 'attempts' | 'runAfter' | 'lastError'>>): Promise<void> {
    this.#assertOpen();
    const change = checkJobPatch(patch);
    const held = this.#held.has(id);
    // Settling a held job ends this instance's work on it, whether or not the write lands:
    // if it does not, the lease runs out and the job is run again elsewhere.
    if (held && change.status !== undefined && change.status !== 'running') this.#held.delete(id);
    const { rows } = await query<{ status: Job['status'] }>(
      this.#pool,
      `WITH u AS (
         UPDATE jobs SET
           status = coalesce($2, status),
           attempts = coalesce($3, attempts),
           run_after = coalesce($4, run_after),
           last_error = coalesce($5, last_error),
           updated_at = $6,
           read_at = NULL,
           lease_owner = CASE WHEN coalesce($2, status) = 'running' THEN lease_owner END,
           lease_until = CASE WHEN coalesce($2, status) = 'running' THEN lease_until END
         WHERE id = $1 AND ($7::text IS NULL OR (status = 'running' AND lease_owner = $7))
         RETURNING status
       )
       SELECT status FROM u`,
      [id, change.status ?? null, change.attempts ?? null, change.runAfter ?? null, change.lastError ?? null, this.#now(), held ? this.#owner : null],
    );
    if (rows.length > 0) {
      // Out of `running`: the job's pull request may be free for its next job elsewhere.
      if (rows[0]!.status !== 'running') this.#notices.notify();
      return;
    }
    if (held) {
      this.#held.delete(id);
      throw new LeaseLostError(`job ${id} is no longer leased to this instance (its lease ran out and another instance took it over)`);
    }
    throw new Error(`no job with id ${JSON.stringify(id)}`);
  }

  async listJobs(filter?: JobFilter): Promise<Job[]> {
    this.#assertOpen();
    const { status, clientKey, type, group, newestFirst = false, limit } = checkJobFilter(filter);
    if (limit === 0) return [];
    const values: unknown[] = [...this.#cutoffs()];
    const where = [this.#visible(1)];
    for (const [column, value] of [['status', status], ['client_key', clientKey], ['type', type], ['grp', group]] as const) {
      if (value === undefined) continue;
      values.push(value);
      where.push(`${column} = $${values.length}`);
    }
    let sql = `SELECT ${JOB_COLUMNS} FROM jobs WHERE ${where.join(' AND ')} ORDER BY seq ${newestFirst ? 'DESC' : 'ASC'}`;
    if (limit !== undefined) {
      values.push(limit);
      sql += ` LIMIT $${values.length}`;
    }
    const { rows } = await query<JobRow>(this.#pool, sql, values);
    return rows.map(toJob);
  }

  async readDeadJobs(opts: { limit: number; clientKey?: string }): Promise<JobSummary[]> {
    this.#assertOpen();
    const { limit, clientKey } = checkDeadJobRead(opts);
    if (limit === 0) return [];
    // One statement: the jobs answered are the jobs marked read.
    const { rows } = await query<JobRow>(
      this.#pool,
      `UPDATE jobs SET read_at = coalesce(read_at, $3) WHERE id IN (
         SELECT id FROM jobs WHERE status = 'dead' AND ($2::text IS NULL OR client_key = $2) AND ${this.#visible(4)}
         ORDER BY updated_at DESC, seq DESC LIMIT $1
       ) RETURNING ${SUMMARY_COLUMNS}`,
      [limit, clientKey ?? null, this.#now(), ...this.#cutoffs()],
    );
    return rows.sort((a, b) => b.updated_at.getTime() - a.updated_at.getTime() || Number(b.seq) - Number(a.seq)).map(toSummary);
  }

  async countQueuedJobs(clientKey: string): Promise<number> {
    this.#assertOpen();
    const { rows } = await query<{ n: string }>(this.#pool, `SELECT count(*) AS n FROM jobs WHERE client_key = $1 AND status = 'queued'`, [clientKey]);
    return Number(rows[0]?.n ?? 0);
  }

  async countUnfinishedJobs(clientKey: string, group: string): Promise<number> {
    this.#assertOpen();
    const { rows } = await query<{ n: string }>(
      this.#pool,
      `SELECT count(*) AS n FROM (SELECT 1 FROM jobs WHERE client_key = $1 AND grp = $2 AND status IN ('queued', 'running') LIMIT $3) u`,
      [clientKey, group, UNFINISHED_COUNT_CAP],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async findSuperseder(jobId: string): Promise<JobSummary | undefined> {
    this.#assertOpen();
    const { rows } = await query<JobRow>(
      this.#pool,
      `SELECT ${SUMMARY_COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')} FROM jobs j
       JOIN LATERAL (
         SELECT * FROM jobs s WHERE s.client_key = j.client_key AND s.grp = j.grp AND s.supersedes AND s.seq > j.seq ORDER BY s.seq DESC LIMIT 1
       ) s ON true
       WHERE j.id = $1 AND ${this.#visible(2, 'j')} AND ${this.#visible(2, 's')}`,
      [jobId, ...this.#cutoffs()],
    );
    return rows[0] && toSummary(rows[0]);
  }

  /** Deletes, in batches, what retention no longer keeps (reads already ignore it). */
  async prune(): Promise<void> {
    const [doneCut, deadCut] = this.#cutoffs();
    const deliveryCut = this.#deliveryCutoff();
    for (const [sql, values] of [
      ['DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE received_at <= $1 LIMIT $2)', [deliveryCut]],
      [`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = 'done' AND updated_at <= $1 LIMIT $2)`, [doneCut]],
      [`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = 'dead' AND updated_at <= $1 LIMIT $2)`, [deadCut]],
      // Read by an operator: the normal retention from the read.
      [`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = 'dead' AND read_at IS NOT NULL AND read_at <= $1 LIMIT $2)`, [doneCut]],
    ] as const) {
      for (;;) {
        if (this.#state !== 'open') return;
        const { rowCount } = await query(this.#pool, sql, [...values, PRUNE_BATCH]);
        if ((rowCount ?? 0) < PRUNE_BATCH) break;
      }
    }
  }

  async #renewLeases(): Promise<void> {
    if (this.#held.size === 0) return;
    await query(this.#pool, `UPDATE jobs SET lease_until = clock_timestamp() + make_interval(secs => $3) WHERE id = ANY($1) AND status = 'running' AND lease_owner = $2`, [
      [...this.#held],
      this.#owner,
      this.#leaseMs / 1000,
    ]);
  }

  /** Runs `task` every `ms` while open, one at a time; a failure is logged and tried again next time. */
  #every(ms: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.#state !== 'open') return;
      busy = true;
      task()
        .catch((err: unknown) => this.#logger?.warn({ err }, 'PostgreSQL store maintenance failed; trying again later'))
        .finally(() => {
          busy = false;
        });
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Done and dead jobs last updated at or before these are gone. */
  #cutoffs(): [Date, Date] {
    const now = this.#now().getTime();
    return [new Date(now - this.#retention.doneJobMs), new Date(now - this.#retention.deadJobMs)];
  }

  #deliveryCutoff(): Date {
    return new Date(this.#now().getTime() - this.#retention.deliveryMs);
  }

  /** SQL: the job is still kept; `$n` and `$n+1` are #cutoffs(). */
  #visible(n: number, alias = ''): string {
    const c = alias ? `${alias}.` : '';
    return `(${c}status IN ('queued', 'running') OR (${c}status = 'done' AND ${c}updated_at > $${n}) OR (${c}status = 'dead' AND ${c}updated_at > $${n + 1} AND (${c}read_at IS NULL OR ${c}read_at > $${n})))`;
  }

  #timestamp(): Date {
    return this.#now();
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new Error(`store is ${this.#state === 'closed' ? 'closed' : 'not open yet'}`);
  }
}

function toSummary(row: JobRow): JobSummary {
  const job: JobSummary = {
    id: row.id,
    clientKey: row.client_key,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    runAfter: row.run_after.toISOString(),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
  if (row.last_error !== null) job.lastError = row.last_error;
  if (row.grp !== null) job.group = row.grp;
  if (row.supersedes) job.supersedes = true;
  if (row.read_at !== null) job.readAt = row.read_at.toISOString();
  return job;
}

function toJob(row: JobRow): Job {
  return { ...toSummary(row), payload: row.payload };
}
