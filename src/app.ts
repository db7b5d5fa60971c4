import type { RequestListener } from 'node:http';
import express from 'express';
import type { Config } from './config.ts';
import { apiRouter } from './connect/api-routes.ts';
import { addConnectRoutes } from './connect/router.ts';
import { basePathOf } from './connect/qsh.ts';
import { webhookIntake } from './connect/webhooks.ts';
import { bitbucketClients, type ClientTuning } from './codehost/cloud/clients.ts';
import { CallBudget } from './core/budget.ts';
import { createDispatcher, type Dispatcher } from './core/dispatch.ts';
import { DEFAULT_TENANT_QUEUE_LIMIT, limitQueuedJobs } from './core/tenant-queue-limit.ts';
import { datacenterResultsRouter } from './datacenter/results-routes.ts';
import { datacenterAdminRouter } from './datacenter/admin-routes.ts';
import { datacenterOperatorPage } from './datacenter/operator-page.ts';
import { datacenterWebhookIntake } from './datacenter/webhooks.ts';
import { addForgeRoutes } from './forge/router.ts';
import { forgeUserPermissions } from './forge/user-permissions.ts';
import { deadJobsAdminRouter } from './http/dead-jobs-route.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { healthz } from './http/health.ts';
import { DiagnosticsRecorder } from './core/diagnostics/recorder.ts';
import type { SharedDiagnostics } from './core/diagnostics/shared.ts';
import { Diagnostics } from './core/diagnostics/view.ts';
import { diagnosticsAdminRouter } from './connect/diagnostics-api.ts';
import { bitbucketPermissions } from './ui/permissions.ts';
import { securityHeaders } from './http/security.ts';
import { createLogger, type Logger } from './log.ts';
import type { ResultsStore } from './store/results-types.ts';
import type { Store } from './store/types.ts';

export interface AppOptions {
  config: Config;
  /** Already open. */
  store: Store;
  /** The one clock every time check uses; tests freeze it. */
  now?: () => Date;
  logger?: Logger;
  /** False once shutdown has begun: /healthz then answers 503. */
  ready?: () => boolean;
  /** Policy, triage and scan results; with it the JSON API (/api/*) and the iframe pages are served. */
  results?: ResultsStore;
  /** The per-installation budget of outbound Bitbucket calls, shared with the job pipeline. */
  budget?: CallBudget;
  /** Bitbucket client settings for the pages' own calls (tests shorten retries). */
  clientTuning?: ClientTuning;
  /** Called after a webhook's job is durably queued, so the worker pool picks it up at once. */
  onJobQueued?: () => void;
  /** Counters for the Health view; one is made when not given. Every metered call of `budget` is told to it. */
  diagnostics?: DiagnosticsRecorder;
  /** With several instances (PostgreSQL): the counters they share, which the Health view reads. */
  sharedDiagnostics?: SharedDiagnostics;
}

/**
 * The HTTP app: the only module that knows every front door. Routes answer both under the
 * BASE_URL path (a proxy that forwards paths unchanged) and at the root (a proxy that strips
 * the prefix); the JWT qsh is computed relative to the prefix either way.
 *
 * A plain request listener: webhook deliveries go to their own intake on node:http, every
 * other request to Express. Serve it with http.createServer(createApp(...)).
 */
export function createApp(options: AppOptions): RequestListener {
  const { config, store } = options;
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? createLogger(config.logLevel);
  const ready = options.ready ?? (() => true);

  const app = express();
  // Our qsh code parses the raw query itself; keep req.query flat and predictable too.
  app.set('query parser', 'simple');
  // Responses are API answers and per-request pages; an ETag would cost a hash per response
  // for nothing a client revalidates.
  app.set('etag', false);
  // Helmet would remove it again on every response; not setting it saves both steps.
  app.disable('x-powered-by');
  app.use(securityHeaders());

  const limited = limitQueuedJobs(createDispatcher(store), store, { limit: config.tenantQueueLimit ?? DEFAULT_TENANT_QUEUE_LIMIT, now: () => now().getTime() });
  const recorder = options.diagnostics ?? new DiagnosticsRecorder({ now });
  const dispatcher = notifying(recording(limited, recorder), options.onJobQueued);

  const routes = express.Router();
  routes.get('/healthz', healthz(ready));
  const { results } = options;
  const budget = options.budget ?? new CallBudget();
  budget.observe((clientKey, outcome) => recorder.call(clientKey, outcome));
  const diagnostics = new Diagnostics({ recorder, ...(options.sharedDiagnostics ? { shared: options.sharedDiagnostics } : {}), store, dataDir: config.dataDir, now, queueLimit: config.tenantQueueLimit ?? DEFAULT_TENANT_QUEUE_LIMIT });
  const tuning = options.clientTuning ? { tuning: options.clientTuning } : {};
  const clients = results ? bitbucketClients({ config, store, now: () => now().getTime(), budget, ...tuning }) : undefined;
  const clientTuning = options.clientTuning ? { clientTuning: options.clientTuning } : {};
  if (config.forge) {
    const permissions = forgeUserPermissions({ apiUrls: config.forge.apiUrls, budget, now: () => now().getTime(), ...tuning });
    addForgeRoutes(routes, { config: { ...config, forge: config.forge }, store, now, logger, dispatcher, ...(results && clients ? { ui: { results, clients, permissions } } : {}) });
  }
  addConnectRoutes(routes, { config, store, now, logger, diagnostics, ...clientTuning, ...(results && clients ? { results, clients } : {}) });
  if (results && clients) routes.use(apiRouter({ config, store, results, now, logger, permissions: bitbucketPermissions(clients), onJobQueued: options.onJobQueued, diagnostics }));
  // The operator API exists only with ADMIN_TOKEN set: without it, its paths are unknown routes.
  if (config.adminToken) {
    routes.use(datacenterAdminRouter({ adminToken: config.adminToken, instances: store, encryptionKey: config.encryptionKey, publicBaseUrl: config.baseUrl, now }));
    routes.use(deadJobsAdminRouter({ adminToken: config.adminToken, store }));
    routes.use(diagnosticsAdminRouter({ adminToken: config.adminToken, diagnostics }));
    // The page's styles and scripts are the pages' assets (/ui/static/), served beside them whenever results are.
    if (results) routes.use(datacenterResultsRouter({ adminToken: config.adminToken, store, results }), datacenterOperatorPage({ publicBaseUrl: config.baseUrl }));
  }

  const basePath = basePathOf(config.baseUrl);
  if (basePath !== '') app.use(basePath, routes);
  app.use(routes);

  app.use(notFound);
  app.use(errorHandler(logger));

  const webhooks = webhookIntake({ config, store, now, logger, dispatcher, diagnostics: recorder });
  const datacenterWebhooks = datacenterWebhookIntake({ basePath, store, encryptionKey: config.encryptionKey, dispatcher, logger, now });
  return (req, res) => {
    if (webhooks.handles(req)) webhooks.handle(req, res);
    else if (datacenterWebhooks.handles(req)) datacenterWebhooks.handle(req, res);
    else app(req, res);
  };
}

/** Last delivery per event type, whichever front door took it (the Health view). */
function recording(dispatcher: Dispatcher, recorder: DiagnosticsRecorder): Dispatcher {
  return {
    async dispatch(tenant, event) {
      const result = await dispatcher.dispatch(tenant, event);
      recorder.delivery(tenant.clientKey, event.sourceEvent);
      return result;
    },
    async ignore(tenant, delivery) {
      const result = await dispatcher.ignore(tenant, delivery);
      recorder.delivery(tenant.clientKey, delivery.sourceEvent);
      return result;
    },
  };
}

function notifying(dispatcher: Dispatcher, onJobQueued: (() => void) | undefined): Dispatcher {
  if (!onJobQueued) return dispatcher;
  return {
    ...dispatcher,
    async dispatch(tenant, event) {
      const result = await dispatcher.dispatch(tenant, event);
      if (result.jobId !== null) onJobQueued();
      return result;
    },
  };
}
