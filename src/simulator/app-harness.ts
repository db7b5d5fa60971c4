import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createPipeline, type PipelineOptions } from '../core/pipeline.ts';
import { datacenterJobOutcomes } from '../datacenter/status.ts';
import { DatacenterTokenWatch } from '../datacenter/token-watch.ts';
import { FORGE_DIR, renderManifest, uiResources } from '../forge/manifest.ts';
import type { WorkerPool } from '../core/worker.ts';
import { createLogger } from '../log.ts';
import { LowdbStore } from '../store/lowdb-store.ts';
import { JournalResultsStore } from '../store/results-store.ts';
import type { DestinationStream } from 'pino';

/**
 * Runs the real app in this process for `npm run simulate` and the end-to-end tests. The port
 * is taken first because the app's BASE_URL (its descriptor baseUrl) must be known before the
 * simulator starts, and the simulator's origins before the app's allow-lists are configured.
 * This is the one place the simulator touches app code: the composition root (HTTP app, JSON
 * API and the job pipeline that scans and publishes); everything else goes over HTTP.
 */

export interface InProcessApp {
  baseUrl: string;
  /**
   * Configures and starts the app, allowing the simulator's origins; with `forge`, the Forge
   * front door too, trusting the local Forge's keys and calling the simulated API.
   */
  attach(origins: { web: string; api: string }, forge?: ForgeAttachment, more?: AttachOptions): Promise<void>;
  /**
   * The manifest.yml `npx gatehouse forge manifest` renders for this app (after attach with
   * `forge`), and the app directory its resource paths start from.
   */
  forgeManifest(): { yaml: string; dir: string };
  /** The app's job store once attached (tests read a job's state from it). */
  readonly store: LowdbStore | undefined;
  /** The app's results store once attached (tests drive coverage with it). */
  readonly results: JournalResultsStore | undefined;
  /** Makes the job runner look for due jobs now (after a test queued some). */
  wake(): void;
  stop(): Promise<void>;
}

export interface ForgeAttachment {
  appId: string;
  jwksUrl: string;
}

/** What a session adds beyond the simulator's origins (the local Data Center's). */
export interface AttachOptions {
  /** More environment variables (ADMIN_TOKEN for the operator API). */
  env?: Record<string, string>;
  /** Job pipeline knobs, e.g. how long a job without usable credentials waits, or smaller diff bounds. */
  pipeline?: Pick<PipelineOptions, 'credentialsWaitMs' | 'retryBaseDelayMs' | 'pollMs' | 'diffLimits'>;
  /** How often registered Data Center tokens are compared (datacenter/token-watch.ts). */
  tokenWatchMs?: number;
}

export interface InProcessAppOptions {
  dataDir: string;
  port?: number;
  appKey?: string;
  logLevel?: string;
  /** Where the app's log lines go (stdout by default): a test counts them here. */
  logDestination?: DestinationStream;
}

export async function listenForApp(opts: InProcessAppOptions): Promise<InProcessApp> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"error":{"code":"starting","message":"the app is starting"}}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  let store: LowdbStore | undefined;
  let results: JournalResultsStore | undefined;
  let worker: WorkerPool | undefined;
  let tokens: DatacenterTokenWatch | undefined;
  let forgeAppId: string | undefined;

  return {
    baseUrl,
    get store() {
      return store;
    },
    get results() {
      return results;
    },
    wake() {
      worker?.wake();
    },
    forgeManifest() {
      if (!forgeAppId) throw new Error('attach the app with its Forge front door first');
      return { yaml: renderManifest({ appId: forgeAppId, baseUrl, resources: uiResources() }), dir: FORGE_DIR };
    },
    async attach(origins, forge, more = {}) {
      forgeAppId = forge?.appId;
      const loaded = loadConfig({
        PORT: String(port),
        BASE_URL: baseUrl,
        DATA_DIR: opts.dataDir,
        APP_KEY: opts.appKey,
        BITBUCKET_BASE_URLS: origins.web,
        BITBUCKET_API_URLS: origins.api,
        LOG_LEVEL: opts.logLevel ?? 'warn',
        // Never the internet: a session that wants vulnerability data mounts a mirror here
        // (SimulatorOptions.webExtensions.osv).
        OSV_MIRROR_URL: `${origins.web}/_sim/ext/osv`,
        ...(forge ? { FORGE_APP_ID: forge.appId, FORGE_JWKS_URL: forge.jwksUrl, FORGE_API_URLS: origins.api } : {}),
        ...more.env,
      });
      if (!loaded.ok) throw new Error(`app configuration rejected: ${loaded.problems.join('; ')}`);
      const { config } = loaded;
      const logger = createLogger(config.logLevel, opts.logDestination);
      store = new LowdbStore({ dataDir: config.dataDir });
      await store.open();
      results = new JournalResultsStore({ dataDir: config.dataDir });
      await results.open();
      const pipeline = createPipeline({ config, store, results, logger, ...more.pipeline, onJobOutcome: datacenterJobOutcomes({ store, logger, now: () => new Date() }) });
      worker = pipeline.worker;
      tokens = new DatacenterTokenWatch({ store, logger, now: () => new Date(), onReleased: () => pipeline.worker.wake(), ...(more.tokenWatchMs === undefined ? {} : { intervalMs: more.tokenWatchMs }) });
      const app = createApp({ config, store, results, budget: pipeline.budget, logger, onJobQueued: () => pipeline.worker.wake() });
      server.removeAllListeners('request');
      server.on('request', app);
      worker.start();
      tokens.start();
    },
    async stop() {
      // Running jobs finish first: they publish through the simulator, which stops after us.
      await tokens?.stop();
      await worker?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await results?.close();
      await store?.close();
    },
  };
}
