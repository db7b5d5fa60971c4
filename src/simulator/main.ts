import path from 'node:path';
import { createOsvMirror } from './osv-mirror.ts';
import { seedSampleRepository, startSession } from './session.ts';

/**
 * `npm run simulate`: a local Bitbucket Cloud with the app installed and a sample pull request.
 *
 * Environment: BASE_URL (an app already running there is used as is; otherwise the app is
 * started in this process on PORT, default 3000), DATA_DIR (default ./data), APP_KEY,
 * SIM_WEB_PORT / SIM_API_PORT (default 4100 / 4101: fixed, so a separately started app can
 * list them in BITBUCKET_BASE_URLS / BITBUCKET_API_URLS), SIM_WORKSPACE (default acme).
 */

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    process.stderr.write(`${name}: expected a port number between 0 and 65535 (got ${JSON.stringify(raw)})\n`);
    process.exit(2);
  }
  return value;
}

const appPort = port('PORT', 3000);
const workspace = process.env.SIM_WORKSPACE || 'acme';
const dataDir = path.resolve(process.env.DATA_DIR || './data');
const log = (line: string) => process.stdout.write(`${line}\n`);

try {
  const session = await startSession({
    appBaseUrl: process.env.BASE_URL || `http://localhost:${appPort}`,
    appPort,
    dataDir,
    webPort: port('SIM_WEB_PORT', 4100),
    apiPort: port('SIM_API_PORT', 4101),
    appKey: process.env.APP_KEY || undefined,
    logLevel: process.env.LOG_LEVEL || 'info',
    simulator: { workspace, webExtensions: { osv: createOsvMirror() } },
    log,
  });
  const { repository, pullRequestId } = await seedSampleRepository(session.sim, workspace);
  log(`Installed ${session.appBaseUrl} into workspace ${workspace}; installation saved to ${session.stateFile}.`);
  log(`Host page:    ${session.sim.webOrigin}/`);
  log(`Pull request: ${session.sim.webOrigin}/${repository}/pull-requests/${pullRequestId}`);
  log(`OSV mirror:   ${session.sim.webOrigin}/_sim/ext/osv (a few demo advisories for npm and PyPI; load them with`);
  log(`              OSV_MIRROR_URL=${session.sim.webOrigin}/_sim/ext/osv DATA_DIR=${dataDir} npx gatehouse db update)`);
  log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the simulator${session.app ? ' and the app' : ''}.`);
    session.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`did not stop cleanly: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  process.stderr.write(`simulate: ${(error as Error).message}\n`);
  process.exit(1);
}
