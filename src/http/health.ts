import type { RequestHandler } from 'express';
import { sendError } from './errors.ts';

/**
 * `GET /healthz`: 200 once the store is open (CONTRACT.md). The server only builds the
 * app after `store.open()` resolves, and flips `isOpen` to false when shutdown starts so a
 * load balancer stops sending traffic while in-flight requests finish.
 */
export function healthz(isOpen: () => boolean): RequestHandler {
  return (_req, res) => {
    if (isOpen()) res.json({ status: 'ok' });
    else sendError(res, 503, 'unavailable', 'The store is not open');
  };
}
