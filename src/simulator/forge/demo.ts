import { updateVulnDb } from '../../vulndb/update.ts';
import { describeAdvisories, openDemoSession } from '../demo-output.ts';
import { waitForResults, type Published } from '../demo-results.ts';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles, pullRequestFixFiles, type FakeAwsKeyPair } from '../demo-repository.ts';
import { createOsvMirror } from '../osv-mirror.ts';
import type { ForgeDelivery } from './delivery.ts';
import { startForgeSession, type ForgeSession } from './session.ts';

/**
 * `npm run demo -- --forge`: the whole Forge round trip offline. The app with its Forge front
 * door, the simulated Bitbucket and the local Forge; the app registered, deployed and
 * installed; a pull request that leaks an AWS key pair and pins vulnerable packages (a failing
 * report, annotations, build status and one comment), then the author's fix (the same checks
 * pass and the same comment is edited).
 */

export interface ForgeDemoOptions {
  dataDir?: string;
  workspace?: string;
  timeoutMs?: number;
  appPort?: number;
  webPort?: number;
  apiPort?: number;
  forgePort?: number;
  logLevel?: string;
  log?: (line: string) => void;
  /** The key pair the pull request leaks (default: a fresh one), so two runs can be compared. */
  leaked?: FakeAwsKeyPair;
  /** Pause between Forge's retries (default 1 s here; Forge waits 60 s). */
  retryDelayMs?: number;
}

export interface ForgeDemoRun {
  session: ForgeSession;
  dataDir: string;
  repository: string;
  pullRequestId: number;
  hostPageUrl: string;
  /** What the pull request with the leak got. */
  failing: Published;
  /** What it got after the fix. */
  fixed: Published;
  leaked: FakeAwsKeyPair;
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Forge deliveries the remote did not acknowledge, as clues when results do not come. */
export function unacknowledged(deliveries: readonly ForgeDelivery[]): string[] {
  return deliveries
    .filter((d) => !d.acknowledged)
    .map((d) => `Forge event ${d.eventType} was not acknowledged: ${d.attempts.map((a) => a.status ?? a.error ?? 'no answer').join(' → ')}`);
}

export async function runForgeDemo(options: ForgeDemoOptions = {}): Promise<ForgeDemoRun> {
  const log = options.log ?? (() => undefined);
  const workspace = options.workspace ?? 'acme';
  const { session, dataDir, stop } = await openDemoSession(options.dataDir, 'gatehouse-forge-demo-', (dir) =>
    startForgeSession({
      dataDir: dir,
      workspace,
      appPort: options.appPort,
      webPort: options.webPort,
      apiPort: options.apiPort,
      forgePort: options.forgePort,
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      logLevel: options.logLevel ?? 'error',
      simulator: { workspace, webExtensions: { osv: createOsvMirror() } },
    }),
  );

  try {
    const { sim, forge } = session;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const hints = () => unacknowledged(forge.deliveries);
    log(`App        ${session.appBaseUrl}  (DATA_DIR ${dataDir}; Forge front door on)`);
    log(`Forge      ${forge.origin}  (app ${forge.appId}, JWKS ${forge.jwksUrl})`);
    log(`Bitbucket  ${sim.webOrigin}  (API ${sim.apiOrigin}), app installed in workspace ${workspace} (${forge.installation(workspace)?.installationId})`);

    const db = await updateVulnDb({ mirrorUrl: `${sim.webOrigin}/_sim/ext/osv`, dataDir, ecosystems: ['npm', 'PyPI'] });
    log(`OSV        ${describeAdvisories(db)} from the simulator's mirror`);

    const repository = `${workspace}/${DEMO_REPOSITORY.slug}`;
    await sim.createRepository(workspace, DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
    await sim.createBranch(repository, DEMO_REPOSITORY.branch);
    const leaked = options.leaked ?? fakeAwsKeyPair();
    await sim.commit(repository, DEMO_REPOSITORY.branch, pullRequestFiles(leaked), 'Add the nightly S3 export');
    const pr = await sim.openPullRequest(repository, { source: DEMO_REPOSITORY.branch, title: DEMO_REPOSITORY.title, description: DEMO_REPOSITORY.description });
    const hostPageUrl = `${sim.webOrigin}/${repository}/pull-requests/${pr.id}`;
    log(`Opened     pull request #${pr.id} "${pr.title}" in ${repository}; waiting for Gatehouse...`);
    // A copy: the simulator edits its comment object in place when the fix comes.
    const failing = structuredClone(await waitForResults(sim, repository, pr.id, timeoutMs, hints));

    log(`Fixing     the pull request: the key pair leaves config/deploy.env, lodash and minimist move to fixed versions...`);
    await sim.updatePullRequest(repository, pr.id, pullRequestFixFiles(), 'Read AWS credentials from the role; bump lodash and minimist');
    const fixed = await waitForResults(sim, repository, pr.id, timeoutMs, hints);
    return { session, dataDir, repository, pullRequestId: pr.id, hostPageUrl, failing, fixed, leaked, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The lines `npm run demo -- --forge` prints about the fix round. */
export function describeFix(run: Pick<ForgeDemoRun, 'failing' | 'fixed' | 'hostPageUrl' | 'session' | 'repository' | 'pullRequestId'>): string[] {
  const { failing, fixed } = run;
  const comments = run.session.sim.pullRequest(run.repository, run.pullRequestId).comments;
  const sameComment = comments.length === 1 && failing.comment.id === fixed.comment.id;
  return [
    `After the fix, on ${fixed.commit.slice(0, 12)}:`,
    `  Code Insights report  ${String(fixed.report.body.title ?? fixed.report.externalId)}: ${String(fixed.report.body.result)} (${fixed.report.annotations.length} annotations)`,
    `  Build status          ${String(fixed.buildStatus.body.state)}: ${String(fixed.buildStatus.body.description ?? '')}`,
    `  Pull request comment  ${sameComment ? `#${fixed.comment.id} edited in place (${comments.length} comment on the pull request)` : `${comments.length} comments (expected the first one edited)`}`,
    '',
    `Host page: ${run.hostPageUrl}`,
  ];
}
