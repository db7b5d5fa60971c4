import type { CodeHostLinks } from '../../core/code-host.ts';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../../scan/types.ts';
import type { StoredFinding, TriageMark, TriageStatus } from '../../store/results-types.ts';

/**
 * How a finding looks on a page. Only plain strings leave here; the template escapes them.
 * URLs are the exception to "escaping is enough": an advisory's `url` could be
 * `javascript:…`, which escapes to itself, so every link is checked to be http(s) here.
 */

/** Atlassian lozenge appearances (bold = filled). */
export type LozengeAppearance = 'default' | 'success' | 'removed' | 'inprogress' | 'new' | 'moved';
export interface Lozenge {
  text: string;
  appearance: LozengeAppearance;
  bold: boolean;
}

const SEVERITY_LOZENGE: Record<Severity, Lozenge> = {
  critical: { text: 'Critical', appearance: 'removed', bold: true },
  high: { text: 'High', appearance: 'removed', bold: false },
  medium: { text: 'Medium', appearance: 'moved', bold: false },
  low: { text: 'Low', appearance: 'default', bold: false },
};

export function severityLozenge(severity: Severity): Lozenge {
  return SEVERITY_LOZENGE[severity];
}

export const TRIAGE_LABEL: Record<TriageStatus, string> = { ignored: 'Ignored', false_positive: 'False positive' };

export interface FindingView {
  /** Unique on the page: one fingerprint can occur twice (the same secret twice in a file). */
  domId: string;
  fingerprint: string;
  kind: 'secret' | 'dependency';
  severity: Severity;
  lozenge: Lozenge;
  /** Secret: the rule's description; dependency: `package@version`. */
  title: string;
  path: string;
  line: number;
  /** Bitbucket's source view at the scanned commit, or null when it cannot be built. */
  sourceHref: string | null;
  /** Masked secret preview. */
  preview: string | null;
  ruleId: string;
  advisory: { id: string; href: string | null; summary: string; fixedVersion: string | null } | null;
  triage: { status: TriageStatus; label: string; reason: string; by: string; at: string } | null;
  /** Appeared because the vulnerability database changed, not because of a push (advisory monitoring), and since when. */
  newAdvisory: { since: string | null } | null;
}

export interface LinkContext {
  /** The code host's pages (Cloud's or a Data Center instance's); null when its web address is not known. */
  host: CodeHostLinks | null;
  /** `workspace/slug` (Cloud) or `PROJECT/slug` (Data Center). */
  repoFullName: string;
  commit: string;
}

/** Only absolute http(s) URLs become links; anything else (javascript:, data:, relative) is dropped. */
export function safeHref(url: string | undefined | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The code host's source view of the line at the scanned commit; null without a host, a full repository name or a commit hash. */
export function sourceLink(ctx: LinkContext, path: string, line: number): string | null {
  const [workspace, slug, ...rest] = ctx.repoFullName.split('/');
  if (!ctx.host || !workspace || !slug || rest.length > 0 || !/^[0-9a-f]{7,40}$/.test(ctx.commit)) return null;
  return safeHref(ctx.host.sourceUrl({ workspace, slug }, ctx.commit, path, line));
}

export function advisoryHref(id: string, url: string | undefined): string | null {
  return safeHref(url) ?? (/^[A-Za-z0-9-]{3,64}$/.test(id) ? `https://osv.dev/vulnerability/${encodeURIComponent(id)}` : null);
}

/** The current triage mark wins over the one recorded at scan time: marks change after scans. */
export function findingView(finding: StoredFinding & { newAdvisory?: true; since?: string }, mark: TriageMark | undefined, links: LinkContext, index: number): FindingView {
  return {
    domId: `gh-f${index}`,
    fingerprint: finding.fingerprint,
    kind: finding.kind,
    severity: finding.severity,
    lozenge: severityLozenge(finding.severity),
    title: finding.kind === 'secret' ? finding.description || finding.ruleId : `${finding.package}@${finding.version}`,
    path: finding.path,
    line: finding.line,
    sourceHref: sourceLink(links, finding.path, finding.line),
    preview: finding.kind === 'secret' ? finding.preview : null,
    ruleId: finding.ruleId,
    advisory:
      finding.kind === 'dependency'
        ? { id: finding.advisory, href: advisoryHref(finding.advisory, finding.url), summary: finding.summary, fixedVersion: finding.fixedVersion ?? null }
        : null,
    triage: mark ? { status: mark.status, label: TRIAGE_LABEL[mark.status], reason: mark.reason, by: mark.by, at: mark.at } : null,
    newAdvisory: finding.newAdvisory === true ? { since: finding.since ?? null } : null,
  };
}

/** Worst first; secrets before packages at the same severity; then by place. */
export function compareFindings(a: FindingView, b: FindingView): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    (a.kind === b.kind ? 0 : a.kind === 'secret' ? -1 : 1) ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
    a.line - b.line
  );
}

export interface SeverityGroup {
  severity: Severity;
  lozenge: Lozenge;
  findings: FindingView[];
}

export function groupBySeverity(findings: FindingView[]): SeverityGroup[] {
  return SEVERITIES.map((severity) => ({
    severity,
    lozenge: severityLozenge(severity),
    findings: findings.filter((f) => f.severity === severity).sort(compareFindings),
  })).filter((g) => g.findings.length > 0);
}

export function countBySeverity(findings: { severity: Severity }[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
