import { SEVERITIES, type Severity } from '../../scan/types.ts';
import type { UiDataSource } from '../data-source.ts';
import { countBySeverity, severityLozenge, type Lozenge } from './findings.ts';

export interface RepositoryContext {
  clientKey: string;
  repoUuid: string;
  repoFullName: string;
  /** The repository's main branch as Bitbucket names it, or null when it has none yet. */
  mainBranch: string | null;
  /** Bitbucket could not be asked for the main branch: the panel says so instead of guessing. */
  bitbucketUnavailable?: boolean;
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
  /** Untriaged findings of the main branch's latest push scan, worst first; zero counts kept. */
  severities: { severity: Severity; lozenge: Lozenge; count: number }[];
  openTotal: number;
  triagedTotal: number;
  sbomAvailable: boolean;
}

export async function repositoryPanelModel(data: UiDataSource, ctx: RepositoryContext): Promise<RepositoryPanelModel> {
  const inventory = ctx.mainBranch ? await data.inventory(ctx.clientKey, ctx.repoUuid, ctx.mainBranch) : undefined;
  const [scan, marks] = inventory
    ? await Promise.all([data.pushScan(ctx.clientKey, ctx.repoUuid, inventory.commit), data.triageMarks(ctx.clientKey, ctx.repoUuid)])
    : [undefined, []];
  const triaged = new Set(marks.map((m) => m.fingerprint));
  const open = (scan?.findings ?? []).filter((f) => !triaged.has(f.fingerprint));
  const counts = countBySeverity(open);
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
    triagedTotal: (scan?.findings.length ?? 0) - open.length,
    sbomAvailable: inventory !== undefined && inventory.sbom !== '',
  };
}
