import { BUILD_STATUS_KEY, REPORT_ID } from '../../core/publish.ts';
import { DemoTimeoutError } from '../demo-results.ts';
import type { LocalDatacenter } from './local-datacenter.ts';
import type { DcBuildStatus, DcComment, DcReport } from './model.ts';

/** What the app published on a Data Center pull request's head: report, build status, the comment. */
export interface DcPublished {
  commit: string;
  report: DcReport;
  build: DcBuildStatus;
  /** A copy: the instance edits its own in place. */
  comment: DcComment;
  comments: number;
}

const POLL_MS = 100;

function collect(dc: LocalDatacenter, fullName: string, id: number): { found?: DcPublished; missing: string[] } {
  const pr = dc.pullRequest(fullName, id);
  const commit = pr.fromHash;
  const report = dc.report(fullName, commit, REPORT_ID);
  const build = dc.build(fullName, commit, BUILD_STATUS_KEY);
  const comment = pr.comments.at(-1);
  const missing: string[] = [];
  if (!report) missing.push(`a Code Insights report on ${commit.slice(0, 12)}`);
  else if (report.body.result === undefined) missing.push('the report\'s result');
  if (!build) missing.push(`a build status on ${commit.slice(0, 12)}`);
  else if (build.body.state === 'INPROGRESS') missing.push('a final build status (still INPROGRESS)');
  if (!comment) missing.push(`a comment on pull request #${id}`);
  else if (!comment.text.includes(commit.slice(0, 12))) missing.push(`the comment updated for ${commit.slice(0, 12)}`);
  if (missing.length > 0) return { missing };
  return { found: { commit, report: report!, build: build!, comment: { ...comment! }, comments: pr.comments.length }, missing };
}

/** Waits for the final report, build status and comment of the pull request's current head. */
export async function waitForDatacenterResults(dc: LocalDatacenter, fullName: string, id: number, timeoutMs: number, moreHints: () => string[] = () => []): Promise<DcPublished> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { found, missing } = collect(dc, fullName, id);
    if (found) return found;
    if (Date.now() >= deadline) throw new DemoTimeoutError(missing, [...moreHints(), ...diagnose(dc)]);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function diagnose(dc: LocalDatacenter): string[] {
  const hints: string[] = [];
  for (const d of dc.deliveries) if (d.status === null || d.status >= 300) hints.push(`webhook ${d.eventKey} was not accepted: ${d.status ?? d.error}`);
  for (const v of dc.violations) hints.push(`${v.side === 'request' ? 'API violation' : 'simulator answer off the description'}: ${v.method} ${v.url}: ${v.reason}`);
  if (hints.length === 0) hints.push('every webhook was accepted and no call was refused; the job may still be running, waiting or failed (LOG_LEVEL=info shows it)');
  return hints;
}
