import { createHash } from 'node:crypto';
import { SEVERITY_RANK, atLeast, type Finding, type Severity } from '../../scan/types.ts';

/** Bitbucket's limits (BITBUCKET.md): 100 annotations per request, 1,000 per report, 450-character summaries. */
const ANNOTATIONS_PER_REQUEST = 100;
const ANNOTATIONS_PER_REPORT = 1_000;
const SUMMARY_CHARACTERS = 450;
const DETAILS_CHARACTERS = 2_000;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface InsightsReport {
  report: Record<string, unknown>;
  /** Requests of at most 100 annotations each. */
  annotationBatches: Record<string, unknown>[][];
}

/**
 * The Code Insights report a pipeline step publishes for its commit: counts per severity,
 * FAILED when a finding is at or above `failOn`, and one annotation per finding (worst
 * first, capped at Bitbucket's 1,000) carrying the masked preview, never the secret.
 */
export function insightsReport(findings: readonly Finding[], notices: readonly string[], failOn: Severity, what: string): InsightsReport {
  const count = (severity: Severity) => findings.filter((f) => f.severity === severity).length;
  const failing = findings.filter((f) => atLeast(f.severity, failOn)).length;
  const summary =
    findings.length === 0
      ? `No secrets or vulnerable dependencies found in ${what}.`
      : `${findings.length} finding(s) in ${what}; ${failing} at ${failOn} or above.`;
  const report = {
    title: 'Gatehouse security',
    details: truncate([summary, ...notices].join('\n'), DETAILS_CHARACTERS),
    report_type: 'SECURITY',
    reporter: 'Gatehouse',
    result: failing > 0 ? 'FAILED' : 'PASSED',
    data: [
      { title: 'Critical', type: 'NUMBER', value: count('critical') },
      { title: 'High', type: 'NUMBER', value: count('high') },
      { title: 'Medium', type: 'NUMBER', value: count('medium') },
      { title: 'Low', type: 'NUMBER', value: count('low') },
      { title: 'Fails on', type: 'TEXT', value: `${failOn} or above` },
    ],
  };
  const ranked = [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.path.localeCompare(b.path) || a.line - b.line);
  const annotations = ranked.slice(0, ANNOTATIONS_PER_REPORT).map((f) => ({
    // Derived from the finding, so publishing the same commit again replaces rather than adds.
    external_id: `gatehouse-${createHash('sha256').update(`${f.fingerprint}\0${f.line}`).digest('hex').slice(0, 40)}`,
    annotation_type: 'VULNERABILITY',
    title: f.kind === 'secret' ? `Secret: ${f.description}` : `${f.package} ${f.version}: ${f.advisory}`,
    summary: truncate(f.kind === 'secret' ? `${f.description} (${f.preview}) in ${f.path}. Revoke it and remove it from history.` : f.message, SUMMARY_CHARACTERS),
    ...(f.kind === 'dependency' && f.fixedVersion ? { details: `Fixed in ${f.fixedVersion}.` } : {}),
    severity: f.severity.toUpperCase(),
    result: atLeast(f.severity, failOn) ? 'FAILED' : 'PASSED',
    path: f.path,
    ...(f.line >= 1 ? { line: f.line } : {}),
  }));
  const annotationBatches: Record<string, unknown>[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) annotationBatches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  return { report, annotationBatches };
}
