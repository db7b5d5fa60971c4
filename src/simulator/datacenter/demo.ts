import { datacenterLinks } from '../../codehost/datacenter/links.ts';
import { updateVulnDb } from '../../vulndb/update.ts';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles, pullRequestFixFiles, type FakeAwsKeyPair } from '../demo-repository.ts';
import { describeAdvisories, keepRunningUntilInterrupted, openDemoSession, reportDemoFailure, reportViolations } from '../demo-output.ts';
import { createOsvMirror } from '../osv-mirror.ts';
import { waitForDatacenterResults, type DcPublished } from './results.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession, type RegisteredInstance } from './session.ts';

/**
 * `npm run demo -- --datacenter`: the whole Data Center round trip offline. The app with its
 * operator API and a local Data Center; the instance registered as an operator does it (token
 * checked, the project's webhook installed with a generated secret); a pull request that leaks
 * an AWS key pair and pins vulnerable packages (a failing report, annotations, build status
 * and one comment), then the author's fix (the same checks pass and the same comment is edited).
 */

export interface DatacenterDemoOptions {
  dataDir?: string;
  timeoutMs?: number;
  appPort?: number;
  dcPort?: number;
  logLevel?: string;
  log?: (line: string) => void;
  leaked?: FakeAwsKeyPair;
}

export interface DatacenterDemoRun {
  session: DatacenterSession;
  instance: RegisteredInstance;
  dataDir: string;
  repository: string;
  pullRequestId: number;
  pullRequestUrl: string;
  failing: DcPublished;
  fixed: DcPublished;
  leaked: FakeAwsKeyPair;
  stop(): Promise<void>;
}

const PROJECT = 'PAY';
const DEFAULT_TIMEOUT_MS = 60_000;

export async function runDatacenterDemo(options: DatacenterDemoOptions = {}): Promise<DatacenterDemoRun> {
  const log = options.log ?? (() => undefined);
  const { session, dataDir, stop } = await openDemoSession(options.dataDir, 'gatehouse-dc-demo-', (dir) =>
    startDatacenterSession({
      dataDir: dir,
      ...(options.appPort === undefined ? {} : { appPort: options.appPort }),
      ...(options.dcPort === undefined ? {} : { dcPort: options.dcPort }),
      logLevel: options.logLevel ?? 'error',
      extensions: { osv: createOsvMirror() },
    }),
  );

  try {
    const { dc } = session;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    log(`App          ${session.appBaseUrl}  (DATA_DIR ${dataDir}; operator API on)`);
    log(`Data Center  ${dc.baseUrl}  (local, every call checked against the Data Center OpenAPI description)`);

    const db = await updateVulnDb({ mirrorUrl: `${dc.originUrl}/_sim/ext/osv`, dataDir, ecosystems: ['npm', 'PyPI'] });
    log(`OSV          ${describeAdvisories(db)} from the local mirror`);

    const repository = `${PROJECT}/${DEMO_REPOSITORY.slug}`;
    await dc.createRepository(PROJECT, DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
    const token = newAccessToken();
    dc.addToken(token, 'PROJECT_ADMIN');
    const instance = await session.register({ name: 'Local Data Center', token, project: PROJECT });
    log(`Registered   instance ${instance.instanceId} "${instance.name}": token checked, webhook installed on project ${PROJECT} -> ${instance.webhookUrl}`);

    await dc.createBranch(repository, DEMO_REPOSITORY.branch);
    const leaked = options.leaked ?? fakeAwsKeyPair();
    await dc.commit(repository, DEMO_REPOSITORY.branch, pullRequestFiles(leaked), 'Add the nightly S3 export');
    const pr = await dc.openPullRequest(repository, { from: DEMO_REPOSITORY.branch, title: DEMO_REPOSITORY.title, description: DEMO_REPOSITORY.description });
    log(`Opened       pull request #${pr.id} "${pr.title}" in ${repository}; waiting for Gatehouse...`);
    const failing = await waitForDatacenterResults(dc, repository, pr.id, timeoutMs);

    log(`Fixing       the pull request: the key pair leaves config/deploy.env, lodash and minimist move to fixed versions...`);
    await dc.updatePullRequest(repository, pr.id, pullRequestFixFiles(), 'Read AWS credentials from the role; bump lodash and minimist');
    const fixed = await waitForDatacenterResults(dc, repository, pr.id, timeoutMs);
    const pullRequestUrl = datacenterLinks(dc.baseUrl).pullRequestUrl({ workspace: PROJECT, slug: DEMO_REPOSITORY.slug }, pr.id);
    return { session, instance, dataDir, repository, pullRequestId: pr.id, pullRequestUrl, failing, fixed, leaked, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The lines `npm run demo -- --datacenter` prints about one round of results. */
export function describeDatacenterResults(heading: string, published: DcPublished, commentLines = 14): string[] {
  const { report, build, comment, commit } = published;
  const data = Array.isArray(report.body.data) ? (report.body.data as { title?: unknown; type?: unknown; value?: unknown }[]) : [];
  const counts = data.filter((d) => d.type === 'NUMBER' && typeof d.value === 'number' && d.value > 0).map((d) => `${String(d.title)} ${String(d.value)}`);
  const lines = [
    `${heading} on ${commit.slice(0, 12)}:`,
    `  Code Insights report  ${String(report.body.title ?? report.key)}: ${String(report.body.result)}${counts.length ? ` (${counts.join(', ')})` : ''}`,
    `  Annotations           ${report.annotations.length}`,
  ];
  for (const a of report.annotations) {
    const where = `${String(a.path ?? '')}${a.line ? `:${String(a.line)}` : ''}`;
    lines.push(`                        ${String(a.severity ?? '').padEnd(7)} ${where.padEnd(24)} ${clip(String(a.message ?? ''), 76)}`);
  }
  lines.push(`  Build status          ${String(build.body.state)}: ${String(build.body.name ?? build.key)} on ${String(build.body.ref)} · ${String(build.body.description ?? '')}`);
  lines.push(`  Pull request comment  #${comment.id} version ${comment.version} (${published.comments} comment${published.comments === 1 ? '' : 's'} on the pull request)`);
  const body = comment.text.split('\n');
  for (const line of body.slice(0, commentLines)) lines.push(`    | ${line}`);
  if (body.length > commentLines) lines.push(`    | ... (${body.length - commentLines} more lines)`);
  return lines;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The `--datacenter` variant of `npm run demo`: runs the round trip, prints both rounds, and
 * exits 1 when results do not come or the app made a call Data Center would refuse.
 */
export async function datacenterDemoMain(options: { keep: boolean; timeoutMs: number; logLevel: string; print: (line: string) => void }): Promise<number> {
  const { print } = options;
  let run: DatacenterDemoRun;
  try {
    run = await runDatacenterDemo({ timeoutMs: options.timeoutMs, logLevel: options.logLevel, log: print });
  } catch (error) {
    reportDemoFailure(error, options.timeoutMs / 1000);
    return 1;
  }
  print('');
  for (const line of describeDatacenterResults('Published', run.failing)) print(line);
  print('');
  const same = run.fixed.comment.id === run.failing.comment.id && run.fixed.comments === 1;
  for (const line of describeDatacenterResults('After the fix', run.fixed, 1)) print(line);
  print(`  ${same ? `the same comment #${run.fixed.comment.id}, edited in place` : 'expected the first comment edited in place'}`);
  print('');
  print(`Pull request: ${run.pullRequestUrl}`);
  // A call real Data Center would refuse is a bug in the app even when the results look right.
  const violations = run.session.dc.violations;
  reportViolations(violations, 'call(s) Data Center would refuse or the simulator answered off its description');
  const status = violations.length > 0 || !same ? 1 : 0;
  if (options.keep) {
    await keepRunningUntilInterrupted(print);
  }
  await run.stop();
  return status;
}
