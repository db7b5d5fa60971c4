import type { Router } from 'express';
import type { Config } from '../config.ts';
import type { ClientSource, ClientTuning } from '../codehost/cloud/clients.ts';
import type { Logger } from '../log.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Store } from '../store/types.ts';
import type { Diagnostics } from '../core/diagnostics/view.ts';
import { addDescriptorRoute } from './descriptor.ts';
import { addLifecycleRoutes } from './lifecycle.ts';
import { addPageRoutes } from './pages.ts';

export interface ConnectDeps {
  config: Config;
  store: Store;
  now: () => Date;
  logger: Logger;
  /** With results and clients, the iframe pages are served (they show and change results). */
  results?: ResultsStore;
  clients?: ClientSource;
  /** Bitbucket client settings for calls made while answering (tests shorten retries, fake the network). */
  clientTuning?: ClientTuning;
  /** The settings page's Health section. */
  diagnostics?: Diagnostics;
}

/**
 * The Connect front door's Express routes: descriptor, lifecycle and iframe pages,
 * registered on the caller's router. Webhooks have their own intake (webhooks.ts), which
 * createApp puts in front of Express.
 */
export function addConnectRoutes(router: Router, deps: ConnectDeps): void {
  addDescriptorRoute(router, deps);
  addLifecycleRoutes(router, deps);
  if (deps.results && deps.clients) addPageRoutes(router, { ...deps, results: deps.results, clients: deps.clients });
}
