import { createHash } from 'node:crypto';
import type { Annotation, BuildStatus, CodeHost, RepoRef, Report, ReportDataItem } from './code-host.ts';
import { SEVERITY_RANK } from '../scan/types.ts';
import type { Policy, ScanRecord, StoredFinding } from '../store/results-types.ts';
import { inert } from './inert-text.ts';
import { isBlocking } from './policy.ts';

/**
 * What Gatehouse puts on a commit, and how, so that doing it again changes nothing:
 * the report id and the build-status key are fixed, each annotation's external_id is
 * derived from its finding, and the PR comment is found by its stored id or its marker
 * before one is created.
 */

export const REPORT_ID = 'gatehouse-security';
export const BUILD_STATUS_KEY = 'gatehouse-security';
export const COMMENT_MARKER = '<!-- gatehouse:pr-comment -->';
/** Both Bitbucket hosts keep at most this many annotations per report. */
export const MAX_ANNOTATIONS_PER_REPORT = 1_000;
/** The tighter of the hosts' limits (Cloud rejects longer annotation summaries). */
const MAX_ANNOTATION_SUMMARY_LENGTH = 450;
const MAX_DETAILS = 2_000;

/** A repository and the code host that serves it. */
export interface Target extends RepoRef {
  host: CodeHost;
}

export function annotationId(finding: Pick<StoredFinding, 'fingerprint' | 'line'>): string {
  return `gatehouse-${createHash('sha256').update(`${finding.fingerprint}\0${finding.line}`).digest('hex').slice(0, 40)}`;
}

/** Worst first, then what the change introduced, then by place; the cap keeps what matters. */
export function rankFindings(findings: readonly StoredFinding[]): StoredFinding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      Number(b.isNew) - Number(a.isNew) ||
      a.path.localeCompare(b.path) ||
      a.line - b.line,
  );
}

/** Said in a pull request's report and comment when it changes the repository configuration. */
export function configChangeNote(paths: readonly string[]): string {
  return `This pull request changes ${paths.join(', ')}. It was scanned with the configuration of its destination branch; its changes take effect once merged.`;
}

export function buildReport(scan: ScanRecord, policy: Policy, link: string, what: string): Report {
  const c = scan.counts;
  const data: ReportDataItem[] = [
    { title: 'Critical', type: 'NUMBER', value: c.critical },
    { title: 'High', type: 'NUMBER', value: c.high },
    { title: 'Medium', type: 'NUMBER', value: c.medium },
    { title: 'Low', type: 'NUMBER', value: c.low },
    { title: 'New findings', type: 'NUMBER', value: c.new },
    { title: 'Existing findings', type: 'NUMBER', value: c.existing },
    { title: 'Triaged', type: 'NUMBER', value: c.triaged },
    { title: 'Scan duration', type: 'DURATION', value: scan.durationMs },
    { title: 'Fails on', type: 'TEXT', value: `new findings of ${policy.threshold} or above` },
    { title: 'Details', type: 'LINK', value: { text: what, href: link } },
  ];
  const lines = [
    scan.result === 'FAILED'
      ? `${c.new} new finding(s); at least one is ${policy.threshold} or worse and not triaged.`
      : c.new + c.existing === 0
        ? 'No secrets or vulnerable dependencies found.'
        : `No new finding at ${policy.threshold} or above that is not triaged.`,
    ...(scan.configChanges ? [configChangeNote(scan.configChanges)] : []),
    ...scan.skipped.map((s) => `Not scanned: ${s}.`),
    ...scan.notices,
  ];
  return {
    title: 'Gatehouse security',
    // Skip notes and notices quote file names and the repository's configuration.
    details: truncate(inert(lines.join('\n')), MAX_DETAILS),
    result: scan.result,
    reporter: 'Gatehouse',
    link,
    data,
  };
}

export function buildAnnotations(findings: readonly StoredFinding[], policy: Policy): Annotation[] {
  return rankFindings(findings)
    .slice(0, MAX_ANNOTATIONS_PER_REPORT)
    .map((f) => {
      const origin = f.isNew ? 'Introduced by this change.' : 'Already present before this change.';
      const triage = f.triage ? ` Marked ${f.triage.status.replace('_', ' ')} by ${f.triage.by} on ${f.triage.at.slice(0, 10)}: ${f.triage.reason}` : '';
      const annotation: Annotation = {
        externalId: annotationId(f),
        // Descriptions, paths and package names are the repository's text: made inert.
        title: inert(f.kind === 'secret' ? `Secret: ${f.description}` : `${f.package} ${f.version}: ${f.advisory}`),
        summary: truncate(
          inert(f.kind === 'secret' ? `${f.description} (${f.preview}) committed in ${f.path}. Revoke it and remove it from history.` : f.message),
          MAX_ANNOTATION_SUMMARY_LENGTH,
        ),
        details: truncate(inert(`${origin}${triage}${f.kind === 'dependency' && f.fixedVersion ? ` Fixed in ${f.fixedVersion}.` : ''}`), MAX_DETAILS),
        severity: f.severity,
        result: f.triage ? 'IGNORED' : isBlocking(policy, f) ? 'FAILED' : 'PASSED',
        path: f.path,
        ...(f.line >= 1 ? { line: f.line } : {}),
        ...(f.kind === 'dependency' && f.url ? { link: f.url } : {}),
      };
      return annotation;
    });
}

/**
 * Puts the report and exactly these annotations on `commit`: annotations published there
 * before and no longer present (a finding fixed or triaged since) are removed.
 */
export async function publishReport(
  target: Target,
  commit: string,
  report: Report,
  annotations: readonly Annotation[],
  previouslyPublished: ReadonlySet<string>,
  reportId: string = REPORT_ID,
): Promise<void> {
  await target.host.publishReport(target, commit, { key: reportId, report, annotations, previouslyPublished });
}

export async function postStatus(target: Target, commit: string, status: Omit<BuildStatus, 'key' | 'name'> & { key?: string }): Promise<void> {
  await target.host.setBuildStatus(target, commit, {
    name: 'Gatehouse security',
    ...status,
    key: status.key ?? BUILD_STATUS_KEY,
    ...(status.description ? { description: truncate(status.description, 250) } : {}),
  });
}

/**
 * Edits the pull request's one Gatehouse comment, or creates it. The stored id is tried
 * first; without one (or if it was deleted) the comments are searched for the marker,
 * because a create that failed with a 5xx or a crash may still have landed. Returns its id.
 */
export async function upsertComment(target: Target, prId: number, knownId: number | null, markdown: string): Promise<number> {
  const { host } = target;
  const text = `${markdown}\n\n${COMMENT_MARKER}`;
  if (knownId !== null && (await host.editComment(target, prId, knownId, text))) return knownId;
  for await (const comment of host.listComments(target, prId)) {
    if (comment.text.includes(COMMENT_MARKER) && (await host.editComment(target, prId, comment.id, text))) return comment.id;
  }
  return host.createComment(target, prId, text);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
