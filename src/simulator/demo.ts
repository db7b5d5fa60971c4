import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { updateVulnDb } from '../vulndb/update.ts';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles } from './demo-repository.ts';
import type { FakeAwsKeyPair } from './demo-repository.ts';
import type { FaultSpec } from './faults.ts';
import { DemoTimeoutError, describePublished, waitForResults, type Published } from './demo-results.ts';
import { describeAdvisories, keepRunningUntilInterrupted, openDemoSession, reportDemoFailure, reportViolations } from './demo-output.ts';
import { createOsvMirror } from './osv-mirror.ts';
import { startSession } from './session.ts';

export { DemoTimeoutError, describePublished, type Published };
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
  /** The key pair the pull request leaks (default: a fresh one), so two runs can be compared. */
  leaked?: FakeAwsKeyPair;
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

const DEFAULT_TIMEOUT_MS = 60_000;

export async function runDemo(options: DemoOptions = {}): Promise<DemoRun> {
  const log = options.log ?? (() => undefined);
  const workspace = options.workspace ?? 'acme';
  const { session, dataDir, stop } = await openDemoSession(options.dataDir, 'gatehouse-demo-', (dir) =>
    startSession({
      appPort: options.appPort ?? 0,
      dataDir: dir,
      webPort: options.webPort ?? 0,
      apiPort: options.apiPort ?? 0,
      logLevel: options.logLevel ?? 'error',
      simulator: { workspace, webExtensions: { osv: createOsvMirror() } },
    }),
  );

  try {
    const { sim } = session;
    log(`App        ${session.appBaseUrl}  (DATA_DIR ${dataDir})`);
    log(`Bitbucket  ${sim.webOrigin}  (API ${sim.apiOrigin}), app installed in workspace ${workspace}`);

    const db = await updateVulnDb({ mirrorUrl: `${sim.webOrigin}/_sim/ext/osv`, dataDir, ecosystems: ['npm', 'PyPI'] });
    log(`OSV        ${describeAdvisories(db)} from the simulator's mirror`);

    const repository = `${workspace}/${DEMO_REPOSITORY.slug}`;
    await sim.createRepository(workspace, DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
    await sim.createBranch(repository, DEMO_REPOSITORY.branch);
    for (const fault of options.faults ?? []) sim.faults.add(fault);
    const leaked = options.leaked ?? fakeAwsKeyPair();
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

const USAGE = `Usage: npm run demo [-- --keep] [-- --forge | --datacenter]

Starts the app and a local Bitbucket, opens a pull request that leaks an AWS key pair and pins
vulnerable packages, waits for Gatehouse's report, build status and comment, prints them and
exits 0; 1 when they do not arrive in time or the app made a request Bitbucket would refuse.
--keep leaves both running (and the host page open to a browser) until Ctrl-C.
--forge installs the app through a local Forge instead of Connect (FITs, system tokens, Forge
events, Custom UI panels), then pushes a fix and waits for the same checks to pass and the same
comment to be edited.
--datacenter runs the same round trip on a local Bitbucket Data Center instead: the instance
registered through the operator API (token checked, project webhook installed), signed
webhooks, Code Insights, build status and the comment through Data Center's REST API.
Environment: DEMO_TIMEOUT_SECONDS (default 60), LOG_LEVEL of the app (default error).
`;

async function main(argv: string[]): Promise<number> {
  const args = new Set(argv);
  if (args.has('--help') || args.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = [...args].filter((a) => a !== '--keep' && a !== '--forge' && a !== '--datacenter');
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
  if (args.has('--datacenter')) {
    if (args.has('--forge')) {
      process.stderr.write(`demo: --forge and --datacenter are two different front doors; choose one\n\n${USAGE}`);
      return 2;
    }
    // Loaded only when asked for, like the local Forge.
    const { datacenterDemoMain } = await import('./datacenter/demo.ts');
    return datacenterDemoMain({ keep: args.has('--keep'), timeoutMs: timeoutSeconds * 1000, logLevel: process.env.LOG_LEVEL || 'error', print });
  }
  let run: Pick<DemoRun, 'published' | 'hostPageUrl' | 'stop'> & { session: { sim: Simulator } };
  try {
    if (args.has('--forge')) {
      // Loaded only when asked for: the Connect demo needs none of the local Forge.
      const { runForgeDemo, describeFix } = await import('./forge/demo.ts');
      const forgeRun = await runForgeDemo({ timeoutMs: timeoutSeconds * 1000, logLevel: process.env.LOG_LEVEL || 'error', log: print });
      print('');
      for (const line of describePublished({ published: forgeRun.failing, hostPageUrl: forgeRun.hostPageUrl }).slice(0, -2)) print(line);
      print('');
      for (const line of describeFix(forgeRun)) print(line);
      run = { ...forgeRun, published: forgeRun.fixed };
    } else {
      run = await runDemo({ timeoutMs: timeoutSeconds * 1000, logLevel: process.env.LOG_LEVEL || 'error', log: print });
      print('');
      for (const line of describePublished(run)) print(line);
    }
  } catch (error) {
    reportDemoFailure(error, timeoutSeconds);
    return 1;
  }
  // A request real Bitbucket would refuse is a bug in the app even when the results look right.
  const violations = run.session.sim.violations;
  reportViolations(violations, 'request(s) the app made would be refused by Bitbucket');
  const status = violations.length > 0 ? 1 : 0;
  if (!args.has('--keep')) {
    await run.stop();
    return status;
  }
  await keepRunningUntilInterrupted(print);
  await run.stop();
  return status;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
