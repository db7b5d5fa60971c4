import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.ts';
import { matchPackages, normalizePackageName, type VulnIndex } from '../../scan/deps/index.ts';
import { ECOSYSTEMS, type Ecosystem, type PackageRef } from '../../scan/types.ts';
import type { AdvisoryFinding, AdvisoryState, InventoryRecord, Policy, ResultsStore, StoredFinding, TriageMark } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';
import { policyOf, resultOf } from '../policy.ts';
import type { AdvisoryDelta } from './delta.ts';

/**
 * After an OSV refresh: every installation's default-branch inventories checked against the
 * advisories that changed, from the store alone (no Bitbucket call). An inventory none of
 * whose packages changed is left as it is. For one that has, its dependency findings are
 * worked out again (changed packages against the advisories before and after, the others
 * kept), findings that appeared are marked as new advisories, ones that went are recorded as
 * fixed, and the branch's verdict is computed again; when the verdict changed, a job is
 * queued that updates the branch's report and build status on Bitbucket (publish.ts).
 */

export const MONITOR_PUBLISH_JOB_TYPE = 'monitoring:publish';
export const monitorGroup = (clientKey: string, repoUuid: string) => `monitoring:${clientKey}:${repoUuid}`;

export interface MonitorPublishPayload {
  repoUuid: string;
  commit: string;
}

/** Fixed findings kept per repository (the newest); verdict changes likewise. */
const MAX_FIXED = 200;
const MAX_CHANGES = 50;
/** Repositories re-evaluated at once. */
const CONCURRENCY = 8;

export interface ReevaluationDeps {
  store: Pick<Store, 'listInstallations' | 'acceptDelivery'>;
  results: ResultsStore;
  /** The database after the refresh. */
  vulnIndex: VulnIndex;
  now: () => Date;
  logger: Logger;
}

export interface ReevaluationSummary {
  inventories: number;
  touched: number;
  appeared: number;
  fixed: number;
  verdictChanges: number;
}

export async function reevaluateInventories(deps: ReevaluationDeps, delta: AdvisoryDelta): Promise<ReevaluationSummary> {
  const summary: ReevaluationSummary = { inventories: 0, touched: 0, appeared: 0, fixed: 0, verdictChanges: 0 };
  for (const installation of await deps.store.listInstallations()) {
    if (installation.state !== 'installed') continue;
    const clientKey = installation.clientKey;
    const repos = (await deps.results.listRepositories(clientKey)).filter((r) => r.deletedAt === null && r.mainBranch !== null);
    if (repos.length === 0) continue;
    const defaults = new Set(repos.map((r) => JSON.stringify([r.uuid, r.mainBranch])));
    const policy = await policyOf(deps.results, clientKey);
    const listed = (await deps.results.listInventories(clientKey)).filter((i) => defaults.has(JSON.stringify([i.repoUuid, i.branch])));
    summary.inventories += listed.length;
    // A few repositories at a time: their store writes share flushes instead of waiting in turn.
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < listed.length; i = next++) {
        const { repoUuid, branch } = listed[i]!;
        try {
          const inventory = await deps.results.getInventory(clientKey, repoUuid, branch);
          const touched = inventory?.packages.filter((p) => !p.source && delta.touched(p.ecosystem, p.name)) ?? [];
          if (!inventory || touched.length === 0) continue;
          summary.touched++;
          await reevaluateOne(deps, delta, policy, inventory, touched, summary);
        } catch (error) {
          // One repository's trouble (a record it cannot read) never stops the others.
          deps.logger.error({ err: error, clientKey, repoUuid }, 'advisory re-evaluation of a repository failed');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }
  return summary;
}

async function reevaluateOne(deps: ReevaluationDeps, delta: AdvisoryDelta, policy: Policy, inventory: InventoryRecord, touched: PackageRef[], summary: ReevaluationSummary): Promise<void> {
  const { clientKey, repoUuid, branch, commit } = inventory;
  const now = deps.now().toISOString();
  const touchedSet = new Set(touched);
  const untouched = inventory.packages.filter((p) => !touchedSet.has(p));
  const previous = await deps.results.getAdvisoryState(clientKey, repoUuid);
  const same = previous && previous.commit === commit && previous.branch === branch ? previous : undefined;
  const scan = await deps.results.getScan(clientKey, repoUuid, commit, 'branch');

  const before = matchPackages(deltaIndex(delta, 'before'), touched);
  const after = matchPackages(deltaIndex(delta, 'after'), touched);
  const onTouched = new Set(touched.map(packageKey));
  // The unchanged packages' findings: as last evaluated for this commit, else as the whole-branch
  // scan of this commit found them (with the repository's severity overrides and ignored
  // fingerprints applied), else from the database.
  const onUntouched = (f: StoredFinding): f is AdvisoryFinding & { kind: 'dependency' } =>
    f.kind === 'dependency' && !onTouched.has(packageKey({ ecosystem: f.ecosystem, name: f.package, version: f.version, path: f.path }));
  const kept: AdvisoryFinding[] = same
    ? same.findings.filter(onUntouched)
    : scan
      ? scan.findings.filter(onUntouched).map(({ triage: _t, ...f }) => f)
      : matchPackages(deps.vulnIndex, untouched).map((f) => ({ ...f, isNew: true }));

  const shownBefore = new Set([...before.map((f) => f.fingerprint), ...(same?.findings ?? []).map((f) => f.fingerprint)]);
  const earlier = new Map((same?.findings ?? []).map((f) => [f.fingerprint, f]));
  const appearedIds = new Set<string>();
  const changed: AdvisoryFinding[] = after.map((f) => {
    const mark = earlier.get(f.fingerprint);
    if (mark?.newAdvisory) return { ...f, isNew: true, newAdvisory: true, since: mark.since ?? now };
    if (shownBefore.has(f.fingerprint)) return { ...f, isNew: true };
    appearedIds.add(f.advisory);
    summary.appeared++;
    return { ...f, isNew: true, newAdvisory: true, since: now };
  });
  const findings = [...kept, ...changed];
  const present = new Set(findings.map((f) => f.fingerprint));
  const gone = before.filter((f) => !present.has(f.fingerprint));
  summary.fixed += gone.length;
  const fixed = [...(same?.fixed ?? []).filter((x) => !present.has(x.finding.fingerprint)), ...gone.map((f) => ({ finding: { ...f, isNew: true }, at: now }))].slice(-MAX_FIXED);

  const marks = new Map((await deps.results.listTriage(clientKey, repoUuid)).map((m) => [m.fingerprint, m]));
  const secrets = (scan?.findings ?? []).filter((f) => f.kind === 'secret');
  const verdictOf = (deps: readonly StoredFinding[]) => resultOf(policy, withTriage([...secrets, ...deps], marks));
  const from = same?.result ?? scan?.result ?? verdictOf([...kept, ...before.map((f) => ({ ...f, isNew: true }))]);
  const to = verdictOf(findings);
  const changes = [...(same?.changes ?? [])];
  if (from !== to) changes.push({ at: now, from, to, advisories: [...appearedIds, ...gone.map((f) => f.advisory)].sort(), publishedAt: null });

  const state: AdvisoryState = { clientKey, repoUuid, branch, commit, findings, fixed, result: to, changes: changes.slice(-MAX_CHANGES), dbVersion: deps.vulnIndex.version, updatedAt: now };
  await deps.results.putAdvisoryState(state);
  if (from === to) return;
  summary.verdictChanges++;
  const payload: MonitorPublishPayload = { repoUuid, commit };
  await deps.store.acceptDelivery(
    { id: `gatehouse:monitoring:${randomUUID()}`, clientKey, event: 'gatehouse:monitoring:verdict' },
    { clientKey, type: MONITOR_PUBLISH_JOB_TYPE, payload, group: monitorGroup(clientKey, repoUuid), supersedes: true },
  );
  deps.logger.info({ clientKey, repoUuid, branch, commit, from, to }, 'default branch verdict changed by an OSV update; its report and status will be updated');
}

/** The advisories of the changed packages only, before or after the update, as an index. */
function deltaIndex(delta: AdvisoryDelta, side: 'before' | 'after'): VulnIndex {
  return { version: side, ecosystems: ECOSYSTEMS, advisoriesFor: (e, name) => delta[side](e, name) };
}

const packageKey = (p: { ecosystem: Ecosystem; name: string; version: string; path: string }) => JSON.stringify([p.ecosystem, normalizePackageName(p.ecosystem, p.name), p.version, p.path]);

export function withTriage<T extends StoredFinding>(findings: readonly T[], marks: ReadonlyMap<string, TriageMark>): T[] {
  return findings.map((f) => {
    const m = marks.get(f.fingerprint);
    const { triage: _stale, ...rest } = f;
    return (m ? { ...rest, triage: { status: m.status, by: m.by, at: m.at, reason: m.reason } } : rest) as T;
  });
}
