import { spawn } from 'node:child_process';
import { BitbucketApiError, formatBytes } from '../../bitbucket/errors.ts';
import type { Logger } from '../../log.ts';
import { keyFinding } from '../../scan/secrets/fingerprint.ts';
import type { ScanRecord, StoredFinding } from '../../store/results-types.ts';
import type { Job } from '../../store/types.ts';
import { BudgetExhaustedError } from '../budget.ts';
import { TenantUnavailableError, type CodeHostSource } from '../code-host.ts';
import { policyOf } from '../policy.ts';
import { PermanentJobError } from '../worker.ts';
import { scanRecord, type WorkflowDeps } from '../workflows/context.ts';
import { repoConfigAt } from './backfill.ts';
import { CloneError, gitEnv, withClone } from './git-clone.ts';
import { historyCommits } from './git-log.ts';

export { HISTORY_JOB_TYPE } from './history-jobs.ts';

/**
 * The history scan for secrets, on an admin's request, one repository at a time per
 * installation (`coverage:history` jobs in one group): a bare clone of the default branch
 * with git (git-clone.ts), every commit reachable from its head read with `git log -p`
 * (git-log.ts), what each commit added scanned in the scan pool with the same engine and
 * repository configuration as any scan. Each secret is reported once (by fingerprint) with
 * the commit that added it, its author date and path: an "in history" finding, stored as a
 * scan of kind `history` (the newest per repository is kept), never a pull request's.
 *
 * A bound that stops the work (the repository's size, the clone on disk, the time, the
 * commits) is said in the record's notices and `unfinished`; what was scanned before it is
 * kept. Refusals (the token, a missing repository) are recorded the same way; only what is
 * no repository's fault (the call budget, Bitbucket throttling, the installation gone) is
 * retried by the job runner.
 */

export interface HistoryLimits {
  /** A repository Bitbucket says is larger is not cloned; a clone growing past it is stopped. */
  maxRepoBytes: number;
  /** Commits read, newest first (the clone's depth). */
  maxCommits: number;
  /** Clone and scan together. */
  maxTimeMs: number;
  /** A commit's patch past this is cut off (and said). */
  maxCommitBytes: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  maxRepoBytes: 2 * 1024 * 1024 * 1024,
  maxCommits: 50_000,
  maxTimeMs: 30 * 60_000,
  maxCommitBytes: 16 * 1024 * 1024,
};

export interface HistoryDeps extends WorkflowDeps {
  /** The code hosts, metered as background work (it leaves the budget's reserve to webhook scans). */
  backgroundHosts: CodeHostSource;
  historyLimits?: Partial<HistoryLimits>;
}

export async function runHistoryScan(deps: HistoryDeps, job: Job, log: Logger): Promise<void> {
  const repoUuid = (job.payload as { repoUuid?: unknown } | null)?.repoUuid;
  if (typeof repoUuid !== 'string') throw new PermanentJobError('a history job names no repository');
  const limits = { ...DEFAULT_HISTORY_LIMITS, ...deps.historyLimits };
  const started = deps.now().getTime();
  const policy = await policyOf(deps.results, job.clientKey);
  const record = (commit: string, branch: string | null, findings: StoredFinding[], notices: string[], unfinished?: string): ScanRecord => ({
    ...scanRecord(
      { findings, skipped: [], notices, durationMs: deps.now().getTime() - started, ...(unfinished ? { unfinished } : {}) },
      { clientKey: job.clientKey, repoUuid, commit, kind: 'history', prId: null, policy, at: deps.now() },
    ),
    ...(branch ? { branch } : {}),
  });
  const stop = async (why: string, commit = '', branch: string | null = null) => {
    await deps.results.putScan(record(commit, branch, [], [why], why));
    log.info({ repoUuid, why }, 'history scan not done');
  };

  const known = await deps.results.getRepository(job.clientKey, repoUuid);
  if (!known || known.deletedAt !== null) return stop('The repository is not among those discovery found (deleted, or not discovered yet).');
  try {
    const host = (await deps.backgroundHosts.forTenant(job.clientKey)).repositories;
    const current = await host.getRepository(known.fullName);
    if (!current || current.uuid !== repoUuid) return await stop('The repository was deleted or moved away.');
    if (current.mainBranch === null) return await stop('The repository has no default branch (an empty repository).');
    const head = await host.branchHead(current.fullName, current.mainBranch);
    if (head === null) return await stop(`The default branch ${current.mainBranch} has no commits.`, '', current.mainBranch);
    if (current.sizeBytes !== null && current.sizeBytes > limits.maxRepoBytes) {
      return await stop(`The repository is ${formatBytes(current.sizeBytes)}, over the ${formatBytes(limits.maxRepoBytes)} bound of a history scan; it was not cloned.`, head, current.mainBranch);
    }
    if (!host.gitRemote) return await stop('This code host offers no git clone to history scans yet.', head, current.mainBranch);
    const remote = await host.gitRemote(current.fullName);
    const { config, problems } = await repoConfigAt(host, current.fullName, head);
    const deadline = started + limits.maxTimeMs;
    const walked = await withClone(remote, current.mainBranch, { maxBytes: limits.maxRepoBytes, maxCommits: limits.maxCommits, deadline }, (gitDir, home) =>
      walk(deps, { gitDir, home, clientKey: job.clientKey, config, ignoredPaths: policy.ignoredPaths, limits, deadline }),
    );
    const notices = [`History of ${current.mainBranch} scanned: ${walked.commits} commits, ${formatBytes(walked.bytes)} of patches.`, ...problems.map((p) => `Repository configuration: ${p}`), ...walked.notices];
    await deps.results.putScan(record(walked.head ?? head, current.mainBranch, walked.findings, notices, walked.unfinished));
    log.info({ repo: current.fullName, commits: walked.commits, findings: walked.findings.length, unfinished: walked.unfinished }, 'history scanned');
  } catch (error) {
    if (error instanceof CloneError) return stop(error.message);
    if (isTransient(error)) throw error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log.warn({ err: error, repoUuid }, 'history scan failed');
    return stop(`The history scan failed: ${reason.slice(0, 400)}`);
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof BudgetExhaustedError || error instanceof TenantUnavailableError) return true;
  if (error instanceof BitbucketApiError) return error.status === 429 || error.status === 408 || error.status >= 500;
  return error instanceof TypeError;
}

interface WalkInput {
  gitDir: string;
  home: string;
  clientKey: string;
  config: Awaited<ReturnType<typeof repoConfigAt>>['config'];
  ignoredPaths: string[];
  limits: HistoryLimits;
  deadline: number;
}

interface Walked {
  head: string | null;
  commits: number;
  bytes: number;
  findings: StoredFinding[];
  notices: string[];
  unfinished?: string;
}

async function walk(deps: HistoryDeps, input: WalkInput): Promise<Walked> {
  const key = deps.fingerprintKey(input.clientKey);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, input.deadline - Date.now()));
  // Newest first: a secret added more than once ends with the commit that added it first.
  const found = new Map<string, StoredFinding>();
  const result: Walked = { head: null, commits: 0, bytes: 0, findings: [], notices: [] };
  let truncated = 0;
  try {
    for await (const commit of historyCommits(input.gitDir, input.home, input.limits.maxCommitBytes, abort.signal)) {
      result.head ??= commit.hash;
      result.commits++;
      result.bytes += commit.patch.length;
      if (commit.truncated) truncated++;
      if (commit.patch.length === 0) continue;
      const scanned = await deps.scans.scanDiff(streamOf(commit.patch), {
        secrets: { config: input.config, fingerprintKey: key },
        ignoredPaths: input.ignoredPaths,
        limits: { maxDiffBytes: input.limits.maxCommitBytes, maxFileBytes: input.limits.maxCommitBytes },
      });
      for (const finding of scanned.findings) {
        const keyed = keyFinding(finding, key);
        found.set(keyed.fingerprint, { ...keyed, isNew: false, history: { commit: commit.hash, authorDate: commit.authorDate } });
      }
    }
  } finally {
    clearTimeout(timer);
  }
  if (abort.signal.aborted) {
    result.unfinished = `The history scan reached its ${Math.round(input.limits.maxTimeMs / 1000)} s time bound after ${result.commits} commits; older commits were not scanned.`;
    result.notices.push(result.unfinished);
  } else if (result.commits >= input.limits.maxCommits && (await isShallow(input.gitDir, input.home))) {
    result.unfinished = `The history has more than ${input.limits.maxCommits} commits; only the newest ${input.limits.maxCommits} were scanned.`;
    result.notices.push(result.unfinished);
  }
  if (truncated > 0) result.notices.push(`${truncated} commits changed more than ${formatBytes(input.limits.maxCommitBytes)}; what they added past that was not scanned.`);
  result.findings = [...found.values()];
  return result;
}

function streamOf(bytes: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      controller.close();
    },
  });
}

/** Whether the clone stopped at its depth: commits older than it exist and were not fetched. */
function isShallow(gitDir: string, home: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('git', ['rev-parse', '--is-shallow-repository'], { cwd: gitDir, env: gitEnv(home, { GIT_DIR: gitDir }), stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', () => resolve(false));
    child.on('close', () => resolve(out.trim() === 'true'));
  });
}
