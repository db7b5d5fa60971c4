import type { IncomingMessage, ServerResponse } from 'node:http';
import { TenantQueueFullError } from '../core/tenant-queue-limit.ts';
import type { Logger } from '../log.ts';
import { StoreUnavailableError } from '../store/unavailable.ts';
import { HttpError, sendError, sendStoreUnavailable } from './errors.ts';
import { lingerAfterRefusal } from './linger.ts';

/**
 * How a webhook intake (Connect's, Data Center's) answers a delivery it failed on, in one
 * place so both front doors refuse alike: a full tenant queue is 429 with Retry-After (come
 * back later; nothing was recorded), a store that is down 503 with Retry-After (so the sender
 * delivers again), an HttpError its own status, anything else a 500 that names no internals.
 */
export interface IntakeErrorContext {
  logger: Logger;
  /** Headers on every answer (the fixed security headers). */
  security: readonly string[];
  /** For a body left unread: the same plus `Connection: close`. */
  closing: readonly string[];
  /** Named in log lines: `webhook`, `Data Center webhook`. */
  label: string;
  /** What a tenant is called at this door: `installation`, `instance`. */
  tenant: string;
  /** The route, for the log line of an unexpected failure. */
  path: string;
}

export function respondToIntakeError(req: IncomingMessage, res: ServerResponse, err: unknown, ctx: IntakeErrorContext): void {
  if (res.headersSent) return;
  if (err instanceof TenantQueueFullError) {
    // Told to come back later, not that the delivery is bad: nothing of it was recorded.
    ctx.logger.warn({ clientKey: err.clientKey, limit: err.limit }, `${ctx.label} refused: the ${ctx.tenant} has too many queued jobs`);
    sendError(res, 429, 'tenant_queue_full', err.message, [...ctx.security, 'Retry-After', String(err.retryAfterSeconds)]);
    return;
  }
  if (err instanceof StoreUnavailableError) {
    // Nothing was recorded: a 503 makes the sender deliver it again (a 202 would lose it).
    sendStoreUnavailable(res, ctx.logger, err, ctx.security);
    return;
  }
  if (err instanceof HttpError) {
    const refused = err.status === 413 || err.status === 415;
    // The sender is still sending: let it read the refusal before the socket closes.
    if (refused) lingerAfterRefusal(req);
    const unread = refused || err.code === 'request_aborted';
    sendError(res, err.status, err.code, err.message, unread ? ctx.closing : ctx.security);
    return;
  }
  // Unexpected: the detail is for operators, the client gets the same answer as elsewhere.
  ctx.logger.error({ err, method: req.method, path: ctx.path }, 'unhandled error');
  sendError(res, 500, 'internal_error', 'Internal server error', ctx.security);
}
