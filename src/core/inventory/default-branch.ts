import type { RepositoryCoverage, RepositoryRecord } from '../../store/coverage-types.ts';
import type { AdvisoryFinding, InventoryRecord, ResultsStore, ScanRecord, ScanSummary, TriageMark } from '../../store/results-types.ts';
import type { FindingState, Verdict } from './model.ts';

/**
 * What a repository's default branch has, put together from what the store keeps: the
 * whole-branch scan the backfill made (secrets and dependencies at the scanned head), the
 * default branch's current dependency inventory (moved forward by every push), and
 * advisory monitoring's re-evaluation of that inventory after OSV refreshes.
 *
 * - Secret findings come from the whole-branch scan.
 * - Dependency findings come from the re-evaluation when it is of the inventory's current
 *   commit, else from the whole-branch scan; a scanned dependency finding whose package
 *   version the current inventory no longer has is fixed (a push upgraded or removed it).
 * - Secrets a history scan found in the branch's history (its newest `history` scan) are
 *   marked with the commit that added them; one no longer at the scanned head is an
 *   "in history" finding of its own (the secret stays in git history until it is revoked).
 * - Triage is today's: a mark made after the scan counts.
 */

export interface BranchFinding {
  finding: AdvisoryFinding;
  commit: string;
  state: FindingState;
  fixedAt: string | null;
  triage: Pick<TriageMark, 'status' | 'by' | 'at' | 'reason'> | null;
  /** The commit that added it and its author date, when a history scan found it. */
  history: { commit: string; authorDate: string } | null;
  /** Found only in the branch's history, not at the scanned head. */
  inHistory: boolean;
}

export interface DefaultBranch {
  branch: string;
  verdict: Verdict | null;
  findings: BranchFinding[];
  inventory: InventoryRecord | undefined;
}

type Reader = Pick<ResultsStore, 'getScan' | 'listScans' | 'getInventory' | 'getAdvisoryState'>;

export async function defaultBranchOf(
  results: Reader,
  repo: RepositoryRecord,
  coverage: RepositoryCoverage | undefined,
  triage: ReadonlyMap<string, TriageMark>,
): Promise<DefaultBranch | null> {
  if (repo.mainBranch === null || repo.deletedAt !== null) return null;
  const [scan, inventory, advisory, history] = await Promise.all([
    coverage?.commit ? results.getScan(repo.clientKey, repo.uuid, coverage.commit, 'branch') : Promise.resolve(undefined),
    results.getInventory(repo.clientKey, repo.uuid, repo.mainBranch),
    results.getAdvisoryState(repo.clientKey, repo.uuid),
    latestHistoryScan(results, repo),
  ]);
  const current = advisory && inventory && advisory.commit === inventory.commit && advisory.branch === repo.mainBranch ? advisory : undefined;
  const out: BranchFinding[] = [];
  const mark = (finding: AdvisoryFinding, commit: string, fixedAt: string | null): BranchFinding => {
    const t = triage.get(finding.fingerprint);
    const triaged = t ? { status: t.status, by: t.by, at: t.at, reason: t.reason } : null;
    return { finding, commit, fixedAt, triage: triaged, state: fixedAt !== null ? 'fixed' : triaged ? 'triaged' : 'open', history: null, inHistory: false };
  };
  if (scan) for (const f of scan.findings) if (f.kind === 'secret') out.push(mark(f, scan.commit, null));
  if (current) {
    for (const f of current.findings) out.push(mark(f, current.commit, null));
    for (const { finding, at } of current.fixed) out.push(mark(finding, current.commit, at));
  } else if (scan) {
    const present = inventory && inventory.commit !== scan.commit ? new Set(inventory.packages.map(packageKey)) : null;
    for (const f of scan.findings) {
      if (f.kind !== 'dependency') continue;
      const gone = present !== null && !present.has(packageKey({ ecosystem: f.ecosystem, name: f.package, version: f.version, path: f.path }));
      out.push(mark(f, scan.commit, gone ? inventory!.updatedAt : null));
    }
  }
  const atHead = new Map(out.filter((item) => item.finding.kind === 'secret').map((item) => [item.finding.fingerprint, item]));
  for (const f of history?.findings ?? []) {
    if (f.kind !== 'secret' || !f.history) continue;
    const added = { commit: f.history.commit, authorDate: f.history.authorDate };
    const present = atHead.get(f.fingerprint);
    if (present) present.history = added;
    else out.push({ ...mark(f, added.commit, null), history: added, inHistory: true });
  }
  out.sort((a, b) => a.finding.fingerprint.localeCompare(b.finding.fingerprint));
  return { branch: repo.mainBranch, verdict: current?.result ?? scan?.result ?? null, findings: dedupe(out), inventory };
}

/** The repository's newest history scan (a newer one replaces an older within the grace period). */
async function latestHistoryScan(results: Reader, repo: RepositoryRecord): Promise<ScanRecord | undefined> {
  const newest = (await results.listScans(repo.clientKey, repo.uuid))
    .filter((s) => s.kind === 'history' && s.commit !== '')
    .reduce<ScanSummary | undefined>((best, s) => (!best || s.createdAt > best.createdAt ? s : best), undefined);
  return newest && results.getScan(repo.clientKey, repo.uuid, newest.commit, 'history');
}

const packageKey = (p: { ecosystem: string; name: string; version: string; path: string }) => JSON.stringify([p.ecosystem, p.name, p.version, p.path]);

/** A fingerprint once: an open finding wins over a fixed record of the same one (it came back). */
function dedupe(sorted: BranchFinding[]): BranchFinding[] {
  const out: BranchFinding[] = [];
  for (const item of sorted) {
    const last = out[out.length - 1];
    if (last?.finding.fingerprint !== item.finding.fingerprint) out.push(item);
    else if (last.state === 'fixed' && item.state !== 'fixed') out[out.length - 1] = item;
  }
  return out;
}
