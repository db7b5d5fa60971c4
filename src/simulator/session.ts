import { listenForApp } from './app-harness.ts';
import type { InProcessApp } from './app-harness.ts';
import { startSimulator } from './simulator.ts';
import type { Simulator, SimulatorOptions } from './simulator.ts';
import { writeState } from './state-file.ts';

/**
 * One simulator session: the simulator plus the app (started in-process unless one already
 * answers at `appBaseUrl`), installed, with the installation saved for `simulate receive`.
 * `npm run simulate` is a thin wrapper; a demo script can build on the same session.
 */

export interface SessionOptions {
  /** An app that may already be running; when nothing answers its /healthz, one is started. */
  appBaseUrl?: string;
  /** Port for the in-process app (0 = any). */
  appPort: number;
  dataDir: string;
  webPort: number;
  apiPort: number;
  appKey?: string;
  logLevel?: string;
  simulator?: Partial<SimulatorOptions>;
  log?: (line: string) => void;
}

export interface Session {
  sim: Simulator;
  /** Present when the session started the app itself. */
  app?: InProcessApp;
  appBaseUrl: string;
  stateFile: string;
  stop(): Promise<void>;
}

export async function isAppRunning(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startSession(opts: SessionOptions): Promise<Session> {
  const log = opts.log ?? (() => undefined);
  let app: InProcessApp | undefined;
  let appBaseUrl = opts.appBaseUrl;
  if (appBaseUrl && (await isAppRunning(appBaseUrl))) {
    log(`Using the app already running at ${appBaseUrl}.`);
  } else {
    app = await listenForApp({ dataDir: opts.dataDir, port: opts.appPort, appKey: opts.appKey, logLevel: opts.logLevel });
    appBaseUrl = app.baseUrl;
    log(`Started the app at ${appBaseUrl} (DATA_DIR ${opts.dataDir}).`);
  }

  let sim: Simulator | undefined;
  try {
    sim = await startSimulator({ ...opts.simulator, appBaseUrl, webPort: opts.webPort, apiPort: opts.apiPort });
    if (app) {
      await app.attach({ web: sim.webOrigin, api: sim.apiOrigin });
    } else {
      log(`The running app must allow BITBUCKET_BASE_URLS=${sim.webOrigin} and BITBUCKET_API_URLS=${sim.apiOrigin}.`);
    }
    await sim.install();
    const inst = sim.installation()!;
    const stateFile = await writeState(opts.dataDir, {
      appBaseUrl,
      webOrigin: sim.webOrigin,
      apiOrigin: sim.apiOrigin,
      installations: [{ workspace: inst.workspace, clientKey: inst.clientKey, sharedSecret: inst.sharedSecret }],
    });
    const started = sim;
    return {
      sim: started,
      app,
      appBaseUrl,
      stateFile,
      async stop() {
        // The app first: its running jobs still publish to the simulator while they finish.
        await app?.stop();
        await started.stop();
      },
    };
  } catch (error) {
    await sim?.stop();
    await app?.stop();
    throw error;
  }
}

/** A small repository with a pull request, so the host page has something to show. */
export async function seedSampleRepository(sim: Simulator, workspace: string): Promise<{ repository: string; pullRequestId: number }> {
  const repository = `${workspace}/sample-service`;
  await sim.createRepository(workspace, 'sample-service', {
    files: {
      'README.md': '# sample-service\n\nA tiny service used by the Gatehouse simulator.\n',
      'package.json': `${JSON.stringify({ name: 'sample-service', version: '1.0.0', dependencies: { express: '^4.21.0' } }, null, 2)}\n`,
      'src/index.js': "const express = require('express');\nconst app = express();\napp.get('/', (req, res) => res.send('ok'));\napp.listen(8080);\n",
    },
  });
  await sim.createBranch(repository, 'feature/greeting');
  await sim.commit(repository, 'feature/greeting', { 'src/greeting.js': "module.exports = (name) => `Hello, ${name}!`;\n" }, 'Add a greeting helper');
  const pr = await sim.openPullRequest(repository, { source: 'feature/greeting', title: 'Add a greeting helper', description: 'Small change to try the app on.' });
  return { repository, pullRequestId: pr.id };
}
