import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCloudEvent } from '../bitbucket/events/index.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { readBody } from '../http/body.ts';
import { HttpError, sendError } from '../http/errors.ts';
import { respondToIntakeError } from '../http/intake-errors.ts';
import { deliveryIdOf, header, jsonObjectBody, recordAndAcknowledge } from '../http/intake-record.ts';
import { fixedSecurityHeaders } from '../http/security.ts';
import type { Logger } from '../log.ts';
import { UNATTRIBUTED, type DiagnosticsRecorder } from '../core/diagnostics/recorder.ts';
import { authenticator, AuthRequirement, type AuthDeps } from './auth.ts';
import { claimedTenantOf, extractToken } from './jwt.ts';
import { basePathOf } from './qsh.ts';

export const WEBHOOK_PATH = '/connect/webhook';

/** Bitbucket caps payloads at 256 KB; 1 MB leaves room without inviting memory abuse. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;


function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Connect deliveries are `{"event": key, "data": payload}`; plain repository webhooks send
 * the payload bare. Bitbucket payloads have no top-level `data`, so its presence decides.
 */
function unwrap(body: Record<string, unknown>): { payload: unknown; bodyEvent: string | undefined } {
  const bodyEvent = typeof body.event === 'string' ? body.event : undefined;
  return isObject(body.data) ? { payload: body.data, bodyEvent } : { payload: body, bodyEvent };
}

export interface WebhookDeps extends AuthDeps {
  dispatcher: Dispatcher;
  logger: Logger;
  /** Counts refused deliveries for the installations' Health view. */
  diagnostics?: DiagnosticsRecorder;
}

export interface WebhookIntake {
  /** True for a POST to the webhook path, at the root or under BASE_URL's path. */
  handles(req: IncomingMessage): boolean;
  /** Answers the request itself; never throws, never leaves it unanswered. */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * The webhook route, served on plain node:http rather than through Express. It is the one
 * route Bitbucket calls at volume, and Express 5's per-request set-up (prototype swaps,
 * router pass, helmet's eleven middlewares) cost more than everything the route itself does;
 * see bench/webhook-ack.bench.ts. Every other route stays in Express.
 *
 * Verify, then receive: the JWT (with its qsh) is checked from headers alone before a byte
 * of body is read, so unauthenticated senders cannot make us buffer or parse anything.
 * Then parse, validate, record + enqueue in one store step, and answer 202 without waiting
 * for the work (Bitbucket gives up after 10 s and retries).
 */
export function webhookIntake(deps: WebhookDeps): WebhookIntake {
  const authenticate = authenticator(AuthRequirement.SignedRequest, deps);
  const basePath = basePathOf(deps.config.baseUrl);
  // Express matched a trailing slash too (non-strict routing); Bitbucket may be given either.
  const paths = new Set([WEBHOOK_PATH, `${WEBHOOK_PATH}/`, `${basePath}${WEBHOOK_PATH}`, `${basePath}${WEBHOOK_PATH}/`]);
  const security = fixedSecurityHeaders();
  // When a body is refused unread (or half read) the rest of it is still on the socket:
  // closing the connection beats having Node read and discard it for the next request.
  const closing = [...security, 'Connection', 'close'];
  const errors = { logger: deps.logger, security, closing, label: 'webhook', tenant: 'installation', path: WEBHOOK_PATH };

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const authorization = header(req, 'authorization');
    const outcome = await authenticate({ method: 'POST', url: req.url ?? '/', authorization });
    if (!outcome.ok) {
      sendError(res, 401, outcome.reason, outcome.message, closing);
      noteRefusal(authorization, outcome.reason, outcome.message);
      return;
    }
    const { clientKey } = outcome.auth;
    const bytes = await readBody(req, WEBHOOK_BODY_LIMIT);
    const { payload, bodyEvent } = unwrap(jsonObjectBody(bytes));
    const headerEvent = header(req, 'x-event-key');
    const eventKey = headerEvent ?? bodyEvent;
    if (!eventKey) throw new HttpError(400, 'missing_event_key', 'No X-Event-Key header and no "event" in the body');
    if (headerEvent && bodyEvent && headerEvent !== bodyEvent) {
      throw new HttpError(400, 'event_key_mismatch', `X-Event-Key "${headerEvent}" disagrees with body event "${bodyEvent}"`);
    }

    const deliveryId = deliveryIdOf(req, 'X-Request-UUID', bytes);
    const parsed = parseCloudEvent(eventKey, payload, deliveryId);
    await recordAndAcknowledge(res, parsed, { dispatcher: deps.dispatcher, logger: deps.logger, security, label: 'webhook', clientKey, eventKey, deliveryId });
  }

  /**
   * After the answer: a refusal is filed under the installation the token names when that
   * installation exists (its admins can act on it), else under no installation (the
   * operator's view), so forged issuers cannot fill the recorder with made-up tenants.
   */
  function noteRefusal(authorization: string | undefined, reason: string, message: string): void {
    const recorder = deps.diagnostics;
    if (!recorder) return;
    if (reason === 'jwt_unknown_tenant') {
      recorder.refused(UNATTRIBUTED, 'unknown_installation', message);
      return;
    }
    const claimed = claimedTenantOf(extractToken(authorization, null));
    const known = claimed ? deps.store.getInstallation(claimed) : Promise.resolve(undefined);
    known.then(
      (installation) => recorder.refused(installation?.state === 'installed' ? installation.clientKey : UNATTRIBUTED, 'bad_jwt', message),
      () => recorder.refused(UNATTRIBUTED, 'bad_jwt', message),
    );
  }

  return {
    handles(req) {
      if (req.method !== 'POST' || req.url === undefined) return false;
      const q = req.url.indexOf('?');
      return paths.has(q === -1 ? req.url : req.url.slice(0, q));
    },
    handle(req, res) {
      receive(req, res).catch((err: unknown) => respondToIntakeError(req, res, err, errors));
    },
  };
}
