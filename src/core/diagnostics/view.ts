import { readCurrent } from '../../vulndb/store.ts';
import type { Store } from '../../store/types.ts';
import { UNATTRIBUTED, type CallFailureKind, type DiagnosticsRecorder, type TenantHealth } from './recorder.ts';
import type { SharedDiagnostics } from './shared.ts';

/**
 * An installation's integration health, as GET /api/diagnostics answers it and the settings
 * page's "Health" section shows it: the recorder's counters (deliveries, refused webhooks,
 * failing Bitbucket calls) with what the store knows (queue depth, dead jobs) and the age of
 * the vulnerability database. Every problem carries one sentence saying what to do.
 */

export interface Advice {
  /** What is wrong, one line. */
  problem: string;
  /** What the admin should do about it, one sentence. */
  action: string;
}

export interface DiagnosticsView {
  /** Counters (deliveries, refusals, call failures) run since then (kept in DATA_DIR across restarts). */
  countingSince: string;
  deliveries: { event: string; count: number; lastAt: string }[];
  refusedWebhooks: { reason: string; count: number; lastAt: string; lastMessage: string; action: string }[];
  bitbucketCalls: { total: number; failures: { kind: CallFailureKind; count: number; lastAt: string; lastError: string; action: string }[] };
  vulnerabilityDatabase: { updatedAt: string | null; ageHours: number | null; action: string | null };
  queue: { queued: number; limit: number; action: string | null };
  deadJobs: { id: string; type: string; attempts: number; lastError: string | null; diedAt: string; action: string }[];
  /** Everything above that needs attention, worst first; empty when all is well. */
  problems: Advice[];
}

const REFUSAL_ACTION: Record<string, string> = {
  bad_jwt:
    'Bitbucket and Gatehouse disagree about this installation\'s shared secret or clock: reinstall Gatehouse from Workspace settings → Installed apps, and check the server clock is synchronised (NTP).',
  unknown_installation: 'Webhooks arrive for an installation Gatehouse does not know: reinstall the app in that workspace, or remove the stale app or webhook that still sends them.',
};

const CALL_ACTION: Record<CallFailureKind, string> = {
  '401': 'Bitbucket refused Gatehouse\'s credentials (an expired token or a changed secret): reinstall Gatehouse from Workspace settings → Installed apps if it keeps happening.',
  '403': 'The app is not allowed to do this (its scopes are too narrow, or a repository or branch permission blocks it): accept the app\'s requested permissions in Installed apps and check branch restrictions.',
  '404':
    'Mostly expected (Gatehouse asks for optional files such as .gatehouse.yml); if a repository\'s scans fail with it, it was deleted or renamed: run "Discover now" so coverage follows.',
  '429': 'Bitbucket is rate-limiting this workspace: Gatehouse waits as asked, so only pause the backfill if developers\' scans are delayed.',
  '4xx': 'Bitbucket refused requests as invalid: if this keeps growing, send the last error to the Gatehouse operator.',
  '5xx': 'Bitbucket failed on its side: Gatehouse retries by itself; check status.atlassian.com if it persists.',
  network: 'Gatehouse could not reach Bitbucket (connection or timeout): the operator should check the server\'s outbound network and proxy.',
};

const DEAD_JOB_ACTION = 'Fix what the error names, then press "Retry"; a job that fails again the same way needs the Gatehouse operator.';
const VULNDB_MISSING = 'Dependencies are not checked until the operator runs "npx gatehouse db update" (or sets OSV_UPDATE_INTERVAL).';
const VULNDB_STALE = 'The vulnerability database is more than a day old: the operator should check that the scheduled OSV refresh (OSV_UPDATE_INTERVAL) runs, or run "npx gatehouse db update".';
/** Advisories appear daily: a day without a refresh means new ones are missed. */
const VULNDB_STALE_HOURS = 24;

export interface DiagnosticsDeps {
  recorder: DiagnosticsRecorder;
  /** With several instances (PostgreSQL): the counters every instance adds to, read instead of this recorder's own. */
  shared?: Pick<SharedDiagnostics, 'flush' | 'read'>;
  store: Pick<Store, 'countQueuedJobs' | 'readDeadJobs' | 'getJob' | 'retryDeadJob' | 'listInstallations'>;
  dataDir: string;
  now: () => Date;
  /** TENANT_QUEUE_LIMIT: webhooks are refused (429) once this many jobs are queued. */
  queueLimit: number;
}

export const MAX_DEAD_JOBS_SHOWN = 20;

export class Diagnostics {
  constructor(private readonly deps: DiagnosticsDeps) {}

  async forInstallation(clientKey: string): Promise<DiagnosticsView> {
    const [queued, dead, vulndb, health] = await Promise.all([
      this.deps.store.countQueuedJobs(clientKey),
      this.deps.store.readDeadJobs({ limit: MAX_DEAD_JOBS_SHOWN, clientKey }),
      this.vulnerabilityDatabase(),
      this.health(clientKey),
    ]);
    const view = this.assemble(health, queued, vulndb);
    view.deadJobs = dead.map((j) => ({ id: j.id, type: j.type, attempts: j.attempts, lastError: j.lastError ?? null, diedAt: j.updatedAt, action: DEAD_JOB_ACTION }));
    if (dead.length > 0) view.problems.push({ problem: `${dead.length === MAX_DEAD_JOBS_SHOWN ? `At least ${dead.length}` : dead.length} job(s) gave up`, action: DEAD_JOB_ACTION });
    return view;
  }

  /** Every installation's counters (and refusals no installation can be named for), for the operator. */
  async forOperator(): Promise<{ countingSince: string; vulnerabilityDatabase: DiagnosticsView['vulnerabilityDatabase']; unattributedRefusals: DiagnosticsView['refusedWebhooks']; installations: ({ clientKey: string; state: string } & Omit<DiagnosticsView, 'deadJobs' | 'vulnerabilityDatabase' | 'countingSince'>)[] }> {
    const [installations, vulndb] = await Promise.all([this.deps.store.listInstallations(), this.vulnerabilityDatabase()]);
    const rows = await Promise.all(
      installations.map(async (i) => {
        const { deadJobs: _d, vulnerabilityDatabase: _v, countingSince: _c, ...rest } = this.assemble(await this.health(i.clientKey), await this.deps.store.countQueuedJobs(i.clientKey), vulndb);
        return { clientKey: i.clientKey, state: i.state, ...rest };
      }),
    );
    return {
      countingSince: this.deps.recorder.started,
      vulnerabilityDatabase: vulndb,
      unattributedRefusals: refusalsOf(await this.health(UNATTRIBUTED)),
      installations: rows,
    };
  }

  /** Puts one of the installation's dead jobs back in the queue, from its first attempt (once, however many ask at once). */
  async retryDeadJob(clientKey: string, jobId: string, by: string): Promise<'retried' | 'not_found' | 'not_dead'> {
    const job = await this.deps.store.getJob(jobId);
    const before = job?.lastError ? `; it had failed with: ${job.lastError}` : '';
    return this.deps.store.retryDeadJob(jobId, clientKey, { runAfter: this.deps.now().toISOString(), lastError: `retried by ${by}${before}`.slice(0, 1_000) });
  }

  /** The installation's counters: every instance's when they are shared (this one's added first), else this process's. */
  private async health(clientKey: string): Promise<TenantHealth> {
    const { shared } = this.deps;
    if (!shared) return this.deps.recorder.tenant(clientKey);
    await shared.flush();
    return shared.read(clientKey);
  }

  private assemble(health: TenantHealth, queued: number, vulndb: DiagnosticsView['vulnerabilityDatabase']): DiagnosticsView {
    const refusedWebhooks = refusalsOf(health);
    const failures = health.callFailures.map((f) => ({ ...f, action: CALL_ACTION[f.kind] }));
    const queueWarning = queued >= this.deps.queueLimit / 2;
    const queueAction = queueWarning
      ? `${queued} jobs are waiting (webhooks are refused at ${this.deps.queueLimit}): pause the backfill until the queue drains, and tell the operator if it keeps growing.`
      : null;
    const problems: Advice[] = [
      ...refusedWebhooks.map((r) => ({ problem: `${r.count} webhook(s) refused: ${r.reason.replace('_', ' ')}`, action: r.action })),
      // A 404 is mostly an optional file that is not there: listed with the calls, not raised as a problem.
      ...failures.filter((f) => f.kind !== '404').map((f) => ({ problem: `${f.count} Bitbucket call(s) failed with ${f.kind === 'network' ? 'no answer' : `HTTP ${f.kind}`}`, action: f.action })),
    ];
    if (vulndb.action) problems.push({ problem: vulndb.updatedAt ? `Vulnerability database ${vulndb.ageHours} hours old` : 'No vulnerability database', action: vulndb.action });
    if (queueAction) problems.push({ problem: `${queued} jobs queued`, action: queueAction });
    return {
      countingSince: health.since,
      deliveries: health.deliveries,
      refusedWebhooks,
      bitbucketCalls: { total: health.calls, failures },
      vulnerabilityDatabase: vulndb,
      queue: { queued, limit: this.deps.queueLimit, action: queueAction },
      deadJobs: [],
      problems,
    };
  }

  private async vulnerabilityDatabase(): Promise<DiagnosticsView['vulnerabilityDatabase']> {
    const current = await readCurrent(this.deps.dataDir).catch(() => null);
    if (!current) return { updatedAt: null, ageHours: null, action: VULNDB_MISSING };
    const ageHours = Math.max(0, Math.floor((this.deps.now().getTime() - Date.parse(current.manifest.createdAt)) / 3_600_000));
    return { updatedAt: current.manifest.createdAt, ageHours, action: ageHours >= VULNDB_STALE_HOURS ? VULNDB_STALE : null };
  }
}

function refusalsOf(health: TenantHealth): DiagnosticsView['refusedWebhooks'] {
  return health.refusals.map((r) => ({ ...r, action: REFUSAL_ACTION[r.reason] ?? REFUSAL_ACTION.bad_jwt! }));
}
