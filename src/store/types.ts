/**
 * The narrow storage interface the app depends on. Implementations: lowdb in DATA_DIR
 * (default) and, later, Postgres. Every implementation passes the same contract suite
 * (src/store/contract.ts). Values are plain JSON; secrets arrive here already encrypted.
 */

export type InstallationState = 'installed' | 'uninstalled';

export interface Installation {
  clientKey: string;
  /** App key the installation was made for. */
  key: string;
  baseUrl: string;
  baseApiUrl: string;
  /** AES-256-GCM envelope (see src/crypto.ts); null once uninstalled (the secret is destroyed). */
  encryptedSharedSecret: string | null;
  state: InstallationState;
  principal?: { type?: string; uuid?: string; username?: string; display_name?: string; slug?: string };
  installedAt: string;
  updatedAt: string;
}

/**
 * An installation of the Forge app (src/forge/), keyed by Forge's installationId, which is new
 * on every install. Everything the core stores for it (deliveries, jobs, results, policy,
 * triage) uses `clientKey`, a tenant key stable per workspace: a reinstall or a move from the
 * Connect app keeps the workspace's data (see src/forge/tenant-key.ts).
 */
export interface ForgeInstallation {
  /** `ari:cloud:ecosystem::installation/<uuid>`. */
  installationId: string;
  /** The tenant key the core knows this installation by. */
  clientKey: string;
  /** Workspace UUID, lower case, without braces. */
  workspaceId: string;
  /** Where Bitbucket is called (allow-listed by FORGE_API_URLS when stored). */
  apiBaseUrl: string;
  appVersion: string | null;
  environment: { type: string | null; id: string | null };
  state: InstallationState;
  /** The latest app system token (AES-256-GCM envelope) and its expiry; null when none or wiped. */
  systemToken: { encrypted: string; expiresAt: string } | null;
  installedAt: string;
  updatedAt: string;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'dead';

export interface Job {
  id: string;
  clientKey: string;
  /** e.g. `webhook:pullrequest:created`. */
  type: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  /** ISO time before which the job must not run (backoff). */
  runAfter: string;
  createdAt: string;
  updatedAt: string;
  lastError?: string;
  /** Optional grouping key (e.g. one pull request). */
  group?: string;
  /** This job's work covers every older job of its group (see claimJobs). */
  supersedes?: boolean;
  /**
   * When an operator first read this dead job (readDeadJobs). It counts only while the job
   * is still in the state that was read (readAt >= updatedAt): a read dead job is kept for
   * the normal retention after the read instead of 30 days after it died.
   */
  readAt?: string;
}

/** A job without its payload: what questions about metadata are answered with. */
export type JobSummary = Omit<Job, 'payload'>;

/** Where countUnfinishedJobs stops counting. */
export const UNFINISHED_COUNT_CAP = 1_000;

export interface NewJob {
  clientKey: string;
  type: string;
  payload: unknown;
  group?: string;
  /**
   * The job covers the work of every older job of its group (a pull request's newest event
   * rescans its current head): once it is accepted, older queued jobs of the group are
   * finished as superseded when they come up for claiming instead of being run.
   */
  supersedes?: boolean;
}


export interface Delivery {
  /** X-Request-UUID, or `sha256:<hex>` of the body when the header is absent. */
  id: string;
  clientKey: string;
  event: string;
  jobId: string | null;
  receivedAt: string;
}

/**
 * A registered Bitbucket Data Center instance (src/datacenter/). Everything the core stores
 * for it (deliveries, jobs, results) uses the clientKey `datacenter:<instanceId>`.
 */
export type DatacenterInstanceStatus = 'ok' | 'token_revoked' | 'unreachable';

export interface DatacenterInstance {
  /** Generated at registration, URL-safe ([A-Za-z0-9_-]): it is a path segment of the webhook URL. */
  instanceId: string;
  /** Unique among instances; what the CLI and the admin API name it by. */
  name: string;
  /** Normalised absolute http(s) URL without a trailing slash (Data Center may live under a context path). */
  baseUrl: string;
  /** AES-256-GCM envelopes (src/crypto.ts), the same key and scheme as tenant shared secrets. */
  encryptedToken: string;
  encryptedWebhookSecret: string;
  /** The secret replaced by rotate-secret, still accepted until `validUntil` (ISO time). */
  previousWebhookSecret?: { encrypted: string; validUntil: string };
  status: DatacenterInstanceStatus;
  /** Why the status is not `ok` (never contains the token), and since when. */
  lastError?: { message: string; at: string };
  createdAt: string;
  updatedAt: string;
}

export interface JobFilter {
  status?: JobStatus;
  clientKey?: string;
  type?: string;
  group?: string;
  newestFirst?: boolean;
  /** At least 0; no limit when absent. */
  limit?: number;
}

export interface Store {
  /** Open files, replay logs, recover jobs left `running` by a crash back to `queued`. */
  open(): Promise<void>;
  /** Flush everything and release resources. */
  close(): Promise<void>;

  getInstallation(clientKey: string): Promise<Installation | undefined>;
  putInstallation(installation: Installation): Promise<void>;
  listInstallations(): Promise<Installation[]>;

  getForgeInstallation(installationId: string): Promise<ForgeInstallation | undefined>;
  putForgeInstallation(installation: ForgeInstallation): Promise<void>;
  /** In no particular order. */
  listForgeInstallations(): Promise<ForgeInstallation[]>;
  /**
   * Keeps `token` as the installation's system token only if it expires later than the one
   * stored (Forge's deliveries may arrive out of order); one atomic step, so two deliveries
   * racing cannot leave the older token. False when it was not kept or the installation is
   * unknown or uninstalled.
   */
  offerForgeSystemToken(installationId: string, token: { encrypted: string; expiresAt: string }, at: string): Promise<boolean>;

  getDatacenterInstance(instanceId: string): Promise<DatacenterInstance | undefined>;
  /** In registration order. */
  listDatacenterInstances(): Promise<DatacenterInstance[]>;
  /**
   * Stores or replaces the instance with this instanceId. Throws DatacenterNameTakenError
   * (and stores nothing) when another instance already has its name.
   */
  putDatacenterInstance(instance: DatacenterInstance): Promise<void>;
  /** Sets status and lastError only (so a job's report cannot undo a concurrent secret rotation); false when unknown. */
  setDatacenterInstanceStatus(instanceId: string, status: DatacenterInstanceStatus, lastError?: { message: string; at: string }): Promise<boolean>;
  /** False when there was no such instance. */
  deleteDatacenterInstance(instanceId: string): Promise<boolean>;

  /**
   * Record a delivery and enqueue its job in one step, atomically: either both are durable
   * or neither. Returns `duplicate: true` (and enqueues nothing) when the delivery id is known.
   * `job` null records the delivery only (an event the app ignores).
   */
  acceptDelivery(delivery: Omit<Delivery, 'jobId' | 'receivedAt'>, job: NewJob | null): Promise<{ duplicate: boolean; jobId: string | null }>;
  /** Deliveries are remembered for the dedupe window (DELIVERY_RETENTION_DAYS), then forgotten. */
  getDelivery(id: string): Promise<Delivery | undefined>;
  /** Deliveries remembered now (inside the dedupe window). */
  countDeliveries(): Promise<number>;

  getJob(id: string): Promise<Job | undefined>;
  /**
   * Queued jobs whose runAfter has passed, oldest first; marks them running (lease). A due
   * job of a group with a newer `supersedes` job is not handed out: it is finished (status
   * done, lastError `skipped: superseded by job <id>`) in the same step. One call finishes
   * a bounded number of them (a few hundred), so it may hand out fewer than `limit` while
   * more are due; the next call goes on.
   */
  claimJobs(limit: number, now: Date): Promise<Job[]>;
  /**
   * Puts a dead job of the installation back in the queue from its first attempt (attempts 0,
   * `runAfter`, `lastError` saying who retried it), in one atomic step: of callers racing (a
   * double click, two instances), exactly one gets `retried`, the others `not_dead`.
   * `not_found` when there is no such job or it is another installation's.
   */
  retryDeadJob(id: string, clientKey: string, retry: { runAfter: string; lastError: string }): Promise<'retried' | 'not_found' | 'not_dead'>;
  /** Finish: done, requeue with backoff (status queued + runAfter), or dead with the reason. */
  updateJob(id: string, patch: Partial<Pick<Job, 'status' | 'attempts' | 'runAfter' | 'lastError'>>): Promise<void>;
  /**
   * Jobs matching every given field, oldest first (acceptance order), or newest first with
   * `newestFirst`; `limit` caps the result after filtering. Payloads are loaded, so a page
   * that needs one pull request's latest scan should ask for
   * `{ clientKey, group, newestFirst: true, limit: 1 }` rather than list everything.
   */
  listJobs(filter?: JobFilter): Promise<Job[]>;

  /** Queued jobs of one installation (due or waiting for their runAfter); O(1). */
  countQueuedJobs(clientKey: string): Promise<number>;
  /**
   * Queued or running jobs of one group (e.g. "is a scan of this pull request pending?"),
   * counted up to UNFINISHED_COUNT_CAP: callers ask whether there is one, or more than their
   * own, so a pull request with thousands of events waiting costs no more to ask about.
   */
  countUnfinishedJobs(clientKey: string, group: string): Promise<number>;
  /**
   * Dead jobs (kept), most recently dead first, at most `limit`, without payloads: what an
   * operator reads to see why work gave up. Each one returned is marked read (readAt, kept
   * if already set), after which it is kept for the finished-job retention from the read,
   * and never longer than the dead-job retention from its death.
   */
  readDeadJobs(opts: { limit: number; clientKey?: string }): Promise<JobSummary[]>;
  /**
   * The newest job of this job's group accepted after it with `supersedes`, without its
   * payload: that job's work covers this one's. Undefined when there is none; O(1).
   */
  findSuperseder(jobId: string): Promise<JobSummary | undefined>;
}

/** The Data Center instance part of a Store: what registration, the intake and the CLI use. */
export type DatacenterInstanceRegistry = Pick<
  Store,
  'getDatacenterInstance' | 'listDatacenterInstances' | 'putDatacenterInstance' | 'deleteDatacenterInstance' | 'setDatacenterInstanceStatus'
>;

/** Thrown by putDatacenterInstance when the name belongs to another instance. */
export class DatacenterNameTakenError extends Error {
  override name = 'DatacenterNameTakenError';
  constructor(readonly instanceName: string) {
    super(`a Data Center instance named ${JSON.stringify(instanceName)} is already registered`);
  }
}
