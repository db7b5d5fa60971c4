import { BitbucketProtocolError } from '../../bitbucket/errors.ts';
import type { VulnIndex } from '../../scan/deps/index.ts';
import { EMPTY_REPO_CONFIG, loadRepoConfig, REPO_CONFIG_PATHS, type RepoScanConfig } from '../../scan/repo-config/index.ts';
import { keyFinding } from '../../scan/secrets/fingerprint.ts';
import type { Policy, ResultsStore, ScanKind, ScanRecord, StoredFinding } from '../../store/results-types.ts';
import type { Job, JobSummary, Store } from '../../store/types.ts';
import type { ChangeTarget, CodeHostSource } from '../code-host.ts';
import { checkDependencies, type LockfileCache } from '../dependency-check.ts';
import type { DiffLimits, DiffScanResult } from '../diff-scan.ts';
import { resultOf } from '../policy.ts';
import { ScanBudgetExceeded, type ScanPool } from '../scan-pool/pool.ts';
import type { TreeWalkLimits } from './dependency-files.ts';
import type { Target } from '../publish.ts';

/** What every workflow needs; built once by createPipeline. */
export interface WorkflowDeps {
  store: Pick<Store, 'findSuperseder'>;
  results: ResultsStore;
  codeHosts: CodeHostSource;
  /** The OSV index as of now (null when no database has been downloaded). */
  vulnIndex: () => VulnIndex | null;
  lockfiles: LockfileCache;
  /** The installation's key for secret fingerprints and hashes (fingerprint.ts): nothing unkeyed is stored or published. */
  fingerprintKey: (clientKey: string) => Buffer;
  /** Where diffs are scanned: threads off the event loop, each scan within a time and memory budget. */
  scans: Pick<ScanPool, 'scanDiff' | 'scanFiles'>;
  now: () => Date;
  diffLimits?: DiffLimits;
  /** Bounds of the tree walk of a first dependency inventory (defaults in dependency-files.ts). */
  treeWalkLimits?: TreeWalkLimits;
}

export function splitFullName(fullName: string): { workspace: string; slug: string } {
  const [workspace, slug, ...rest] = fullName.split('/');
  if (!workspace || !slug || rest.length > 0) throw new BitbucketProtocolError('GET', fullName, 'repository full name is not workspace/slug');
  return { workspace, slug };
}

/** The code host of the job's tenant and the repository `fullName` on it. */
export async function targetOf(deps: Pick<WorkflowDeps, 'codeHosts'>, job: Pick<Job, 'clientKey'>, fullName: string): Promise<Target> {
  return { host: await deps.codeHosts.forTenant(job.clientKey), ...splitFullName(fullName) };
}

/** Resolves a possibly abbreviated commit hash (PR payloads carry 12 characters) to the full one. */
export async function fullHash(target: Target, hash: string): Promise<string> {
  if (/^[0-9a-f]{40}$/.test(hash)) return hash;
  return target.host.resolveCommit(target, hash);
}

/**
 * A webhook job for the same pull request accepted after this one: it covers this one's
 * work. Other jobs in the group (re-publishing after a triage change) do not count. An
 * indexed lookup: the group's other jobs are neither listed nor read.
 */
export async function newerJobInGroup(deps: WorkflowDeps, job: Job): Promise<JobSummary | undefined> {
  if (job.group === undefined) return undefined;
  return deps.store.findSuperseder(job.id);
}

/** Where a scan reads the repository's `.gatehouse.yml`, `.gitleaks.toml` and `.gitleaksignore`. */
interface ConfigSource {
  target: Target;
  commit: string;
}

async function repoConfig({ target, commit }: ConfigSource): Promise<{ config: RepoScanConfig; problems: string[] }> {
  const read = (path: string) => target.host.getFile(target, commit, path);
  const [gatehouseYml, gitleaksToml, gitleaksIgnore] = await Promise.all([
    read(REPO_CONFIG_PATHS.gatehouseYml),
    read(REPO_CONFIG_PATHS.gitleaksToml),
    read(REPO_CONFIG_PATHS.gitleaksIgnore),
  ]);
  if (gatehouseYml === null && gitleaksToml === null && gitleaksIgnore === null) return { config: EMPTY_REPO_CONFIG, problems: [] };
  return loadRepoConfig({ gatehouseYml: gatehouseYml ?? undefined, gitleaksToml: gitleaksToml ?? undefined, gitleaksIgnore: gitleaksIgnore ?? undefined });
}

/** The repository configuration files a change adds, edits, renames or deletes. */
async function changedConfigFiles(source: DiffSource): Promise<string[]> {
  const configPaths: readonly string[] = Object.values(REPO_CONFIG_PATHS);
  const changed = new Set<string>();
  // A host may not narrow the listing to these paths: entries are checked here either way.
  for await (const entry of source.target.host.changedFiles(source.target, source.spec, { paths: configPaths })) {
    for (const path of [entry.oldPath, entry.newPath]) if (path && configPaths.includes(path)) changed.add(path);
  }
  return [...changed].sort();
}

/** The repository that serves a change's diff, and which diff. */
interface DiffSource {
  target: Target;
  spec: ChangeTarget;
}

export interface ChangeScan {
  findings: StoredFinding[];
  skipped: string[];
  notices: string[];
  /** Configuration files the pull request changes (they did not apply to its own scan). */
  configChanges?: string[];
  durationMs: number;
  /** Why the change could not be scanned to the end (a scan budget was exceeded): the check fails. */
  unfinished?: string;
}

/**
 * Scans what `head` changes relative to `base` (from their merge base): secrets on added lines, and vulnerable packages in changed
 * dependency files, new versus already present at `base`. Triage marks are applied.
 */
export async function scanChange(
  deps: WorkflowDeps,
  input: {
    /** The repository `head` is in (a pull request's source repository). */
    target: Target;
    clientKey: string;
    repoUuid: string;
    head: string;
    base: string | null;
    policy: Policy;
    /**
     * A pull request from a fork: `base` is in the destination repository, which serves the
     * PR's diff; the source repository knows `head` but not necessarily `base`.
     */
    fork?: { destination: Target; pullRequestId: number };
    /**
     * A pull request: the repository configuration is read at `base` in the destination
     * repository, never at `head`, so that a pull request cannot switch off its own checks
     * (ignore every path, allow-list every secret, lower a severity). What it changes of the
     * configuration is scanned like any other file, said in the results, and applies once merged.
     */
    configFromBase?: boolean;
  },
): Promise<ChangeScan> {
  const started = deps.now().getTime();
  const { target, policy } = input;
  const { fork } = input;
  const diffSource: DiffSource = fork
    ? { target: fork.destination, spec: { pullRequestId: fork.pullRequestId } }
    : { target, spec: { head: input.head, base: input.base } };
  let configSource: ConfigSource = { target, commit: input.head };
  if (input.configFromBase) {
    if (input.base === null) throw new Error('a pull request scan needs the destination commit to read the configuration at');
    configSource = { target: fork?.destination ?? target, commit: input.base };
  }
  const [{ config, problems }, configChanges] = await Promise.all([
    repoConfig(configSource),
    input.configFromBase ? changedConfigFiles(diffSource) : Promise.resolve([]),
  ]);
  const fingerprintKey = deps.fingerprintKey(input.clientKey);
  const diff = await diffSource.target.host.streamDiff(diffSource.target, diffSource.spec);
  let changes: DiffScanResult;
  try {
    changes = await deps.scans.scanDiff(diff, {
      secrets: policy.scanners.secrets ? { config, fingerprintKey } : null,
      ignoredPaths: policy.ignoredPaths,
      ...(deps.diffLimits ? { limits: deps.diffLimits } : {}),
    });
  } catch (error) {
    // Deterministic enough that a retry would only stall another thread: the job ends here,
    // with a failing check that says why, rather than a pass nobody earned.
    if (!(error instanceof ScanBudgetExceeded)) throw error;
    const unfinished = `This change was not fully scanned: ${error.message}. The check fails until a scan of the change completes.`;
    return { findings: [], skipped: [], notices: [unfinished], configChanges, durationMs: deps.now().getTime() - started, unfinished };
  }
  const notices = problems.map((p) => `Repository configuration: ${p}`);
  // Keyed at once; the unkeyed form is kept in memory only, to carry marks made before keys over.
  const unkeyed = new Map<string, string>();
  const findings: StoredFinding[] = changes.findings.map((f) => {
    const keyed = keyFinding(f, fingerprintKey);
    unkeyed.set(keyed.fingerprint, f.fingerprint);
    return { ...keyed, isNew: true };
  });
  if (policy.scanners.dependencies) {
    const checked = await checkDependencies({
      target,
      sourceCommit: input.head,
      baseCommit: input.base,
      ...(fork ? { baseRepository: { workspace: fork.destination.workspace, slug: fork.destination.slug } } : {}),
      files: changes.dependencyFiles,
      vulnIndex: deps.vulnIndex(),
      config,
      cache: deps.lockfiles,
    });
    findings.push(...checked.findings);
    notices.push(...checked.notices);
  } else if (changes.dependencyFiles.length > 0) {
    notices.push(`The dependency scanner is off by policy: ${changes.dependencyFiles.length} changed dependency file(s) not checked.`);
  }
  return {
    findings: await applyTriage(deps, input.clientKey, input.repoUuid, findings, unkeyed),
    skipped: changes.skipped,
    notices,
    ...(configChanges.length > 0 ? { configChanges } : {}),
    durationMs: deps.now().getTime() - started,
  };
}

/**
 * The repository's current triage marks on the findings, replacing whatever marks they carried.
 * `unkeyed` maps a secret finding's fingerprint to its form before fingerprints were keyed: a
 * mark still held under that form is moved to the keyed one the first time its finding is seen.
 */
export async function applyTriage(
  deps: WorkflowDeps,
  clientKey: string,
  repoUuid: string,
  findings: readonly StoredFinding[],
  unkeyed: ReadonlyMap<string, string> = new Map(),
): Promise<StoredFinding[]> {
  const marks = new Map((await deps.results.listTriage(clientKey, repoUuid)).map((m) => [m.fingerprint, m]));
  const marked: StoredFinding[] = [];
  for (const { triage: _old, ...finding } of findings) {
    let mark = marks.get(finding.fingerprint);
    const before = unkeyed.get(finding.fingerprint);
    const legacy = before === undefined ? undefined : marks.get(before);
    if (!mark && legacy && before !== undefined) {
      mark = { ...legacy, fingerprint: finding.fingerprint };
      await deps.results.putTriage(mark);
      await deps.results.clearTriage(clientKey, repoUuid, before);
      marks.set(mark.fingerprint, mark);
    }
    marked.push(mark ? { ...finding, triage: { status: mark.status, by: mark.by, at: mark.at, reason: mark.reason } } : finding);
  }
  return marked;
}

export function scanRecord(
  scan: ChangeScan,
  meta: { clientKey: string; repoUuid: string; commit: string; kind: ScanKind; prId: number | null; policy: Policy; at: Date },
): ScanRecord {
  const open = scan.findings.filter((f) => f.triage === undefined);
  const counts = { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: scan.findings.length - open.length };
  for (const f of open) {
    counts[f.severity]++;
    if (f.isNew) counts.new++;
    else counts.existing++;
  }
  return {
    clientKey: meta.clientKey,
    repoUuid: meta.repoUuid,
    commit: meta.commit,
    kind: meta.kind,
    prId: meta.prId,
    result: scan.unfinished ? 'FAILED' : resultOf(meta.policy, scan.findings),
    counts,
    durationMs: scan.durationMs,
    skipped: scan.skipped,
    notices: scan.notices,
    ...(scan.configChanges?.length ? { configChanges: scan.configChanges } : {}),
    ...(scan.unfinished ? { unfinished: scan.unfinished } : {}),
    createdAt: meta.at.toISOString(),
    findings: scan.findings,
  };
}
