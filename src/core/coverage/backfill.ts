import { BitbucketApiError, formatBytes } from '../../bitbucket/errors.ts';
import type { Logger } from '../../log.ts';
import { matchPackages, VulnIndexError } from '../../scan/deps/index.ts';
import { EMPTY_REPO_CONFIG, loadRepoConfig, REPO_CONFIG_PATHS, type RepoScanConfig } from '../../scan/repo-config/index.ts';
import { keyFinding } from '../../scan/secrets/fingerprint.ts';
import type { CoverageState, RepositoryCoverage, RepositoryRecord } from '../../store/coverage-types.ts';
import type { Policy, ScanRecord, StoredFinding } from '../../store/results-types.ts';
import type { Job, Store } from '../../store/types.ts';
import { TenantUnavailableError, type CodeHostSource } from '../code-host.ts';
import { BudgetExhaustedError } from '../budget.ts';
import { packagesOf } from '../dependency-check.ts';
import { pathFilter, policyOf } from '../policy.ts';
import { annotationId, buildAnnotations, buildReport, postStatus, publishReport } from '../publish.ts';
import type { JobOutcome } from '../worker.ts';
import { applyTriage, scanRecord, targetOf, type WorkflowDeps } from '../workflows/context.ts';
import { storeInventory } from '../workflows/inventory.ts';
import { coverageOf, ensureBackfillChain, jobLane, laneOf } from './control.ts';
import type { RepositoryHost } from './host.ts';
import { DEFAULT_TREE_SCAN_LIMITS, listTree, scanTree, type TreeScanLimits } from './tree-scan.ts';

/**
 * One link of the backfill chain: takes the pending repository updated most recently,
 * scans its default branch at its head (the whole tree, every dependency file, the SBOM
 * and inventory), publishes a Code Insights report and a build status on that commit as a
 * push scan does, records the outcome, and queues the next link. A repository that fails
 * is recorded as failed with the reason and the chain goes on; only what is no
 * repository's fault (the call budget, Bitbucket throttling or down, the installation gone)
 * ends the job for the runner to retry later, with the repository still pending.
 */

/** Its own report and status: a push scan of the same head reports what the push added, this one the whole branch. */
export const BRANCH_REPORT_ID = 'gatehouse-branch';
export const BRANCH_STATUS_KEY = 'gatehouse-branch';

export interface BackfillDeps extends WorkflowDeps {
  store: WorkflowDeps['store'] & Pick<Store, 'acceptDelivery' | 'countUnfinishedJobs'>;
  /** The code hosts, metered as background work (it leaves the budget's reserve to webhook scans). */
  backgroundHosts: CodeHostSource;
  treeScanLimits?: Partial<TreeScanLimits>;
}

export async function runBackfillStep(deps: BackfillDeps, job: Job, log: Logger): Promise<JobOutcome | void> {
  const state = await coverageOf(deps.results, job.clientKey, deps.now());
  if (state.state !== 'running' || state.runId === null) return { skipped: `the backfill is ${state.state}` };
  const lane = jobLane(job.payload);
  const { next, pendingElsewhere } = await nextRepository(deps, state, lane);
  if (!next) {
    // The other lanes' repositories still pending (some in flight): the last lane to finish ends the run.
    if (pendingElsewhere) return;
    await finishRun(deps, state);
    log.info({ runId: state.runId }, 'backfill finished');
    return;
  }
  const entry = await scanRepository(deps, job, state.runId, next.record, next.entry, log);
  await deps.results.putRepositoryCoverage(entry);
  log.info({ repo: next.record.fullName, status: entry.status, commit: entry.commit, reason: entry.reason, lane }, 'repository backfilled');
  // Paused meanwhile: the chain stops here; resume starts it again.
  if ((await coverageOf(deps.results, job.clientKey, deps.now())).state === 'running') await ensureBackfillChain(deps.store, job.clientKey, lane);
}

/** The lane's pending repository updated most recently (never-updated ones last), and whether other lanes have any pending. */
async function nextRepository(deps: BackfillDeps, state: CoverageState, lane: number): Promise<{ next: { record: RepositoryRecord; entry: RepositoryCoverage } | undefined; pendingElsewhere: boolean }> {
  const records = new Map((await deps.results.listRepositories(state.clientKey)).map((r) => [r.uuid, r]));
  const pending = (await deps.results.listRepositoryCoverage(state.clientKey))
    .filter((e) => e.runId === state.runId && e.status === 'pending')
    .flatMap((entry) => {
      const record = records.get(entry.repoUuid);
      return record ? [{ record, entry }] : [];
    });
  const mine = pending.filter((p) => laneOf(p.record.uuid) === lane);
  mine.sort((a, b) => (b.record.updatedOn ?? '').localeCompare(a.record.updatedOn ?? '') || a.record.fullName.localeCompare(b.record.fullName));
  return { next: mine[0], pendingElsewhere: mine.length < pending.length };
}

async function finishRun(deps: BackfillDeps, state: CoverageState): Promise<void> {
  const now = deps.now().toISOString();
  await deps.results.putCoverage({ ...state, state: 'done', runFinishedAt: now, updatedAt: now });
}

/** Failures that are no repository's fault: the job is retried later and the repository stays pending. */
function isTransient(error: unknown): boolean {
  if (error instanceof BudgetExhaustedError || error instanceof TenantUnavailableError) return true;
  if (error instanceof BitbucketApiError) return error.status === 429 || error.status === 408 || error.status === 401 || error.status >= 500;
  return error instanceof TypeError; // fetch: no connection
}

async function scanRepository(deps: BackfillDeps, job: Job, runId: string, record: RepositoryRecord, previous: RepositoryCoverage, log: Logger): Promise<RepositoryCoverage> {
  const outcome = (patch: Partial<RepositoryCoverage>): RepositoryCoverage => ({
    ...previous,
    runId,
    files: 0,
    bytes: 0,
    findings: 0,
    skippedFiles: [],
    reason: null,
    ...patch,
    updatedAt: deps.now().toISOString(),
  });
  try {
    const host = (await deps.backgroundHosts.forTenant(job.clientKey)).repositories;
    const current = await host.getRepository(record.fullName);
    if (!current || current.uuid !== record.uuid) {
      await deps.results.putRepository({ ...record, deletedAt: deps.now().toISOString() });
      return outcome({ status: 'skipped', reason: 'the repository was deleted or moved away; the next discovery finds it again if it was renamed' });
    }
    if (current.mainBranch === null) return outcome({ status: 'skipped', reason: 'no default branch (an empty repository)' });
    const maxBytes = deps.treeScanLimits?.maxRepositoryBytes ?? DEFAULT_TREE_SCAN_LIMITS.maxRepositoryBytes;
    if (current.sizeBytes !== null && current.sizeBytes > maxBytes) {
      return outcome({ status: 'skipped', reason: `the repository is ${formatBytes(current.sizeBytes)}, over the ${formatBytes(maxBytes)} a backfill scans` });
    }
    const head = await host.branchHead(current.fullName, current.mainBranch);
    if (head === null) return outcome({ status: 'skipped', reason: `the default branch ${current.mainBranch} has no commits` });
    const done = await deps.results.getScan(job.clientKey, record.uuid, head, 'branch');
    if (previous.commit === head) {
      // Finished before at this commit (an earlier run): nothing to scan or publish.
      return outcome({ status: 'scanned', commit: head, files: previous.files, bytes: previous.bytes, findings: previous.findings, skippedFiles: previous.skippedFiles });
    }
    const target = await targetOf(deps, job, current.fullName);
    const link = target.host.commitUrl(target, head);
    const policy = await policyOf(deps.results, job.clientKey);
    // A scan stored before a crash is published again, not redone.
    const { scan, files, bytes } = done
      ? { scan: done, files: previous.files, bytes: previous.bytes }
      : await scanBranch(deps, host, { job, repoUuid: record.uuid, fullName: current.fullName, branch: current.mainBranch, head, policy });
    const annotated = done ? new Set(done.findings.map(annotationId)) : new Set<string>();
    await publishReport(target, head, buildReport(scan, policy, link, `Branch ${current.mainBranch} at ${head.slice(0, 12)}`), buildAnnotations(scan.findings, policy), annotated, BRANCH_REPORT_ID);
    await postStatus(target, head, {
      key: BRANCH_STATUS_KEY,
      state: scan.result === 'FAILED' ? 'FAILED' : 'SUCCESSFUL',
      description: scan.result === 'FAILED' ? `${scan.counts.new} finding(s) on ${current.mainBranch} at or above ${policy.threshold}` : `No blocking findings on ${current.mainBranch}`,
      url: link,
      branch: current.mainBranch,
    });
    const open = scan.findings.filter((f) => f.triage === undefined).length;
    return outcome({ status: 'scanned', commit: head, files, bytes, findings: open, skippedFiles: scan.skipped });
  } catch (error) {
    if (isTransient(error)) throw error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log.warn({ err: error, repo: record.fullName }, 'repository backfill failed; going on with the next');
    return outcome({ status: 'failed', reason: reason.slice(0, 500) });
  }
}

async function scanBranch(
  deps: BackfillDeps,
  host: RepositoryHost,
  input: { job: Job; repoUuid: string; fullName: string; branch: string; head: string; policy: Policy },
): Promise<{ scan: ScanRecord; files: number; bytes: number }> {
  const started = deps.now().getTime();
  const { job, policy } = input;
  const include = pathFilter(policy);
  const limits = deps.treeScanLimits ?? {};
  // Listed first: the root's listing says which configuration files exist, so absent ones cost no call.
  const listing = await listTree({ host, fullName: input.fullName, commit: input.head, include, limits });
  const { config, problems } = await repoConfigAt(host, input.fullName, input.head, listing.rootFiles);
  const fingerprintKey = deps.fingerprintKey(job.clientKey);
  const tree = await scanTree({
    host,
    fullName: input.fullName,
    commit: input.head,
    include,
    listing,
    secrets: policy.scanners.secrets ? { config, fingerprintKey } : null,
    scans: deps.scans,
    ...(deps.treeScanLimits ? { limits: deps.treeScanLimits } : {}),
  });
  const notices = [`Whole branch ${input.branch} scanned: ${tree.files} files.`, ...problems.map((p) => `Repository configuration: ${p}`), ...tree.notices];
  const unkeyed = new Map<string, string>();
  // Every finding of a whole-branch scan is the branch's own: counted as new, so the threshold decides the result.
  const findings: StoredFinding[] = tree.findings.map((f) => {
    const keyed = keyFinding(f, fingerprintKey);
    unkeyed.set(keyed.fingerprint, f.fingerprint);
    return { ...keyed, isNew: true };
  });
  const packages = await packagesOf(tree.dependencyFiles, deps.lockfiles);
  notices.push(...packages.notices);
  if (policy.scanners.dependencies) findings.push(...dependencyFindings(deps, config, packages.packages, notices));
  await storeInventory(deps, { clientKey: job.clientKey, repoUuid: input.repoUuid, fullName: input.fullName, branch: input.branch, commit: input.head, acceptedAt: job.createdAt }, packages.packages, packages.files);
  const scan: ScanRecord = {
    ...scanRecord(
      { findings: await applyTriage(deps, job.clientKey, input.repoUuid, findings, unkeyed), skipped: tree.skipped, notices, durationMs: deps.now().getTime() - started },
      { clientKey: job.clientKey, repoUuid: input.repoUuid, commit: input.head, kind: 'branch', prId: null, policy, at: deps.now() },
    ),
    // Named so that the store keeps only the newest whole-branch scan of each branch.
    branch: input.branch,
  };
  await deps.results.putScan(scan);
  return { scan, files: tree.files, bytes: tree.bytes };
}

function dependencyFindings(deps: BackfillDeps, config: RepoScanConfig, packages: Parameters<typeof matchPackages>[1], notices: string[]): StoredFinding[] {
  if (packages.length === 0) return [];
  const index = deps.vulnIndex();
  if (!index) {
    notices.push(`No vulnerability database: ${packages.length} packages not checked for known vulnerabilities.`);
    return [];
  }
  try {
    return matchPackages(index, packages)
      .filter((f) => !config.ignoredFingerprints.includes(f.fingerprint))
      .map((f) => ({ ...f, severity: config.severityOverrides[f.ruleId] ?? f.severity, isNew: true }));
  } catch (error) {
    if (!(error instanceof VulnIndexError)) throw error;
    notices.push(`${error.message}; dependencies were not checked.`);
    return [];
  }
}

/** The repository's own scan configuration at a commit (also what a history scan applies). */
export async function repoConfigAt(host: RepositoryHost, fullName: string, commit: string, rootFiles?: ReadonlySet<string>): Promise<{ config: RepoScanConfig; problems: string[] }> {
  // With the root's file names known, a file that is not there is not asked for.
  const read = async (path: string) => (rootFiles && !rootFiles.has(path) ? null : host.readFile(fullName, commit, path, 1024 * 1024));
  const [gatehouseYml, gitleaksToml, gitleaksIgnore] = await Promise.all([read(REPO_CONFIG_PATHS.gatehouseYml), read(REPO_CONFIG_PATHS.gitleaksToml), read(REPO_CONFIG_PATHS.gitleaksIgnore)]);
  if (gatehouseYml === null && gitleaksToml === null && gitleaksIgnore === null) return { config: EMPTY_REPO_CONFIG, problems: [] };
  return loadRepoConfig({ gatehouseYml: gatehouseYml ?? undefined, gitleaksToml: gitleaksToml ?? undefined, gitleaksIgnore: gitleaksIgnore ?? undefined });
}
