import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_STATUS_KEY, REPORT_ID } from '../core/publish.ts';
import { updateVulnDb } from '../vulndb/update.ts';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles } from './demo-repository.ts';
import type { FakeAwsKeyPair } from './demo-repository.ts';
import type { FaultSpec } from './faults.ts';
import type { BuildStatus, PullRequestComment, Report } from './model.ts';
import { createOsvMirror } from './osv-mirror.ts';
import { startSession } from './session.ts';
import type { Session } from './session.ts';
import type { Simulator } from './simulator.ts';

/**
 * `npm run demo`: the whole round trip in one command. A temporary DATA_DIR, the app with its
 * job pipeline and the simulator, the install, a vulnerability database downloaded from the
 * simulator's OSV mirror, then a pull request that leaks an AWS key pair and pins vulnerable
 * packages. It waits for what the app publishes on Bitbucket and prints it.
 */

export interface DemoOptions {
  /** Where the app keeps its data; by default a temporary directory removed by stop(). */
  dataDir?: string;
  workspace?: string;
  /** How long to wait for the app's results (default 60 s). */
  timeoutMs?: number;
  appPort?: number;
  webPort?: number;
  apiPort?: number;
  logLevel?: string;
  log?: (line: string) => void;
  /** Faults armed on the simulator before the pull request is opened, to watch the app cope. */
  faults?: FaultSpec[];
}

export interface Published {
  commit: string;
  report: Report;
  buildStatus: BuildStatus;
  comment: PullRequestComment;
}

export interface DemoRun {
  session: Session;
  dataDir: string;
  repository: string;
  pullRequestId: number;
  hostPageUrl: string;
  published: Published;
  /** The generated credentials the pull request leaked, so a test can prove they never come back. */
  leaked: FakeAwsKeyPair;
  /** Stops the app and the simulator; removes DATA_DIR when the demo created it. Safe to call twice. */
  stop(): Promise<void>;
}

/** The app did not publish everything in time; `missing` says what is absent. */
export class DemoTimeoutError extends Error {
  override name = 'DemoTimeoutError';
  constructor(readonly missing: string[], readonly hints: string[]) {
    super(`gave up waiting for: ${missing.join('; ')}`);
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

export async function runDemo(options: DemoOptions = {}): Promise<DemoRun> {
  const log = options.log ?? (() => undefined);
  const workspace = options.workspace ?? 'acme';
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'gatehouse-demo-')));
  const removeDataDir = () => (ownDataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve());

  let session: Session;
  try {
    session = await startSession({
      appPort: options.appPort ?? 0,
      dataDir,
      webPort: options.webPort ?? 0,
      apiPort: options.apiPort ?? 0,
      logLevel: options.logLevel ?? 'error',
      simulator: { workspace, webExtensions: { osv: createOsvMirror() } },
    });
  } catch (error) {
    await removeDataDir();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= session.stop().then(removeDataDir);
    return stopped;
  };

  try {
    const { sim } = session;
    log(`App        ${session.appBaseUrl}  (DATA_DIR ${dataDir})`);
    log(`Bitbucket  ${sim.webOrigin}  (API ${sim.apiOrigin}), app installed in workspace ${workspace}`);

    const db = await updateVulnDb({ mirrorUrl: `${sim.webOrigin}/_sim/ext/osv`, dataDir, ecosystems: ['npm', 'PyPI'] });
    log(`OSV        ${db.ecosystems.map((e) => `${e.ecosystem} ${e.total} advisor${e.total === 1 ? 'y' : 'ies'}`).join(', ')} from the simulator's mirror`);

    const repository = `${workspace}/${DEMO_REPOSITORY.slug}`;
    await sim.createRepository(workspace, DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
    await sim.createBranch(repository, DEMO_REPOSITORY.branch);
    for (const fault of options.faults ?? []) sim.faults.add(fault);
    const leaked = fakeAwsKeyPair();
    await sim.commit(repository, DEMO_REPOSITORY.branch, pullRequestFiles(leaked), 'Add the nightly S3 export');
    const pr = await sim.openPullRequest(repository, { source: DEMO_REPOSITORY.branch, title: DEMO_REPOSITORY.title, description: DEMO_REPOSITORY.description });
    const hostPageUrl = `${sim.webOrigin}/${repository}/pull-requests/${pr.id}`;
    log(`Opened     pull request #${pr.id} "${pr.title}" in ${repository}; waiting for Gatehouse...`);

    const published = await waitForResults(sim, repository, pr.id, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return { session, dataDir, repository, pullRequestId: pr.id, hostPageUrl, published, leaked, stop };
  } catch (error) {
    await stop();
    throw error;
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
  return { found: { commit, report, buildStatus, comment }, missing };
}

async function waitForResults(sim: Simulator, repository: string, id: number, timeoutMs: number): Promise<Published> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { found, missing } = collect(sim, repository, id);
    if (missing.length === 0) return found as Published;
    if (Date.now() >= deadline) throw new DemoTimeoutError(missing, diagnose(sim));
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
export function describePublished(run: Pick<DemoRun, 'published' | 'hostPageUrl'>, commentLines = 14): string[] {
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

const USAGE = `Usage: npm run demo [-- --keep]

Starts the app and a local Bitbucket, opens a pull request that leaks an AWS key pair and pins
vulnerable packages, waits for Gatehouse's report, build status and comment, prints them and
exits 0; 1 when they do not arrive in time or the app made a request Bitbucket would refuse.
--keep leaves both running (and the host page open to a browser) until Ctrl-C.
Environment: DEMO_TIMEOUT_SECONDS (default 60), LOG_LEVEL of the app (default error).
`;

async function main(argv: string[]): Promise<number> {
  const args = new Set(argv);
  if (args.has('--help') || args.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = [...args].filter((a) => a !== '--keep');
  if (unknown.length > 0) {
    process.stderr.write(`demo: unknown argument ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const timeoutSeconds = Number(process.env.DEMO_TIMEOUT_SECONDS || 60);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    process.stderr.write(`demo: DEMO_TIMEOUT_SECONDS must be a positive number (got ${JSON.stringify(process.env.DEMO_TIMEOUT_SECONDS)})\n`);
    return 2;
  }
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let run: DemoRun;
  try {
    run = await runDemo({ timeoutMs: timeoutSeconds * 1000, logLevel: process.env.LOG_LEVEL || 'error', log: print });
  } catch (error) {
    if (error instanceof DemoTimeoutError) {
      process.stderr.write(`demo: after ${timeoutSeconds} s the app had not published:\n${error.missing.map((m) => `  - ${m}\n`).join('')}`);
      process.stderr.write(`Clues:\n${error.hints.map((h) => `  - ${h}\n`).join('')}`);
    } else {
      process.stderr.write(`demo: ${(error as Error).message}\n`);
    }
    return 1;
  }
  print('');
  for (const line of describePublished(run)) print(line);
  // A request real Bitbucket would refuse is a bug in the app even when the results look right.
  const violations = run.session.sim.violations;
  if (violations.length > 0) {
    process.stderr.write(`demo: ${violations.length} request(s) the app made would be refused by Bitbucket:\n${violations.map((v) => `  - ${v.method} ${v.url}: ${v.reason}\n`).join('')}`);
  }
  const status = violations.length > 0 ? 1 : 0;
  if (!args.has('--keep')) {
    await run.stop();
    return status;
  }
  print('Both are still running (--keep); press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await run.stop();
  return status;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
