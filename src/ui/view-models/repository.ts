import type { CodeHostLinks } from '../../core/code-host.ts';
import { SEVERITIES, type Severity } from '../../scan/types.ts';
import type { RepositoryCoverage } from '../../store/coverage-types.ts';
import type { AdvisoryFinding, InventoryRecord, ScanRecord } from '../../store/results-types.ts';
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
  /** The code host's pages, for links to the source view; without them findings are listed unlinked. */
  links?: CodeHostLinks;
}

/** The findings the panel shows at once (worst first); the rest come a page at a time. */
export const PANEL_FINDINGS = 20;
export const FINDINGS_PAGE = 50;
/** Where a "show more" request may start: far past any real list, so a caller cannot ask for absurd numbers. */
export const MAX_FINDINGS_OFFSET = 1_000_000;

/** One "show more" page: the findings after the offset asked for, and where the next page starts. */
export interface FindingsPage {
  findings: FindingView[];
  offset: number;
  remaining: number;
  pageSize: number;
}

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
 * The main branch's scan: the whole-branch scan at the inventory's commit (the inventory
 * names the newest commit of the main branch anything was built for), else the backfill's
 * last whole-branch scan, else the push scan at the inventory's commit.
 */
async function mainBranchScan(data: UiDataSource, ctx: RepositoryContext, commit: string, entry: RepositoryCoverage | undefined): Promise<ScanRecord | undefined> {
  return (
    (await data.branchScan(ctx.clientKey, ctx.repoUuid, commit)) ??
    (entry?.commit && entry.commit !== commit ? await data.branchScan(ctx.clientKey, ctx.repoUuid, entry.commit) : undefined) ??
    (await data.pushScan(ctx.clientKey, ctx.repoUuid, commit))
  );
}

/**
 * The open (untriaged) findings of the main branch, worst first, and how many are triaged.
 * Dependency findings come from advisory monitoring's re-evaluation when it is of the
 * inventory's commit (it knows advisories published since the scan, and marks them "new
 * advisory"), as the inventory export counts them (core/inventory/default-branch.ts); secrets
 * from the scan. Each links to the source at the commit it was found at.
 */
export async function openFindings(
  data: UiDataSource,
  ctx: RepositoryContext,
  inventory: InventoryRecord,
  entry?: RepositoryCoverage,
): Promise<{ scan: ScanRecord | undefined; open: FindingView[]; triaged: number }> {
  const [scan, marks, advisory] = await Promise.all([
    mainBranchScan(data, ctx, inventory.commit, entry),
    data.triageMarks(ctx.clientKey, ctx.repoUuid),
    data.advisoryState(ctx.clientKey, ctx.repoUuid),
  ]);
  const current = advisory && advisory.commit === inventory.commit && advisory.branch === ctx.mainBranch ? advisory : undefined;
  const found: { finding: AdvisoryFinding; commit: string }[] = [];
  for (const f of scan?.findings ?? []) if (!current || f.kind === 'secret') found.push({ finding: f, commit: scan!.commit });
  for (const f of current?.findings ?? []) found.push({ finding: f, commit: current!.commit });
  const triaged = new Set(marks.map((m) => m.fingerprint));
  const link = (commit: string) => ({ host: ctx.links ?? null, repoFullName: ctx.repoFullName, commit });
  const open = found
    .filter(({ finding }) => !triaged.has(finding.fingerprint))
    .map(({ finding, commit }, i) => findingView(finding, undefined, link(commit), i))
    .sort(compareFindings);
  return { scan, open, triaged: found.length - open.length };
}

/**
 * The open findings after `offset` (FINDINGS_PAGE of them), for the Connect and Forge panels'
 * "show more"; undefined when the main branch has no inventory yet.
 */
export async function openFindingsPage(data: UiDataSource, ctx: RepositoryContext, offset: number): Promise<FindingsPage | undefined> {
  const inventory = ctx.mainBranch ? await data.inventory(ctx.clientKey, ctx.repoUuid, ctx.mainBranch) : undefined;
  if (!inventory) return undefined;
  const { open } = await openFindings(data, ctx, inventory, await data.repositoryCoverage(ctx.clientKey, ctx.repoUuid));
  const findings = open.slice(offset, offset + FINDINGS_PAGE);
  const next = offset + findings.length;
  return { findings, offset: next, remaining: Math.max(0, open.length - next), pageSize: FINDINGS_PAGE };
}

export async function repositoryPanelModel(data: UiDataSource, ctx: RepositoryContext): Promise<RepositoryPanelModel> {
  const inventory = ctx.mainBranch ? await data.inventory(ctx.clientKey, ctx.repoUuid, ctx.mainBranch) : undefined;
  const entry = await data.repositoryCoverage(ctx.clientKey, ctx.repoUuid);
  const listed = inventory ? await openFindings(data, ctx, inventory, entry) : undefined;
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
