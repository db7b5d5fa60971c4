import express, { type Request, type Router } from 'express';
import type { Config } from '../config.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { TenantQueueFullError } from '../core/tenant-queue-limit.ts';
import { HttpError, sendError, sendJson } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import type { ClientSource } from '../codehost/cloud/clients.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Store } from '../store/types.ts';
import { invocationOf, requireFit } from './auth.ts';
import { parseForgeEvent, unwrapForgeEvent } from './events.ts';
import { JwksCache } from './jwks.ts';
import { installationFor, uninstall, type ForgeInstallationDeps } from './installations.ts';
import { addForgeUiRoutes } from './ui-routes.ts';
import type { ForgeUserPermissions } from './user-permissions.ts';

/** Forge's product events are a few KB; the same bound as Connect webhooks. */
export const FORGE_BODY_LIMIT = 1024 * 1024;

export const FORGE_PATHS = {
  events: '/forge/events',
  lifecycle: '/forge/lifecycle',
  uninstall: '/forge/uninstall',
  scheduled: '/forge/scheduled',
} as const;

export interface ForgeDeps {
  config: Config & { forge: NonNullable<Config['forge']> };
  store: Store;
  now: () => Date;
  logger: Logger;
  dispatcher: Dispatcher;
  /** Injected by tests; built from FORGE_JWKS_URL otherwise. */
  keys?: JwksCache;
  /** With these, the Custom UI resolver routes are served. */
  ui?: { results: ResultsStore; clients: ClientSource; permissions: ForgeUserPermissions };
}

function systemTokenOf(req: Request): string | undefined {
  const value = req.get('x-forge-oauth-system');
  return value === undefined || value === '' ? undefined : value;
}

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'malformed_payload', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

/**
 * The Forge Remote front door: every `/forge/*` request carries a FIT, verified before its
 * body is read. Each call brings the installation up to date from its FIT and offers the
 * system token it carries, so any call (event, lifecycle, hourly trigger) refreshes the token
 * background jobs use.
 */
export function addForgeRoutes(router: Router, deps: ForgeDeps): { keys: JwksCache } {
  const keys = deps.keys ?? new JwksCache({ url: deps.config.forge.jwksUrl, now: () => deps.now().getTime() });
  const installations: ForgeInstallationDeps = { config: deps.config, store: deps.store, now: deps.now, logger: deps.logger };
  router.use('/forge', requireFit({ appId: deps.config.forge.appId, keys, now: deps.now, logger: deps.logger }));
  const json = express.json({ limit: FORGE_BODY_LIMIT, type: () => true });

  router.post(FORGE_PATHS.events, json, async (req, res, next) => {
    try {
      const installation = await installationFor(installations, invocationOf(res), systemTokenOf(req));
      const event = unwrapForgeEvent(objectBody(req));
      const parsed = parseForgeEvent(event);
      const log = deps.logger.child({ clientKey: installation.clientKey, installationId: installation.installationId });
      if (parsed.kind === 'invalid') {
        log.warn({ problems: parsed.problems }, 'Forge event rejected');
        throw new HttpError(400, 'invalid_payload', `The Forge event is invalid: ${parsed.problems.join('; ')}`);
      }
      const workspace = parsed.workspaceUuid?.replace(/^\{|\}$/g, '');
      // The FIT says which workspace the installation serves; a body naming another is not its event.
      if (workspace !== undefined && workspace !== installation.workspaceId) {
        log.warn({ bodyWorkspace: workspace }, 'Forge event for another workspace refused');
        throw new HttpError(403, 'forge_workspace_mismatch', "The event's workspace is not the installation's workspace");
      }
      if (parsed.kind === 'ignored') {
        sendJson(res, 200, { status: 'ignored', reason: parsed.why });
        return;
      }
      const result = await deps.dispatcher.dispatch({ clientKey: installation.clientKey }, parsed.event);
      log.info({ event: parsed.event.sourceEvent, duplicate: result.duplicate, jobId: result.jobId, deliveryId: parsed.event.deliveryId }, 'Forge event acknowledged');
      sendJson(res, result.duplicate ? 200 : 202, { status: 'accepted', duplicate: result.duplicate, deliveryId: parsed.event.deliveryId, jobId: result.jobId });
    } catch (error) {
      if (error instanceof TenantQueueFullError) {
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
        sendError(res, 429, 'tenant_queue_full', error.message);
        return;
      }
      next(error);
    }
  });

  router.post(FORGE_PATHS.lifecycle, json, async (req, res, next) => {
    try {
      const body = objectBody(req);
      const eventType = typeof body.eventType === 'string' ? body.eventType : undefined;
      const installation = await installationFor(installations, invocationOf(res), systemTokenOf(req));
      deps.logger.info({ installationId: installation.installationId, clientKey: installation.clientKey, eventType }, 'Forge lifecycle event');
      sendJson(res, 200, { status: 'ok', clientKey: installation.clientKey });
    } catch (error) {
      next(error);
    }
  });

  router.post(FORGE_PATHS.scheduled, json, async (req, res, next) => {
    try {
      const installation = await installationFor(installations, invocationOf(res), systemTokenOf(req));
      sendJson(res, 200, { status: 'ok', tokenExpiresAt: installation.systemToken?.expiresAt ?? null });
    } catch (error) {
      next(error);
    }
  });

  router.post(FORGE_PATHS.uninstall, json, async (_req, res, next) => {
    try {
      const invocation = invocationOf(res);
      const installation = await deps.store.getForgeInstallation(invocation.installationId);
      // Uninstalling what was never seen, or twice, leaves nothing to do: still a success for Forge.
      if (installation && installation.state === 'installed') await uninstall(installations, installation);
      sendJson(res, 200, { status: 'uninstalled' });
    } catch (error) {
      next(error);
    }
  });

  if (deps.ui) addForgeUiRoutes(router, { ...installations, ...deps.ui, bitbucketBaseUrls: deps.config.bitbucketBaseUrls });
  return { keys };
}
