import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DomainEvent } from '../core/events.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { sha256Hex } from '../crypto.ts';
import type { Logger } from '../log.ts';
import { HttpError, sendJson } from './errors.ts';

/**
 * The part every webhook intake (Connect's, Data Center's) shares once a delivery is verified:
 * which delivery it is, recording it, and the answer. In one place so both doors deduplicate,
 * refuse a bad payload and acknowledge alike.
 */

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The sender's id header (X-Request-UUID, X-Request-Id) when it has one; without, identical bytes are the same delivery. */
export function deliveryIdOf(req: IncomingMessage, headerName: string, bytes: Buffer): string {
  const id = header(req, headerName.toLowerCase());
  if (id !== undefined && !DELIVERY_ID.test(id)) {
    throw new HttpError(400, `invalid_${headerName.toLowerCase().replace(/^x-/, '').replace(/-/g, '_')}`, `${headerName} must be 1 to 128 letters, digits, dots, dashes, colons or underscores`);
  }
  return id ?? `sha256:${sha256Hex(bytes)}`;
}

/** The verified body as a JSON object: 400 naming the problem when it is empty, not JSON or not an object. */
export function jsonObjectBody(bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) throw new HttpError(400, 'empty_body', 'The webhook body is empty');
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HttpError(400, 'malformed_json', 'The webhook body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'malformed_payload', 'The webhook body must be a JSON object');
  return body as Record<string, unknown>;
}

export type ParsedDelivery =
  | { kind: 'event'; event: DomainEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unhandled' }
  | { kind: 'invalid'; problems: string[] };

export interface RecordContext {
  dispatcher: Dispatcher;
  /**
   * The app's logger, unbound: the tenant and the delivery id go on each line instead of on a
   * child logger, which serialised them on every delivery even with the lines below the level.
   */
  logger: Logger;
  security: readonly string[];
  /** Named in log lines: `webhook`, `Data Center webhook`. */
  label: string;
  clientKey: string;
  eventKey: string;
  deliveryId: string;
}

/**
 * 400 naming the problems of an invalid payload; otherwise the event is queued (or the delivery
 * recorded as ignored, so a redelivery is a duplicate too), then 202, or 200 for a duplicate.
 */
export async function recordAndAcknowledge(res: ServerResponse, parsed: ParsedDelivery, ctx: RecordContext): Promise<void> {
  const { eventKey, deliveryId, logger, clientKey } = ctx;
  if (parsed.kind === 'invalid') {
    logger.warn({ clientKey, requestId: deliveryId, event: eventKey, problems: parsed.problems }, `${ctx.label} payload rejected`);
    throw new HttpError(400, 'invalid_payload', `The ${eventKey} payload is invalid: ${parsed.problems.join('; ')}`);
  }
  const tenant = { clientKey };
  const result =
    parsed.kind === 'event'
      ? await ctx.dispatcher.dispatch(tenant, parsed.event)
      : await ctx.dispatcher.ignore(tenant, { deliveryId, sourceEvent: eventKey });
  const status = parsed.kind === 'event' ? 'accepted' : 'ignored';
  const reason = parsed.kind === 'ignored' ? parsed.reason : undefined;
  logger.info({ clientKey, requestId: deliveryId, event: eventKey, status, reason, duplicate: result.duplicate, jobId: result.jobId }, `${ctx.label} acknowledged`);
  sendJson(res, result.duplicate ? 200 : 202, { status, ...(reason ? { reason } : {}), duplicate: result.duplicate, deliveryId, jobId: result.jobId }, ctx.security);
}
