import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { DiagnosticsRecorder } from './core/diagnostics/recorder.ts';
import { persistDiagnostics } from './core/diagnostics/persist.ts';
import { shareDiagnostics } from './core/diagnostics/shared.ts';
import { loadConfig } from './config.ts';
import { createHttpServer } from './http/server.ts';
import { createLogger } from './log.ts';
import { createPipeline } from './core/pipeline.ts';
import { loopPressure } from './core/loop-pressure.ts';
import { datacenterJobOutcomes } from './datacenter/status.ts';
import { DatacenterTokenWatch } from './datacenter/token-watch.ts';
import { openStores, type OpenStores } from './store/open-stores.ts';
import { CoverageScheduler } from './core/coverage/scheduler.ts';
import { AdvisoryMonitor } from './core/monitoring/monitor.ts';

/** How long in-flight requests get to finish after SIGTERM before connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  for (const problem of loaded.problems) process.stderr.write(`${problem}\n`);
  process.exit(1);
}
const { config, warnings } = loaded;
const logger = createLogger(config.logLevel);
for (const warning of warnings) logger.warn(warning);

let stores: OpenStores;
try {
  stores = await openStores(config, logger);
} catch (err) {
  // A database that is down, or a schema this version cannot use: one clear line, exit 1.
  logger.fatal(`cannot open the store: ${(err as Error).message}`);
  process.stderr.write(`gatehouse: cannot open the store: ${(err as Error).message}\n`);
  process.exit(1);
}
const { store, results } = stores;
/** Requests the HTTP server received: jobs give way to them only while some are arriving (core/loop-pressure.ts). */
let requests = 0;
// Jobs a crash left running are back in the queue (store.open; on PostgreSQL once their lease
// runs out); the pool runs them first.
const { worker, budget } = createPipeline({
  config,
  store,
  results,
  logger,
  concurrency: config.workerConcurrency,
  ...(config.callBudget ? { budget: config.callBudget } : {}),
  // One budget per installation across every instance on PostgreSQL; in memory on the embedded store.
  ...(stores.callBuckets ? { sharedBuckets: stores.callBuckets } : {}),
  // A Data Center instance's refused token or outage goes on its status, once.
  onJobOutcome: datacenterJobOutcomes({ store, logger, now: () => new Date() }),
  ...(stores.pollMs !== undefined ? { pollMs: stores.pollMs } : {}),
  busy: loopPressure({ arrivals: () => requests }),
});
// Jobs other instances queue (PostgreSQL) wake this pool too.
await stores.listen(() => worker.wake());
// Discovery on install and daily, and the backfill chain kept going (core/coverage).
const coverage = new CoverageScheduler({ store, results, logger, onQueued: () => worker.wake() });
// OSV refreshed every OSV_UPDATE_INTERVAL and default branches re-evaluated (core/monitoring).
// A Data Center token registered anywhere releases the jobs that waited for one (datacenter/token-watch.ts).
const tokens = new DatacenterTokenWatch({ store, logger, now: () => new Date(), onReleased: () => worker.wake() });
const monitor = new AdvisoryMonitor({ config, store, results, logger, runAlone: stores.runAlone, onQueued: () => worker.wake() });

let accepting = true;
// The Health view's counters: shared by every instance on PostgreSQL, else kept in DATA_DIR across restarts.
const diagnostics = new DiagnosticsRecorder();
const sharedDiagnostics = stores.diagnostics ? shareDiagnostics(diagnostics, stores.diagnostics, { logger }) : undefined;
const keptDiagnostics = sharedDiagnostics ?? (await persistDiagnostics(diagnostics, { dataDir: config.dataDir, logger }));
const app = createApp({ config, store, results, budget, logger, diagnostics, ...(sharedDiagnostics ? { sharedDiagnostics } : {}), ready: () => accepting, onJobQueued: () => worker.wake() });
const server = createHttpServer(app).listen(config.port);

server.on('listening', () => {
  const { port } = server.address() as AddressInfo;
  logger.info({ port, baseUrl: config.baseUrl }, `Gatehouse listening on http://localhost:${port} (public URL ${config.baseUrl})`);
  worker.start();
  coverage.start();
  tokens.start();
  void monitor.start();
});
server.on('error', (err) => {
  logger.fatal({ err }, 'cannot listen');
  void stores.close().finally(() => process.exit(1));
});

// Responses still being worked on when shutdown starts are told to close their connection,
// so a keep-alive socket does not hold the process open for its idle timeout afterwards.
const inFlight = new Set<ServerResponse>();
server.on('request', (_req, res: ServerResponse) => {
  requests += 1;
  inFlight.add(res);
  res.on('close', () => inFlight.delete(res));
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  accepting = false;
  for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
  logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
  const force = setTimeout(() => {
    logger.warn('in-flight requests did not finish in time; closing their connections');
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  server.close(() => {
    Promise.all([coverage.stop(), monitor.stop(), tokens.stop(), keptDiagnostics.stop()])
      .then(() => worker.stop())
      .then(() => stores.close())
      .then(() => {
        logger.info('jobs finished and store closed; bye');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'store did not close cleanly');
        process.exit(1);
      });
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
