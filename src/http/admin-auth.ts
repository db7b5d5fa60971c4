import type { RequestHandler } from 'express';
import { safeEqual } from '../crypto.ts';
import { sendError } from './errors.ts';

/**
 * The operator API's guard: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant
 * time (safeEqual hashes both sides, so neither the token's content nor its length leaks
 * through timing). Without ADMIN_TOKEN the operator API does not exist: callers do not
 * mount it, and a request gets the same 404 as any unknown path.
 */
export function requireAdminToken(adminToken: string): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match || !safeEqual(match[1]!, adminToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="gatehouse-admin"');
      sendError(res, 401, 'unauthorized', match ? 'The operator token is wrong' : 'Send the operator token as "Authorization: Bearer <ADMIN_TOKEN>"');
      return;
    }
    next();
  };
}
