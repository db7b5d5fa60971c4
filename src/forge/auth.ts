import type { RequestHandler, Response } from 'express';
import type { Logger } from '../log.ts';
import { sendError } from '../http/errors.ts';
import { bearerToken, fitVerifier, type FitVerifierOptions, type ForgeInvocation } from './fit.ts';
import { JwksUnavailableError } from './jwks.ts';

const FIT_LOCAL = 'forgeInvocation';

/** The verified FIT of a request that passed `requireFit`. */
export function invocationOf(res: Response): ForgeInvocation {
  const invocation = res.locals[FIT_LOCAL] as ForgeInvocation | undefined;
  if (!invocation) throw new Error('invocationOf() called on a route that did not verify a FIT');
  return invocation;
}

/**
 * Every `/forge/*` request passes here before anything else (body included) is read: a bad
 * FIT is 401 with a JSON body (what `invokeRemote` reserves 401 for), keys that cannot be
 * fetched are 503 with Retry-After, so Forge retries rather than counting the call as refused.
 */
export function requireFit(options: FitVerifierOptions & { logger: Logger }): RequestHandler {
  const verify = fitVerifier(options);
  return async (req, res, next) => {
    try {
      const result = await verify(bearerToken(req.get('authorization')));
      if (!result.ok) {
        options.logger.warn({ reason: result.reason, path: req.path }, 'Forge call refused');
        sendError(res, 401, result.reason, result.message);
        return;
      }
      res.locals[FIT_LOCAL] = result.invocation;
      next();
    } catch (error) {
      if (error instanceof JwksUnavailableError) {
        options.logger.warn({ err: error.message, path: req.path }, 'Forge signing keys unavailable; answering 503');
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
        sendError(res, 503, 'forge_keys_unavailable', 'Forge signing keys cannot be fetched right now; try again shortly');
        return;
      }
      next(error);
    }
  };
}
