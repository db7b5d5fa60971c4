import { createHash } from 'node:crypto';
import type { BitbucketClient } from '../bitbucket/client.ts';
import { MAX_ANNOTATION_SUMMARY_LENGTH, MAX_ANNOTATIONS_PER_REQUEST } from '../bitbucket/client.ts';
import { BitbucketApiError } from '../bitbucket/errors.ts';
import type { AnnotationInput, BuildStatusInput, ReportDataInput, ReportInput } from '../bitbucket/types.ts';
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
/** Bitbucket keeps at most this many annotations per report. */
export const MAX_ANNOTATIONS_PER_REPORT = 1_000;
const MAX_DETAILS = 2_000;

export interface Target {
  client: BitbucketClient;
  workspace: string;
  slug: string;
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

export function buildReport(scan: ScanRecord, policy: Policy, link: string, what: string): ReportInput {
  const c = scan.counts;
  const data: ReportDataInput[] = [
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
    report_type: 'SECURITY',
    result: scan.result,
    reporter: 'Gatehouse',
    link,
    data,
  };
}

export function buildAnnotations(findings: readonly StoredFinding[], policy: Policy): AnnotationInput[] {
  return rankFindings(findings)
    .slice(0, MAX_ANNOTATIONS_PER_REPORT)
    .map((f) => {
      const origin = f.isNew ? 'Introduced by this change.' : 'Already present before this change.';
      const triage = f.triage ? ` Marked ${f.triage.status.replace('_', ' ')} by ${f.triage.by} on ${f.triage.at.slice(0, 10)}: ${f.triage.reason}` : '';
      const annotation: AnnotationInput = {
        external_id: annotationId(f),
        annotation_type: 'VULNERABILITY',
        // Descriptions, paths and package names are the repository's text: made inert.
        title: inert(f.kind === 'secret' ? `Secret: ${f.description}` : `${f.package} ${f.version}: ${f.advisory}`),
        summary: truncate(
          inert(f.kind === 'secret' ? `${f.description} (${f.preview}) committed in ${f.path}. Revoke it and remove it from history.` : f.message),
          MAX_ANNOTATION_SUMMARY_LENGTH,
        ),
        details: truncate(inert(`${origin}${triage}${f.kind === 'dependency' && f.fixedVersion ? ` Fixed in ${f.fixedVersion}.` : ''}`), MAX_DETAILS),
        severity: f.severity.toUpperCase() as AnnotationInput['severity'],
        result: f.triage ? 'IGNORED' : isBlocking(policy, f) ? 'FAILED' : 'PASSED',
        path: f.path,
        ...(f.line >= 1 ? { line: f.line } : {}),
        ...(f.kind === 'dependency' && f.url ? { link: f.url } : {}),
      };
      return annotation;
    });
}

/**
 * Puts the report and its annotations on `commit`. A report that already carries
 * annotations this publication no longer has (a finding fixed or triaged since a previous
 * attempt on the same commit) is deleted first, because annotations outlive a report PUT.
 */
export async function publishReport(
  target: Target,
  commit: string,
  report: ReportInput,
  annotations: readonly AnnotationInput[],
  previouslyPublished: ReadonlySet<string>,
  reportId: string = REPORT_ID,
): Promise<void> {
  const { client, workspace, slug } = target;
  const current = new Set(annotations.map((a) => a.external_id));
  if ([...previouslyPublished].some((id) => !current.has(id))) await client.deleteReport(workspace, slug, commit, reportId);
  await client.putReport(workspace, slug, commit, reportId, report);
  for (let i = 0; i < annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) {
    await client.postAnnotations(workspace, slug, commit, reportId, annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  }
}

export async function postStatus(target: Target, commit: string, status: Omit<BuildStatusInput, 'key'> & { key?: string }): Promise<void> {
  await target.client.postBuildStatus(target.workspace, target.slug, commit, {
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
  const { client, workspace, slug } = target;
  const raw = `${markdown}\n\n${COMMENT_MARKER}`;
  if (knownId !== null) {
    try {
      return (await client.updatePullRequestComment(workspace, slug, prId, knownId, { raw })).id ?? knownId;
    } catch (error) {
      if (!(error instanceof BitbucketApiError && error.status === 404)) throw error;
    }
  }
  for await (const comment of client.listPullRequestComments(workspace, slug, prId)) {
    if (comment.id !== undefined && !comment.deleted && comment.content?.raw?.includes(COMMENT_MARKER)) {
      return (await client.updatePullRequestComment(workspace, slug, prId, comment.id, { raw })).id ?? comment.id;
    }
  }
  const created = await client.createPullRequestComment(workspace, slug, prId, { raw });
  if (created.id === undefined) throw new Error('Bitbucket created the comment but did not return its id');
  return created.id;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
