import type { RequestHandler, Response } from 'express';
import { sendError } from '../http/errors.ts';
import type { Installation, Store } from '../store/types.ts';
import { installationInstance, mintSessionToken, SESSION_FIELD, SESSION_HEADER, verifySessionToken, type PageSession } from './session-token.ts';

export interface SessionDeps {
  sessionKey: Buffer;
  store: Pick<Store, 'getInstallation'>;
  now: () => Date;
  /** The app's own origin: the only one allowed to post. */
  appOrigin: string;
}

export interface SessionContext {
  session: PageSession;
  installation: Installation;
}

const SESSION_LOCAL = 'gatehousePageSession';

export function sessionOf(res: Response): SessionContext {
  const ctx = res.locals[SESSION_LOCAL] as SessionContext | undefined;
  if (!ctx) throw new Error('sessionOf() called on a route without requireSession');
  return ctx;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Authenticates a request the page makes after its load: the token from the header (fetch)
 * or the hidden form field (a plain form post), verified, for an installation that is still
 * installed, and still the same installation the page was opened under. The answer carries a
 * fresh token, so 15 minutes is an idle limit; the hard limit is the session's absolute end.
 *
 * The token is the CSRF defence (see session-token.ts). The origin checks below are a second
 * layer: a browser says where a post comes from, and only our own pages post here.
 */
export function requireSession(deps: SessionDeps): RequestHandler {
  return async (req, res, next) => {
    try {
      if (!SAFE_METHODS.has(req.method)) {
        const site = req.get('sec-fetch-site');
        const origin = req.get('origin');
        if ((site && site !== 'same-origin' && site !== 'none') || (origin && origin !== deps.appOrigin)) {
          sendError(res, 403, 'cross_origin_request', 'Requests that change data must come from Gatehouse pages');
          return;
        }
      }
      const body = (req.body ?? {}) as Record<string, unknown>;
      const field = typeof body[SESSION_FIELD] === 'string' ? (body[SESSION_FIELD] as string) : undefined;
      const result = verifySessionToken(deps.sessionKey, req.get(SESSION_HEADER) ?? field, deps.now());
      if (!result.ok) {
        sendError(res, 401, result.reason, result.message);
        return;
      }
      const installation = await deps.store.getInstallation(result.session.clientKey);
      if (!installation || installation.state !== 'installed') {
        sendError(res, 401, 'session_invalid', 'Gatehouse is no longer installed in this workspace');
        return;
      }
      if (result.session.instance !== installationInstance(installation)) {
        sendError(res, 401, 'session_invalid', 'Gatehouse was reinstalled since this page was opened; reload the page');
        return;
      }
      const { expiresAt: _old, ...claims } = result.session;
      const fresh = mintSessionToken(deps.sessionKey, claims, deps.now());
      res.setHeader(SESSION_HEADER, fresh.token);
      // Answers carry a token and per-user content: never cached anywhere.
      res.setHeader('Cache-Control', 'no-store');
      res.locals[SESSION_LOCAL] = { session: { ...claims, expiresAt: fresh.expiresAt }, installation, token: fresh.token } satisfies SessionContext & { token: string };
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The token the answer to this request carries (to render into a full page after a plain form post). */
export function freshTokenOf(res: Response): string {
  return (res.locals[SESSION_LOCAL] as { token: string }).token;
}
