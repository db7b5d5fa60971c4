import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createPipeline, type PipelineOptions } from '../../src/core/pipeline.ts';
import type { WorkerPool } from '../../src/core/worker.ts';
import { createLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../../src/store/results-store.ts';
import type { Job } from '../../src/store/types.ts';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.ts';

/**
 * The whole product in this process (HTTP app with its pages and JSON API, job pipeline,
 * stores), for end-to-end and browser tests on the simulator: like src/server.ts, with the
 * pages sharing the pipeline's call budget.
 * Client retries sleep at most a few milliseconds so injected faults cost no wall time.
 */
export interface PipelineApp {
  baseUrl: string;
  attach(origins: { web: string; api: string }): Promise<void>;
  readonly store: LowdbStore;
  readonly results: JournalResultsStore;
  readonly worker: WorkerPool;
  readonly config: Config;
  /** Waits until every job is done or dead (none queued or running). */
  settle(timeoutMs?: number): Promise<Job[]>;
  stop(): Promise<void>;
}

export type PipelineTuning = Partial<Omit<PipelineOptions, 'config' | 'store' | 'results' | 'logger'>>;

export async function startPipelineApp(opts: { dataDir: string; tuning?: PipelineTuning; logLevel?: string }): Promise<PipelineApp> {
  const server: Server = createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  let parts: { store: LowdbStore; results: JournalResultsStore; worker: WorkerPool; config: Config } | undefined;
  const need = () => {
    if (!parts) throw new Error('attach() first');
    return parts;
  };

  return {
    baseUrl,
    get store() {
      return need().store;
    },
    get results() {
      return need().results;
    },
    get worker() {
      return need().worker;
    },
    get config() {
      return need().config;
    },
    async attach(origins) {
      const loaded = loadConfig({
        PORT: String(port),
        BASE_URL: baseUrl,
        DATA_DIR: opts.dataDir,
        BITBUCKET_BASE_URLS: origins.web,
        BITBUCKET_API_URLS: origins.api,
        LOG_LEVEL: opts.logLevel ?? 'silent',
      });
      if (!loaded.ok) throw new Error(loaded.problems.join('; '));
      const { config } = loaded;
      const logger = createLogger(config.logLevel);
      const store = new LowdbStore({ dataDir: config.dataDir });
      await store.open();
      const results = new JournalResultsStore({ dataDir: config.dataDir });
      await results.open();
      const { worker, budget } = createPipeline({
        config,
        store,
        results,
        logger,
        pollMs: 20,
        retryBaseDelayMs: 50,
        vulnIndex: () => null,
        budget: { burst: 100_000, perHour: 10_000_000 },
        client: { sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))), timeoutMs: 10_000 },
        ...opts.tuning,
      });
      const app = createApp({ config, store, results, budget, logger, onJobQueued: () => worker.wake() });
      server.removeAllListeners('request');
      server.on('request', app);
      worker.start();
      parts = { store, results, worker, config };
    },
    async settle(timeoutMs = 30_000) {
      const { store } = need();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const jobs = await store.listJobs();
        if (jobs.every((j) => j.status === 'done' || j.status === 'dead')) return jobs;
        if (Date.now() > deadline) throw new Error(`jobs still pending: ${jobs.filter((j) => j.status === 'queued' || j.status === 'running').map((j) => `${j.type}:${j.status}:${j.lastError ?? ''}`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      await parts?.worker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await parts?.results.close();
      await parts?.store.close();
    },
  };
}

/** Calls the app as a Connect iframe's backend would: `Authorization: JWT` with the request's qsh. */
export async function signedCall(
  baseUrl: string,
  tenant: { clientKey: string; sharedSecret: string },
  method: string,
  pathAndQuery: string,
  opts: { body?: unknown; sub?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const now = Math.floor(Date.now() / 1000);
  const url = new URL(pathAndQuery, baseUrl);
  const qsh = createQueryStringHash(fromMethodAndUrl(method, url.pathname + url.search), false, baseUrl);
  const token = encodeSymmetric({ iss: tenant.clientKey, sub: opts.sub ?? 'user-1', iat: now, exp: now + 120, qsh }, tenant.sharedSecret, SymmetricAlgorithm.HS256);
  const response = await fetch(url, {
    method,
    headers: { Authorization: `JWT ${token}`, ...(opts.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** The app with its pipeline, attached to a fresh simulator, in a temporary DATA_DIR. */
export interface PipelineOnSimulator {
  app: PipelineApp;
  sim: Simulator;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The setup every end-to-end pipeline test shares. `workspaces` are installed in order
 * (default: the simulator's one workspace); an empty list installs nothing.
 */
export async function startPipelineOnSimulator(name: string, opts: { tuning?: PipelineTuning; workspaces?: string[] } = {}): Promise<PipelineOnSimulator> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `gatehouse-${name}-`));
  const app = await startPipelineApp({ dataDir, ...(opts.tuning ? { tuning: opts.tuning } : {}) });
  const sim = await startSimulator({ appBaseUrl: app.baseUrl, retryDelayMs: 0 });
  await app.attach({ web: sim.webOrigin, api: sim.apiOrigin });
  if (opts.workspaces === undefined) await sim.install();
  else for (const workspace of opts.workspaces) await sim.install({ workspace });
  return {
    app,
    sim,
    dataDir,
    async stop() {
      await sim.stop();
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
