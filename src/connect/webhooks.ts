import type { Router } from 'express';
import { parseCloudEvent } from '../bitbucket/events/index.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { sha256Hex } from '../crypto.ts';
import { readBody } from '../http/body.ts';
import { HttpError, sendJson } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import { authOf, AuthRequirement, requireAuth, type AuthDeps } from './auth.ts';

export const WEBHOOK_PATH = '/connect/webhook';

/** Bitbucket caps payloads at 256 KB; 1 MB leaves room without inviting memory abuse. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const REQUEST_UUID = /^[A-Za-z0-9._:-]{1,128}$/;

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
}

/**
 * Verify, then receive: the JWT (with its qsh) is checked from headers alone before a byte
 * of body is read, so unauthenticated senders cannot make us buffer or parse anything.
 * Then parse, validate, record + enqueue in one store step, and answer 202 without waiting
 * for the work (Bitbucket gives up after 10 s and retries).
 */
export function addWebhookRoute(router: Router, deps: WebhookDeps): void {
  router.post(WEBHOOK_PATH, requireAuth(AuthRequirement.SignedRequest, deps), async (req, res) => {
    const { clientKey } = authOf(res);
    const bytes = await readBody(req, WEBHOOK_BODY_LIMIT);
    if (bytes.length === 0) throw new HttpError(400, 'empty_body', 'The webhook body is empty');

    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new HttpError(400, 'malformed_json', 'The webhook body is not valid JSON');
    }
    if (!isObject(body)) throw new HttpError(400, 'malformed_payload', 'The webhook body must be a JSON object');

    const { payload, bodyEvent } = unwrap(body);
    const headerEvent = req.get('x-event-key');
    const eventKey = headerEvent ?? bodyEvent;
    if (!eventKey) throw new HttpError(400, 'missing_event_key', 'No X-Event-Key header and no "event" in the body');
    if (headerEvent && bodyEvent && headerEvent !== bodyEvent) {
      throw new HttpError(400, 'event_key_mismatch', `X-Event-Key "${headerEvent}" disagrees with body event "${bodyEvent}"`);
    }

    const requestUuid = req.get('x-request-uuid');
    if (requestUuid !== undefined && !REQUEST_UUID.test(requestUuid)) {
      throw new HttpError(400, 'invalid_request_uuid', 'X-Request-UUID must be 1 to 128 letters, digits, dots, dashes, colons or underscores');
    }
    // Without a request id, identical bytes are the same delivery.
    const deliveryId = requestUuid ?? `sha256:${sha256Hex(bytes)}`;
    // One line per delivery with its bindings inline: a pino child per request cost more
    // than the line itself.
    const delivery = { clientKey, requestId: deliveryId, event: eventKey };

    const parsed = parseCloudEvent(eventKey, payload, deliveryId);
    if (parsed.kind === 'invalid') {
      deps.logger.warn({ ...delivery, problems: parsed.problems }, 'webhook payload rejected');
      throw new HttpError(400, 'invalid_payload', `The ${eventKey} payload is invalid: ${parsed.problems.join('; ')}`);
    }
    const tenant = { clientKey };
    const result =
      parsed.kind === 'event'
        ? await deps.dispatcher.dispatch(tenant, parsed.event)
        : await deps.dispatcher.ignore(tenant, { deliveryId, sourceEvent: eventKey });

    const status = parsed.kind === 'event' ? 'accepted' : 'ignored';
    deps.logger.info({ ...delivery, status, duplicate: result.duplicate, jobId: result.jobId }, 'webhook acknowledged');
    sendJson(res, result.duplicate ? 200 : 202, { status, duplicate: result.duplicate, deliveryId, jobId: result.jobId });
  });
}
