import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';
import { authenticator, AuthRequirement } from '../connect/auth.ts';
import { sendError } from '../http/errors.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Installation, Store } from '../store/types.ts';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_HEADER, verifySessionToken } from './session-token.ts';

/**
 * Who is calling `/api/*`, in one of three ways, each scoped to one installation:
 * - `jwt`: a Connect JWT with a qsh for the request (server to server, as Bitbucket signs);
 * - `page`: the page session token of a Gatehouse page (X-Gatehouse-Session), whose user
 *   is known, so admin-only routes can ask Bitbucket about that user;
 * - `token`: `Authorization: Bearer <API token>` that a workspace admin created on the
 *   settings page, for automation outside the iframe.
 */

export type ApiCallerKind = 'jwt' | 'page' | 'token';

export interface ApiCaller {
  clientKey: string;
  installation: Installation;
  via: ApiCallerKind;
  /** Bitbucket account (uuid) for `jwt` and `page` callers, when known. */
  user: string | null;
  /** For `token` callers: which token. */
  tokenId: string | null;
  /** How the caller is named in records (a triage mark's `by`). */
  name: string;
}

/** API tokens start with this, so a leaked one is recognisable (secret scanners) and never mistaken for a JWT. */
export const API_TOKEN_PREFIX = 'ghtok_';

export function newApiToken(): { token: string; hash: string } {
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: apiTokenHash(token) };
}

/** A 256-bit random token needs no slow hash: sha256 cannot be reversed, nor the token guessed. */
export function apiTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface ApiAuthDeps {
  config: Pick<Config, 'baseUrl' | 'encryptionKey'>;
  store: Store;
  results: Pick<ResultsStore, 'findApiToken' | 'putApiToken'>;
  now: () => Date;
}

const CALLER_LOCAL = 'gatehouseApiCaller';
/** Writing lastUsedAt on every call would append a record per request: once a minute is enough to show. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function callerOf(res: Response): ApiCaller {
  const caller = res.locals[CALLER_LOCAL] as ApiCaller | undefined;
  if (!caller) throw new Error('callerOf() called on a route without requireApiCaller');
  return caller;
}

export function requireApiCaller(deps: ApiAuthDeps): RequestHandler {
  const sessionKey = deriveSessionKey(deps.config.encryptionKey);
  const signed = authenticator(AuthRequirement.SignedRequest, deps);
  const appOrigin = new URL(deps.config.baseUrl).origin;

  async function installed(clientKey: string): Promise<Installation | undefined> {
    const installation = await deps.store.getInstallation(clientKey);
    return installation?.state === 'installed' ? installation : undefined;
  }

  return async (req, res, next) => {
    try {
      const authorization = req.get('authorization');
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      let caller: ApiCaller;
      if (bearer?.startsWith(API_TOKEN_PREFIX)) {
        const record = await deps.results.findApiToken(apiTokenHash(bearer));
        const installation = record && (await installed(record.clientKey));
        if (!record || !installation) {
          sendError(res, 401, 'invalid_api_token', 'This API token is unknown or revoked; an admin can create one on the Gatehouse settings page');
          return;
        }
        const now = deps.now();
        if (record.lastUsedAt === null || now.getTime() - Date.parse(record.lastUsedAt) > LAST_USED_RESOLUTION_MS) {
          await deps.results.putApiToken({ ...record, lastUsedAt: now.toISOString() });
        }
        caller = { clientKey: record.clientKey, installation, via: 'token', user: null, tokenId: record.id, name: `API token "${record.name}"` };
      } else if (req.get(SESSION_HEADER) !== undefined) {
        // A page's request: the session token is the CSRF defence, and only our own pages send it.
        const origin = req.get('origin');
        if (origin && origin !== appOrigin) {
          sendError(res, 403, 'cross_origin_request', 'Requests with a page session must come from Gatehouse pages');
          return;
        }
        const verified = verifySessionToken(sessionKey, req.get(SESSION_HEADER), deps.now());
        if (!verified.ok) {
          sendError(res, 401, verified.reason, verified.message);
          return;
        }
        const installation = await installed(verified.session.clientKey);
        if (!installation || verified.session.instance !== installationInstance(installation)) {
          sendError(res, 401, 'session_invalid', 'Gatehouse was reinstalled or removed since this page was opened; reload the page');
          return;
        }
        const user = verified.session.user;
        caller = { clientKey: installation.clientKey, installation, via: 'page', user, tokenId: null, name: user ?? installation.clientKey };
        // Renewed on every answer, as the pages' own requests are (ui/session.ts): a settings
        // page that polls its coverage stays signed in until the session's absolute end.
        const { expiresAt: _old, ...claims } = verified.session;
        res.setHeader(SESSION_HEADER, mintSessionToken(sessionKey, claims, deps.now()).token);
      } else {
        const outcome = await signed({ method: req.method, url: req.originalUrl, authorization });
        if (!outcome.ok) {
          sendError(res, 401, outcome.reason, `${outcome.message}. /api/* takes a Connect JWT, a Gatehouse page session or an API token (Authorization: Bearer ${API_TOKEN_PREFIX}...)`);
          return;
        }
        const user = outcome.auth.claims.sub ?? null;
        caller = { clientKey: outcome.auth.clientKey, installation: outcome.auth.installation, via: 'jwt', user, tokenId: null, name: user ?? outcome.auth.clientKey };
      }
      res.locals[CALLER_LOCAL] = caller;
      res.setHeader('Cache-Control', 'no-store');
      next();
    } catch (error) {
      next(error);
    }
  };
}
