import type { RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';
import { sendError } from '../http/errors.ts';
import type { Installation, Store } from '../store/types.ts';
import { extractToken, verifyConnectJwt, type ConnectClaims, type JwtFailure } from './jwt.ts';
import { basePathOf } from './qsh.ts';
import { activeTenant } from './tenants.ts';

/**
 * What a route checks before its handler runs. Every Connect route names one; there is no
 * default, so a new route cannot end up unauthenticated by omission.
 */
export const AuthRequirement = {
  /** Public: the descriptor, health. */
  None: 'none',
  /**
   * The `installed` callback: whether a JWT is required depends on what the store knows about
   * the clientKey (see lifecycle.ts), so the route runs the install state machine itself.
   */
  LifecycleInstall: 'lifecycle-install',
  /** Server-to-server call from Bitbucket: `Authorization: JWT` with a qsh for this request. */
  SignedRequest: 'signed-request',
  /** Iframe load: `?jwt=` (or the header) with a qsh for this URL; Bitbucket has no context-qsh. */
  IframeJwt: 'iframe-jwt',
} as const;
export type AuthRequirement = (typeof AuthRequirement)[keyof typeof AuthRequirement];

export interface AuthContext {
  clientKey: string;
  installation: Installation;
  claims: ConnectClaims;
}

export interface AuthDeps {
  config: Pick<Config, 'baseUrl' | 'encryptionKey'>;
  store: Store;
  now: () => Date;
}

const AUTH_LOCAL = 'connectAuth';

/** The verified tenant of a request that passed SignedRequest or IframeJwt. */
export function authOf(res: Response): AuthContext {
  const auth = res.locals[AUTH_LOCAL] as AuthContext | undefined;
  if (!auth) throw new Error('authOf() called on a route that did not authenticate');
  return auth;
}

/** What authentication needs of a request, whichever HTTP layer received it. */
export interface AuthRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  authorization: string | undefined;
}

export type AuthOutcome = { ok: true; auth: AuthContext } | { ok: false; reason: JwtFailure; message: string };

/**
 * Checks a request against a SignedRequest or IframeJwt requirement. Framework-free, so the
 * webhook intake (plain node:http, see webhooks.ts) and the Express routes share one path.
 */
export function authenticator(requirement: typeof AuthRequirement.SignedRequest | typeof AuthRequirement.IframeJwt, deps: AuthDeps) {
  const basePath = basePathOf(deps.config.baseUrl);
  const acceptQueryToken = requirement === AuthRequirement.IframeJwt;
  return async (req: AuthRequest): Promise<AuthOutcome> => {
    const q = req.url.indexOf('?');
    const query = acceptQueryToken && q !== -1 ? new URLSearchParams(req.url.slice(q + 1)) : null;
    let installation: Installation | undefined;
    const result = await verifyConnectJwt(
      extractToken(req.authorization, query),
      { method: req.method, originalUrl: req.url, basePath },
      async (clientKey) => {
        const tenant = await activeTenant(deps.store, deps.config.encryptionKey, clientKey);
        installation = tenant?.installation;
        return tenant?.sharedSecret;
      },
      deps.now(),
    );
    if (!result.ok) return result;
    // A successful verification implies the lookup above found the installation.
    if (!installation) throw new Error('JWT verified without an installation');
    return { ok: true, auth: { clientKey: result.clientKey, installation, claims: result.claims } };
  };
}

export function requireAuth(requirement: AuthRequirement, deps: AuthDeps): RequestHandler {
  if (requirement === AuthRequirement.None || requirement === AuthRequirement.LifecycleInstall) {
    return (_req, _res, next) => next();
  }
  const authenticate = authenticator(requirement, deps);
  return async (req, res, next) => {
    try {
      const outcome = await authenticate({ method: req.method, url: req.originalUrl, authorization: req.get('authorization') });
      if (!outcome.ok) {
        sendError(res, 401, outcome.reason, outcome.message);
        return;
      }
      res.locals[AUTH_LOCAL] = outcome.auth;
      next();
    } catch (err) {
      next(err);
    }
  };
}
