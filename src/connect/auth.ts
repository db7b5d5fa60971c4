import type { RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';
import { sendError } from '../http/errors.ts';
import type { Installation, Store } from '../store/types.ts';
import { extractToken, verifyConnectJwt, type ConnectClaims } from './jwt.ts';
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

export function requireAuth(requirement: AuthRequirement, deps: AuthDeps): RequestHandler {
  if (requirement === AuthRequirement.None || requirement === AuthRequirement.LifecycleInstall) {
    return (_req, _res, next) => next();
  }
  const basePath = basePathOf(deps.config.baseUrl);
  const acceptQueryToken = requirement === AuthRequirement.IframeJwt;
  return async (req, res, next) => {
    try {
      const q = req.originalUrl.indexOf('?');
      const query = acceptQueryToken && q !== -1 ? new URLSearchParams(req.originalUrl.slice(q + 1)) : null;
      const token = extractToken(req.get('authorization'), query);
      let installation: Installation | undefined;
      const result = await verifyConnectJwt(
        token,
        { method: req.method, originalUrl: req.originalUrl, basePath },
        async (clientKey) => {
          const tenant = await activeTenant(deps.store, deps.config.encryptionKey, clientKey);
          installation = tenant?.installation;
          return tenant?.sharedSecret;
        },
        deps.now(),
      );
      if (!result.ok) {
        sendError(res, 401, result.reason, result.message);
        return;
      }
      // A successful verification implies the lookup above found the installation.
      if (!installation) throw new Error('JWT verified without an installation');
      res.locals[AUTH_LOCAL] = { clientKey: result.clientKey, installation, claims: result.claims } satisfies AuthContext;
      next();
    } catch (err) {
      next(err);
    }
  };
}
