import { BUILD_STATUS_KEY, REPORT_ID } from '../core/publish.ts';
import type { BuildStatus, PullRequestComment, Report } from './model.ts';
import type { Simulator } from './simulator.ts';

/**
 * What a demo waits for and prints, shared by `npm run demo` (Connect) and its `--forge`
 * variant: the pull request head's final Code Insights report, build status and comment.
 */

const POLL_MS = 100;

export interface Published {
  commit: string;
  report: Report;
  buildStatus: BuildStatus;
  comment: PullRequestComment;
}

/** The app did not publish everything in time; `missing` says what is absent. */
export class DemoTimeoutError extends Error {
  override name = 'DemoTimeoutError';
  constructor(readonly missing: string[], readonly hints: string[]) {
    super(`gave up waiting for: ${missing.join('; ')}`);
  }
}

/** What the app has published so far on the pull request's head commit, and what is still missing. */
function collect(sim: Simulator, repository: string, id: number): { found: Partial<Published>; missing: string[] } {
  const repo = sim.repository(repository);
  const pr = sim.pullRequest(repository, id);
  const commit = pr.sourceHash;
  // The pull request's own results; a push scan of the same head posts under other ids.
  const report = repo.reports.get(commit)?.find((r) => r.externalId === REPORT_ID);
  const buildStatus = repo.statuses.get(commit)?.get(BUILD_STATUS_KEY);
  const comment = pr.comments.at(-1);
  const missing: string[] = [];
  if (!report) missing.push(`a Code Insights report on ${commit.slice(0, 12)}`);
  else if (report.body.result === undefined || report.body.result === 'PENDING') missing.push('the report\'s result (still pending)');
  if (!buildStatus) missing.push(`a build status on ${commit.slice(0, 12)}`);
  else if (buildStatus.body.state === 'INPROGRESS') missing.push('a final build status (still INPROGRESS)');
  if (!comment) missing.push(`a comment on pull request #${id}`);
  else if (!comment.raw.includes(commit.slice(0, 12))) missing.push(`the comment updated for ${commit.slice(0, 12)}`);
  return { found: { commit, report, buildStatus, comment }, missing };
}

/**
 * Waits for the final report, build status and comment of the pull request's current head.
 * `moreHints` adds clues from another front door (the local Forge's deliveries).
 */
export async function waitForResults(sim: Simulator, repository: string, id: number, timeoutMs: number, moreHints: () => string[] = () => []): Promise<Published> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { found, missing } = collect(sim, repository, id);
    if (missing.length === 0) return found as Published;
    if (Date.now() >= deadline) throw new DemoTimeoutError(missing, [...moreHints(), ...diagnose(sim)]);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Clues for a timeout: webhooks the app did not accept and requests Bitbucket would refuse. */
function diagnose(sim: Simulator): string[] {
  const hints: string[] = [];
  for (const d of sim.deliveries) {
    const last = d.attempts.at(-1);
    if (!last || last.status === null || last.status >= 300) hints.push(`webhook ${d.event} was not accepted: ${last?.status ?? last?.error ?? 'no attempt'}`);
  }
  for (const v of sim.violations) hints.push(`API violation: ${v.method} ${v.url}: ${v.reason}`);
  if (hints.length === 0) hints.push('every webhook was accepted and no API call was refused; the job may still be running or have failed (see the app log, LOG_LEVEL=info)');
  return hints;
}

/** The lines `npm run demo` prints about what was published. */
export function describePublished(run: { published: Published; hostPageUrl: string }, commentLines = 14): string[] {
  const { report, buildStatus, comment, commit } = run.published;
  const counts = (Array.isArray(report.body.data) ? (report.body.data as { title?: unknown; type?: unknown; value?: unknown }[]) : [])
    .filter((d) => d.type === 'NUMBER' && typeof d.value === 'number' && d.value > 0)
    .map((d) => `${String(d.title)} ${String(d.value)}`);
  const bySeverity = new Map<string, number>();
  for (const a of report.annotations) {
    const severity = String(a.body.severity ?? 'UNSET');
    bySeverity.set(severity, (bySeverity.get(severity) ?? 0) + 1);
  }
  const lines = [
    `Published on ${commit.slice(0, 12)}:`,
    `  Code Insights report  ${String(report.body.title ?? report.externalId)}: ${String(report.body.result)}${counts.length ? ` (${counts.join(', ')})` : ''}`,
    `  Annotations           ${report.annotations.length}${bySeverity.size ? ` (${[...bySeverity].map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}`,
  ];
  for (const a of report.annotations) {
    const where = `${String(a.body.path ?? '')}${a.body.line ? `:${String(a.body.line)}` : ''}`;
    lines.push(`                        ${String(a.body.severity ?? '').padEnd(8)} ${where.padEnd(20)} ${clip(String(a.body.summary ?? ''), 80)}`);
  }
  lines.push(`  Build status          ${String(buildStatus.body.state)}: ${String(buildStatus.body.name ?? buildStatus.key)} · ${String(buildStatus.body.description ?? '')}`);
  lines.push('  Pull request comment');
  const body = comment.raw.split('\n');
  for (const line of body.slice(0, commentLines)) lines.push(`    | ${line}`);
  if (body.length > commentLines) lines.push(`    | ... (${body.length - commentLines} more lines)`);
  lines.push('', `Host page: ${run.hostPageUrl}`);
  return lines;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

