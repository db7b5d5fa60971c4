import type { CodeHostLinks } from '../../core/code-host.ts';
import { DEFAULT_POLICY } from '../../core/policy.ts';
import { atLeast, type Severity } from '../../scan/types.ts';
import type { Policy, ScanRecord, TriageMark } from '../../store/results-types.ts';
import type { UiDataSource } from '../data-source.ts';
import { findingView, groupBySeverity, severityLozenge, type FindingView, type Lozenge, type SeverityGroup } from './findings.ts';

export interface PullRequestContext {
  clientKey: string;
  /** The code host's pages, for finding links; null lists findings unlinked. */
  links: CodeHostLinks | null;
  repoUuid: string;
  repoFullName: string;
  prId: number;
  /** Short or full hash of the source commit the page was opened for, when Bitbucket said. */
  commit: string | null;
  sourceBranch: string | null;
  destinationBranch: string | null;
}

export type VerdictState = 'passed' | 'failed' | 'scanning' | 'not_scanned';

export interface Verdict {
  state: VerdictState;
  lozenge: Lozenge;
  title: string;
  /** The policy's reason, one sentence. */
  reason: string;
  /** Said when marks or settings changed after the scan, so the next scan will differ. */
  staleNote: string | null;
}

export interface PullRequestPanelModel {
  repoFullName: string;
  prId: number;
  sourceBranch: string | null;
  destinationBranch: string | null;
  commit: string | null;
  commitShort: string | null;
  verdict: Verdict;
  threshold: Severity;
  thresholdLabel: string;
  newGroups: SeverityGroup[];
  newCount: number;
  existing: FindingView[];
  scannedAt: string | null;
  durationMs: number | null;
  skipped: string[];
  notices: string[];
  canTriage: boolean;
  /** The page keeps asking for updates while true. */
  polling: boolean;
}

const STATE_LOZENGE: Record<VerdictState, Lozenge> = {
  passed: { text: 'Passed', appearance: 'success', bold: true },
  failed: { text: 'Failed', appearance: 'removed', bold: true },
  scanning: { text: 'Scanning', appearance: 'inprogress', bold: false },
  not_scanned: { text: 'Not scanned', appearance: 'default', bold: false },
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function verdictOf(scan: ScanRecord | undefined, pending: boolean, policy: Policy, marks: Map<string, TriageMark>): Verdict {
  const threshold = severityLozenge(policy.threshold).text.toLowerCase();
  if (!scan) {
    const state: VerdictState = pending ? 'scanning' : 'not_scanned';
    return {
      state,
      lozenge: STATE_LOZENGE[state],
      title: pending ? 'Scanning this commit' : 'Not scanned yet',
      reason: pending
        ? 'Gatehouse is checking the changes for secrets and vulnerable dependencies. This panel updates when it is done.'
        : 'Gatehouse scans a pull request when it is created or updated; results for this commit will appear here.',
      staleNote: null,
    };
  }
  const blocking = scan.findings.filter((f) => f.isNew && !marks.has(f.fingerprint) && atLeast(f.severity, policy.threshold)).length;
  const state: VerdictState = scan.result === 'FAILED' ? 'failed' : 'passed';
  const reason =
    state === 'failed'
      ? blocking > 0
        ? `Failed: ${plural(blocking, 'new finding')} at severity ${threshold} or above ${blocking === 1 ? 'is' : 'are'} not triaged (policy threshold: ${threshold}).`
        : 'Failed when scanned: new findings at or above the policy threshold were not triaged.'
      : `Passed: no untriaged new finding at severity ${threshold} or above (policy threshold: ${threshold}).`;
  let staleNote: string | null = null;
  if (state === 'failed' && blocking === 0) staleNote = 'Since this scan, the blocking findings were triaged or the policy changed: the next scan of this pull request will pass.';
  if (state === 'passed' && blocking > 0) staleNote = `Under the current policy ${plural(blocking, 'new finding')} would block: the next scan of this pull request will fail.`;
  return { state, lozenge: STATE_LOZENGE[state], title: state === 'failed' ? 'Security check failed' : 'Security check passed', reason, staleNote };
}

export async function pullRequestPanelModel(data: UiDataSource, ctx: PullRequestContext, canTriage: boolean): Promise<PullRequestPanelModel> {
  const [record, stored, marks] = await Promise.all([
    data.pullRequest(ctx.clientKey, ctx.repoUuid, ctx.prId),
    data.policy(ctx.clientKey),
    data.triageMarks(ctx.clientKey, ctx.repoUuid),
  ]);
  const policy = stored ?? DEFAULT_POLICY;
  const commit = ctx.commit ?? record?.publishedCommit ?? null;
  const scan = commit ? await data.pullRequestScan(ctx.clientKey, ctx.repoUuid, ctx.prId, commit) : undefined;
  const pending = scan ? false : await data.pullRequestPending(ctx.clientKey, ctx.repoUuid, ctx.prId);
  const markByPrint = new Map(marks.map((m) => [m.fingerprint, m]));
  const links = { host: ctx.links, repoFullName: ctx.repoFullName, commit: scan?.commit ?? commit ?? '' };
  const views = (scan?.findings ?? []).map((f, i) => ({ isNew: f.isNew, view: findingView(f, markByPrint.get(f.fingerprint), links, i) }));
  const fresh = views.filter((v) => v.isNew).map((v) => v.view);
  const existing = groupBySeverity(views.filter((v) => !v.isNew).map((v) => v.view)).flatMap((g) => g.findings);
  const verdict = verdictOf(scan, pending, policy, markByPrint);
  return {
    repoFullName: ctx.repoFullName,
    prId: ctx.prId,
    sourceBranch: ctx.sourceBranch ?? record?.sourceBranch ?? null,
    destinationBranch: ctx.destinationBranch ?? record?.destinationBranch ?? null,
    commit: scan?.commit ?? commit,
    commitShort: (scan?.commit ?? commit)?.slice(0, 12) ?? null,
    verdict,
    threshold: policy.threshold,
    thresholdLabel: severityLozenge(policy.threshold).text,
    newGroups: groupBySeverity(fresh),
    newCount: fresh.length,
    existing,
    scannedAt: scan?.createdAt ?? null,
    durationMs: scan?.durationMs ?? null,
    skipped: scan?.skipped ?? [],
    notices: scan?.notices ?? [],
    canTriage,
    polling: verdict.state === 'scanning' || verdict.state === 'not_scanned',
  };
}
