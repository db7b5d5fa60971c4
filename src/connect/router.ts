import type { Router } from 'express';
import type { Config } from '../config.ts';
import type { ClientSource } from '../core/bitbucket-clients.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import type { Logger } from '../log.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Store } from '../store/types.ts';
import { addDescriptorRoute } from './descriptor.ts';
import { addLifecycleRoutes } from './lifecycle.ts';
import { addPageRoutes } from './pages.ts';
import { addWebhookRoute } from './webhooks.ts';

export interface ConnectDeps {
  config: Config;
  store: Store;
  dispatcher: Dispatcher;
  now: () => Date;
  logger: Logger;
  /** With results and clients, the iframe pages are served (they show and change results). */
  results?: ResultsStore;
  clients?: ClientSource;
}

/**
 * The Connect front door: descriptor, lifecycle, webhooks and iframe pages, registered on
 * the caller's router. One flat router rather than one per module: every nested router is
 * another matching pass on every request, and the webhook route is the hot path.
 */
export function addConnectRoutes(router: Router, deps: ConnectDeps): void {
  addDescriptorRoute(router, deps);
  addLifecycleRoutes(router, deps);
  addWebhookRoute(router, deps);
  if (deps.results && deps.clients) addPageRoutes(router, { ...deps, results: deps.results, clients: deps.clients });
}
