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
  /** Optional grouping key (e.g. one pull request); used later to supersede stale jobs. */
  group?: string;
}

export interface NewJob {
  clientKey: string;
  type: string;
  payload: unknown;
  group?: string;
}

export interface Delivery {
  /** X-Request-UUID, or `sha256:<hex>` of the body when the header is absent. */
  id: string;
  clientKey: string;
  event: string;
  jobId: string | null;
  receivedAt: string;
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

  /**
   * Record a delivery and enqueue its job in one step, atomically: either both are durable
   * or neither. Returns `duplicate: true` (and enqueues nothing) when the delivery id is known.
   * `job` null records the delivery only (an event the app ignores).
   */
  acceptDelivery(delivery: Omit<Delivery, 'jobId' | 'receivedAt'>, job: NewJob | null): Promise<{ duplicate: boolean; jobId: string | null }>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  countDeliveries(): Promise<number>;

  getJob(id: string): Promise<Job | undefined>;
  /** Queued jobs whose runAfter has passed, oldest first; marks them running (lease). */
  claimJobs(limit: number, now: Date): Promise<Job[]>;
  /** Finish: done, requeue with backoff (status queued + runAfter), or dead with the reason. */
  updateJob(id: string, patch: Partial<Pick<Job, 'status' | 'attempts' | 'runAfter' | 'lastError'>>): Promise<void>;
  /**
   * Jobs matching every given field, oldest first (acceptance order), or newest first with
   * `newestFirst`; `limit` caps the result after filtering. Payloads are loaded, so a page
   * that needs one pull request's latest scan should ask for
   * `{ clientKey, group, newestFirst: true, limit: 1 }` rather than list everything.
   */
  listJobs(filter?: JobFilter): Promise<Job[]>;
}
