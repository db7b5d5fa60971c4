import { SEVERITIES, type Severity } from '../../scan/types.ts';
import type { RepositoryCoverage } from '../../store/coverage-types.ts';
import type { InventoryRecord, ScanRecord, StoredFinding } from '../../store/results-types.ts';
import type { UiDataSource } from '../data-source.ts';
import { compareFindings, countBySeverity, findingView, severityLozenge, type FindingView, type Lozenge } from './findings.ts';

export interface RepositoryContext {
  clientKey: string;
  repoUuid: string;
  repoFullName: string;
  /** The repository's main branch as Bitbucket names it, or null when it has none yet. */
  mainBranch: string | null;
  /** Bitbucket could not be asked for the main branch: the panel says so instead of guessing. */
  bitbucketUnavailable?: boolean;
  /** The installation's Bitbucket web origin, for links to the source view; without it findings are listed unlinked. */
  bitbucketBaseUrl?: string;
}

/** The findings the panel shows at once (worst first); the rest come a page at a time. */
export const PANEL_FINDINGS = 20;
export const FINDINGS_PAGE = 50;

export interface CoverageLine {
  status: RepositoryCoverage['status'];
  /** One sentence: where the backfill stands for this repository. */
  text: string;
  at: string;
}

export interface RepositoryPanelModel {
  bitbucketUnavailable: boolean;
  repoFullName: string;
  mainBranch: string | null;
  /** False until the main branch has been scanned once (its inventory exists). */
  scanned: boolean;
  commitShort: string | null;
  environment: string | null;
  components: number;
  dependencyFiles: number;
  lastScan: string | null;
  /** Untriaged findings of the main branch's scan, worst first; zero counts kept. */
  severities: { severity: Severity; lozenge: Lozenge; count: number }[];
  openTotal: number;
  triagedTotal: number;
  /** The worst PANEL_FINDINGS open findings; `moreTotal` more are fetched on request. */
  findings: FindingView[];
  moreTotal: number;
  pageSize: number;
  /** 'branch' when the whole tree was scanned (backfill), 'push' when only what a push changed. */
  scanKind: 'branch' | 'push' | null;
  sbomAvailable: boolean;
  coverage: CoverageLine | null;
}

/**
 * The main branch's scan: the whole-branch scan at the inventory's commit, else that
 * commit's push scan. The inventory names the newest commit of the main branch that
 * anything was built for, so both kinds are looked up there.
 */
async function mainBranchScan(data: UiDataSource, ctx: RepositoryContext, commit: string): Promise<ScanRecord | undefined> {
  return (await data.branchScan(ctx.clientKey, ctx.repoUuid, commit)) ?? (await data.pushScan(ctx.clientKey, ctx.repoUuid, commit));
}

/** The open (untriaged) findings of the main branch, worst first, and how many are triaged. */
export async function openFindings(data: UiDataSource, ctx: RepositoryContext, inventory: InventoryRecord): Promise<{ scan: ScanRecord | undefined; open: FindingView[]; triaged: number }> {
  const [scan, marks] = await Promise.all([mainBranchScan(data, ctx, inventory.commit), data.triageMarks(ctx.clientKey, ctx.repoUuid)]);
  const triaged = new Set(marks.map((m) => m.fingerprint));
  const links = { bitbucketBaseUrl: ctx.bitbucketBaseUrl ?? '', repoFullName: ctx.repoFullName, commit: scan?.commit ?? inventory.commit };
  const untriaged: StoredFinding[] = (scan?.findings ?? []).filter((f) => !triaged.has(f.fingerprint));
  const open = untriaged.map((f, i) => findingView(f, undefined, links, i)).sort(compareFindings);
  return { scan, open, triaged: (scan?.findings.length ?? 0) - open.length };
}

export async function repositoryPanelModel(data: UiDataSource, ctx: RepositoryContext): Promise<RepositoryPanelModel> {
  const inventory = ctx.mainBranch ? await data.inventory(ctx.clientKey, ctx.repoUuid, ctx.mainBranch) : undefined;
  const [listed, entry] = await Promise.all([inventory ? openFindings(data, ctx, inventory) : undefined, data.repositoryCoverage(ctx.clientKey, ctx.repoUuid)]);
  const open = listed?.open ?? [];
  const counts = countBySeverity(open);
  const scan = listed?.scan;
  return {
    bitbucketUnavailable: ctx.bitbucketUnavailable ?? false,
    repoFullName: ctx.repoFullName,
    mainBranch: ctx.mainBranch,
    scanned: inventory !== undefined,
    commitShort: inventory?.commit.slice(0, 12) ?? null,
    environment: inventory?.environment ?? null,
    components: inventory?.packages.length ?? 0,
    dependencyFiles: inventory ? Object.keys(inventory.files).length : 0,
    lastScan: scan?.createdAt ?? inventory?.updatedAt ?? null,
    severities: SEVERITIES.map((severity) => ({ severity, lozenge: severityLozenge(severity), count: counts[severity] })),
    openTotal: open.length,
    triagedTotal: listed?.triaged ?? 0,
    findings: open.slice(0, PANEL_FINDINGS),
    moreTotal: Math.max(0, open.length - PANEL_FINDINGS),
    pageSize: FINDINGS_PAGE,
    scanKind: scan ? (scan.kind === 'branch' ? 'branch' : 'push') : null,
    sbomAvailable: inventory !== undefined && inventory.sbom !== '',
    coverage: entry ? coverageLine(entry) : null,
  };
}

function coverageLine(entry: RepositoryCoverage): CoverageLine {
  const at = entry.updatedAt;
  switch (entry.status) {
    case 'scanned':
      return { status: 'scanned', at, text: `Whole branch scanned${entry.commit ? ` at ${entry.commit.slice(0, 12)}` : ''}: ${entry.files} files, ${entry.findings} open findings.` };
    case 'pending':
      return { status: 'pending', at, text: 'Waiting in the backfill: the whole branch will be scanned.' };
    case 'failed':
      return { status: 'failed', at, text: `The backfill could not scan this repository: ${entry.reason ?? 'no reason recorded'}.` };
    case 'skipped':
      return { status: 'skipped', at, text: `Skipped by the backfill: ${entry.reason ?? 'no reason recorded'}.` };
  }
}
