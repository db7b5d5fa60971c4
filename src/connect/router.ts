import { Router } from 'express';
import type { Config } from '../config.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { descriptorRouter } from './descriptor.ts';
import { lifecycleRouter } from './lifecycle.ts';
import { pagesRouter } from './pages.ts';
import { webhookRouter } from './webhooks.ts';

export interface ConnectDeps {
  config: Config;
  store: Store;
  dispatcher: Dispatcher;
  now: () => Date;
  logger: Logger;
}

/** The Connect front door: descriptor, lifecycle, webhooks and iframe pages. */
export function connectRouter(deps: ConnectDeps): Router {
  const router = Router();
  router.use(descriptorRouter(deps), lifecycleRouter(deps), webhookRouter(deps), pagesRouter(deps));
  return router;
}
