import type { RepositoryCoverage, RepositoryRecord } from '../../store/coverage-types.ts';
import type { AdvisoryFinding, InventoryRecord, ResultsStore, TriageMark } from '../../store/results-types.ts';
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
 * - Triage is today's: a mark made after the scan counts.
 */

export interface BranchFinding {
  finding: AdvisoryFinding;
  commit: string;
  state: FindingState;
  fixedAt: string | null;
  triage: Pick<TriageMark, 'status' | 'by' | 'at' | 'reason'> | null;
}

export interface DefaultBranch {
  branch: string;
  verdict: Verdict | null;
  findings: BranchFinding[];
  inventory: InventoryRecord | undefined;
}

type Reader = Pick<ResultsStore, 'getScan' | 'getInventory' | 'getAdvisoryState'>;

export async function defaultBranchOf(
  results: Reader,
  repo: RepositoryRecord,
  coverage: RepositoryCoverage | undefined,
  triage: ReadonlyMap<string, TriageMark>,
): Promise<DefaultBranch | null> {
  if (repo.mainBranch === null || repo.deletedAt !== null) return null;
  const [scan, inventory, advisory] = await Promise.all([
    coverage?.commit ? results.getScan(repo.clientKey, repo.uuid, coverage.commit, 'branch') : Promise.resolve(undefined),
    results.getInventory(repo.clientKey, repo.uuid, repo.mainBranch),
    results.getAdvisoryState(repo.clientKey, repo.uuid),
  ]);
  const current = advisory && inventory && advisory.commit === inventory.commit && advisory.branch === repo.mainBranch ? advisory : undefined;
  const out: BranchFinding[] = [];
  const mark = (finding: AdvisoryFinding, commit: string, fixedAt: string | null): BranchFinding => {
    const t = triage.get(finding.fingerprint);
    const triaged = t ? { status: t.status, by: t.by, at: t.at, reason: t.reason } : null;
    return { finding, commit, fixedAt, triage: triaged, state: fixedAt !== null ? 'fixed' : triaged ? 'triaged' : 'open' };
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
  out.sort((a, b) => a.finding.fingerprint.localeCompare(b.finding.fingerprint));
  return { branch: repo.mainBranch, verdict: current?.result ?? scan?.result ?? null, findings: dedupe(out), inventory };
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
