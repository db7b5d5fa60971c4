import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createPipeline } from '../../src/core/pipeline.ts';
import type { WorkerPool } from '../../src/core/worker.ts';
import { createLogger } from '../../src/log.ts';
import type { VulnIndex } from '../../src/scan/deps/index.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../../src/store/results-store.ts';

/**
 * Browser tests: Debian's chromium driven by playwright-core (no downloaded browser), and
 * the whole product in this process (HTTP app with its pages, job pipeline, stores) for the
 * simulator to install, send webhooks to and frame.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--headless'];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface ProductStack {
  baseUrl: string;
  attach(origins: { web: string; api: string }): Promise<void>;
  store(): LowdbStore;
  results(): JournalResultsStore;
  /** Waits until no job is queued or running. */
  settle(timeoutMs?: number): Promise<void>;
  /** Stops taking jobs (running ones finish), so a test can look at a page while its scan waits. */
  pauseWorker(): Promise<void>;
  resumeWorker(): void;
  stop(): Promise<void>;
}

export async function startProductStack(opts: { dataDir: string; vulnIndex: () => VulnIndex | null }): Promise<ProductStack> {
  const server: Server = createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let parts: { store: LowdbStore; results: JournalResultsStore; worker: WorkerPool } | undefined;
  const need = () => {
    if (!parts) throw new Error('attach() first');
    return parts;
  };
  return {
    baseUrl,
    async attach(origins) {
      const loaded = loadConfig({ BASE_URL: baseUrl, DATA_DIR: opts.dataDir, BITBUCKET_BASE_URLS: origins.web, BITBUCKET_API_URLS: origins.api, LOG_LEVEL: 'silent' });
      if (!loaded.ok) throw new Error(loaded.problems.join('; '));
      const { config } = loaded;
      const logger = createLogger('silent');
      const store = new LowdbStore({ dataDir: config.dataDir });
      await store.open();
      const results = new JournalResultsStore({ dataDir: config.dataDir });
      await results.open();
      const { worker, budget } = createPipeline({ config, store, results, logger, pollMs: 20, vulnIndex: opts.vulnIndex });
      const app = createApp({ config, store, results, budget, logger, onJobQueued: () => worker.wake() });
      server.removeAllListeners('request');
      server.on('request', app);
      worker.start();
      parts = { store, results, worker };
    },
    store: () => need().store,
    results: () => need().results,
    async settle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const jobs = await need().store.listJobs();
        if (jobs.every((j) => j.status === 'done' || j.status === 'dead')) return;
        if (Date.now() > deadline) throw new Error('jobs still pending');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    pauseWorker: () => need().worker.stop(),
    resumeWorker: () => need().worker.start(),
    async stop() {
      await parts?.worker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await parts?.results.close();
      await parts?.store.close();
    },
  };
}
