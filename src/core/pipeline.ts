import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { openVulnIndex, type VulnIndex } from '../scan/deps/index.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Job, Store } from '../store/types.ts';
import { BitbucketCredentialsUnavailableError } from '../bitbucket/auth/bearer.ts';
import { BitbucketApiError, BitbucketInputError, BitbucketOriginError, BitbucketTooLargeError } from '../bitbucket/errors.ts';
import { createCodeHosts } from '../codehost/index.ts';
import type { ClientTuning } from '../codehost/cloud/clients.ts';
import { CallBudget, DEFAULT_BUDGET, type BudgetOptions, type CallBuckets, type CallMeter } from './budget.ts';
import { TenantCredentialsRejectedError, TenantUnavailableError, type CodeHostSource } from './code-host.ts';
import { LockfileCache } from './dependency-check.ts';
import type { DiffLimits } from './diff-scan.ts';
import { SCAN_POOL_DEFAULTS, ScanPool, scanThreadsFor, type ScanPoolOptions } from './scan-pool/pool.ts';
import { PermanentJobError, WORKER_DEFAULTS, WorkerPool, type AttemptOutcome, type JobHandler } from './worker.ts';
import { closePullRequest, recordPullRequestDeleted, scanPullRequest, stopPullRequestScan } from './workflows/pull-request.ts';
import { scanPush, stopPushScan } from './workflows/push.ts';
import { REPUBLISH_JOB_TYPE, republishPullRequest } from './workflows/republish.ts';
import type { WorkflowDeps } from './workflows/context.ts';
import { installationFingerprintKey } from '../scan/secrets/fingerprint.ts';
import { runBackfillStep, type BackfillDeps } from './coverage/backfill.ts';
import { BACKFILL_JOB_TYPE, DISCOVER_JOB_TYPE } from './coverage/control.ts';
import { discoverRepositories } from './coverage/discovery.ts';
import type { TreeScanLimits } from './coverage/tree-scan.ts';
import { HISTORY_JOB_TYPE, runHistoryScan, type HistoryDeps, type HistoryLimits } from './coverage/history.ts';
import { publishVerdictChange } from './monitoring/publish.ts';
import { MONITOR_PUBLISH_JOB_TYPE } from './monitoring/reevaluate.ts';

export interface PipelineOptions {
  config: Pick<Config, 'appKey' | 'encryptionKey' | 'bitbucketApiUrls' | 'bitbucketBaseUrls' | 'dataDir' | 'forge'>;
  store: Store;
  results: ResultsStore;
  logger: Logger;
  concurrency?: number;
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  pollMs?: number;
  budget?: BudgetOptions;
  /**
   * The buckets the budget takes calls from when several instances share them (OpenStores.callBuckets,
   * PostgreSQL); in this process's memory when absent.
   */
  sharedBuckets?: (options: BudgetOptions) => CallBuckets;
  /** Defaults to the database `gatehouse db update` keeps in DATA_DIR. */
  vulnIndex?: () => VulnIndex | null;
  client?: ClientTuning;
  /**
   * The code hosts jobs reach, given the budget every call is metered by (the budget itself, or
   * its background view for coverage work). Defaults to createCodeHosts (src/codehost/index.ts);
   * wiring that adds a tenant kind registers it there.
   */
  codeHosts?: (budget: CallMeter) => CodeHostSource;
  diffLimits?: DiffLimits;
  /** Largest dependency file read from Bitbucket (default in LockfileCache). */
  dependencyFileMaxBytes?: number;
  /** Scan threads and their budgets; threads default to one per concurrent job, at most one per core. */
  scanPool?: Partial<Omit<ScanPoolOptions, 'logger'>>;
  /** Bounds of a backfill's whole-tree scan (defaults in coverage/tree-scan.ts). */
  treeScanLimits?: Partial<TreeScanLimits>;
  /** How long a job whose tenant has no usable credentials waits before it looks again (default CREDENTIALS_WAIT_MS). */
  credentialsWaitMs?: number;
  /** Bounds of a history scan (defaults in coverage/history.ts). */
  historyLimits?: Partial<HistoryLimits>;
  /** How each job attempt ended (see WorkerOptions.onOutcome): front doors record their tenants' health from it. */
  onJobOutcome?: (job: Job, outcome: AttemptOutcome) => Promise<void>;
  /** When the event loop is too busy to claim jobs (see WorkerOptions.busy). */
  busy?: () => boolean;
  now?: () => Date;
}

/**
 * Wires the job runner to the workflows: one handler per job type (see events.ts
 * `jobTypeOf`). The caller starts and stops the returned pool.
 */
export function createPipeline(options: PipelineOptions): { worker: WorkerPool; budget: CallBudget } {
  const budgetOptions = options.budget ?? DEFAULT_BUDGET;
  const budget = new CallBudget(options.sharedBuckets?.(budgetOptions) ?? budgetOptions);
  const now = options.now ?? (() => new Date());
  const scans = new ScanPool({
    size: scanThreadsFor(options.concurrency ?? WORKER_DEFAULTS.concurrency),
    ...SCAN_POOL_DEFAULTS,
    ...options.scanPool,
    logger: options.logger,
  });
  const hosts = (meter: CallMeter) => options.codeHosts?.(meter) ?? createCodeHosts({ config: options.config, store: options.store, budget: meter, ...(options.client ? { tuning: options.client } : {}), now: () => now().getTime() });
  const deps: BackfillDeps & HistoryDeps = {
    store: options.store,
    results: options.results,
    codeHosts: hosts(budget),
    // Discovery's, the backfill's and history scans' reads (repository listings, branch heads,
    // trees, files) on every kind of code host: background work, which leaves the budget's
    // reserve to webhook scans.
    backgroundHosts: hosts(budget.background()),
    ...(options.treeScanLimits ? { treeScanLimits: options.treeScanLimits } : {}),
    ...(options.historyLimits ? { historyLimits: options.historyLimits } : {}),
    vulnIndex: options.vulnIndex ?? (() => openVulnIndex(options.config.dataDir)),
    lockfiles: new LockfileCache(scans, options.dependencyFileMaxBytes !== undefined ? { maxFileBytes: options.dependencyFileMaxBytes } : {}),
    scans,
    fingerprintKey: (clientKey) => installationFingerprintKey(options.config.encryptionKey, clientKey),
    now,
    ...(options.diffLimits ? { diffLimits: options.diffLimits } : {}),
  };
  const run = (workflow: (d: BackfillDeps & HistoryDeps, ...rest: Parameters<JobHandler>) => ReturnType<JobHandler>): JobHandler => (job, log) => workflow(deps, job, log);
  const handlers: Record<string, JobHandler> = {
    'event:push': run(scanPush),
    'event:pull_request:opened': run(scanPullRequest),
    'event:pull_request:updated': run(scanPullRequest),
    'event:pull_request:merged': run(closePullRequest),
    'event:pull_request:declined': run(closePullRequest),
    'event:pull_request:deleted': run(recordPullRequestDeleted),
    [REPUBLISH_JOB_TYPE]: run(republishPullRequest),
    [DISCOVER_JOB_TYPE]: async (job, log) => {
      await discoverRepositories(deps, job.clientKey, log);
    },
    [BACKFILL_JOB_TYPE]: run(runBackfillStep),
    [HISTORY_JOB_TYPE]: run(runHistoryScan),
    [MONITOR_PUBLISH_JOB_TYPE]: run(publishVerdictChange),
  };
  // What a job announced as INPROGRESS before it died is taken back (STOPPED), per job type.
  const settleDead: Record<string, (d: WorkflowDeps, job: Job, reason: string) => Promise<void>> = {
    'event:push': stopPushScan,
    'event:pull_request:opened': stopPullRequestScan,
    'event:pull_request:updated': stopPullRequestScan,
  };
  const worker = new WorkerPool({
    store: options.store,
    handlers,
    logger: options.logger,
    isPermanent,
    isBackground: (job) => BACKGROUND_JOB_TYPES.has(job.type),
    // A tenant without usable credentials: a Forge installation without a valid system token (a
    // delivered token, with every event and the hourly trigger, lets it run), or a Data Center
    // instance whose token was refused (an operator registering a new one lets it run). Its
    // jobs wait, looked at again every few minutes without spending attempts, instead of dying.
    waitOf: (error) => (error instanceof BitbucketCredentialsUnavailableError || error instanceof TenantCredentialsRejectedError ? (options.credentialsWaitMs ?? CREDENTIALS_WAIT_MS) : undefined),
    // A Retry-After longer than the client waits within one attempt is honoured between attempts.
    retryAfterOf: (error) => (error instanceof BitbucketApiError ? error.retryAfterMs : undefined),
    onDead: async (job, reason) => {
      await settleDead[job.type]?.(deps, job, reason);
    },
    onStart: () => scans.warm(),
    ...(options.onJobOutcome ? { onOutcome: options.onJobOutcome } : {}),
    now,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.retryBaseDelayMs !== undefined ? { baseDelayMs: options.retryBaseDelayMs } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.busy ? { busy: options.busy } : {}),
  });
  return { worker, budget };
}

/** How long a job without usable credentials waits before it looks again. */
export const CREDENTIALS_WAIT_MS = 5 * 60_000;

/** Jobs no one waits on: they leave one worker slot free for webhook scans (see WorkerPool). */
const BACKGROUND_JOB_TYPES: ReadonlySet<string> = new Set([DISCOVER_JOB_TYPE, BACKFILL_JOB_TYPE, HISTORY_JOB_TYPE, MONITOR_PUBLISH_JOB_TYPE]);

/**
 * Retrying cannot help: a payload that does not parse, a request Bitbucket calls invalid or
 * forbidden, an answer larger than we read, a tenant that is gone. 429, 408 and 5xx are retried (the client has
 * already retried them a few times within the attempt).
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof PermanentJobError || error instanceof TenantUnavailableError) return true;
  if (error instanceof BitbucketInputError || error instanceof BitbucketOriginError || error instanceof BitbucketTooLargeError) return true;
  if (error instanceof BitbucketApiError) return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
  return false;
}
