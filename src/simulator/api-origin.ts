import express from 'express';
import type { Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { handlers } from './api-handlers.ts';
import type { ApiContext } from './api-handlers.ts';
import { permissionHandlers } from './permissions.ts';
import { ApiError, sendError } from './api-errors.ts';
import { verifyAppToken } from './jwt.ts';
import { hasScope } from './site.ts';
import type { Site } from './site.ts';
import type { Account, Installation } from './model.ts';

/**
 * The API origin (an installation's baseApiUrl): every request goes through
 * faults → authentication → OpenAPI check → the simulated endpoint.
 */
export function createApiOrigin(site: Site): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((req, _res, next) => {
    site.apiCalls.push({ method: req.method, path: req.path });
    next();
  });
  app.use(site.faults.middleware());
  app.use(express.raw({ type: () => true, limit: '5mb' }));
  app.use((req, res) => {
    handle(site, req, res).catch((error: unknown) => {
      if (error instanceof ApiError) return sendError(res, error.status, error.message);
      console.error('[bitbucket-sim] internal error', error);
      return sendError(res, 500, 'Internal simulator error');
    });
  });
  return app;
}

async function handle(site: Site, req: Request, res: Response): Promise<void> {
  const url = new URL(req.originalUrl, site.origins.api);
  if (!url.pathname.startsWith('/2.0/')) throw new ApiError(404, 'Resource not found');

  const caller = authenticate(site, req);
  const { installation } = caller;
  if (!installation?.installed) throw new ApiError(401, 'Installation is not active');

  const rawBody = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
  let body: unknown;
  if (rawBody) {
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      site.recordViolation({ kind: 'openapi', method: req.method, url: req.originalUrl, reason: 'request body is not valid JSON' });
      throw new ApiError(400, 'Malformed JSON body');
    }
  }

  const rawPath = url.pathname.slice('/2.0'.length);
  const checked = site.checker.check({ method: req.method, rawPath, query: url.searchParams, body, contentType: req.get('content-type') });
  if (!checked.ok) {
    site.recordViolation({ kind: 'openapi', method: req.method, url: req.originalUrl, reason: checked.reason });
    throw new ApiError(400, checked.reason);
  }
  const { match } = checked;
  if (caller.granularScopes) {
    // A Forge token holds the manifest's granular scopes, each needed one explicitly.
    const missing = match.granularScopes.filter((s) => !caller.granularScopes?.has(s));
    if (missing.length > 0) throw new ApiError(403, `Your credentials lack one or more required privilege scopes: ${missing.join(' and ')}`);
  } else {
    const needed = match.scopes;
    if (needed.length > 0 && !needed.some((s) => hasScope(site.grantedScopes, s))) {
      throw new ApiError(403, `Your credentials lack one or more required privilege scopes: ${needed.join(' or ')}`);
    }
  }

  const key = `${match.method} ${match.template}`;
  const handler = handlers[key] ?? permissionHandlers[key];
  if (!handler) {
    site.recordViolation({ kind: 'unsimulated', method: req.method, url: req.originalUrl, reason: `${match.method.toUpperCase()} ${match.template} is valid Bitbucket API but not simulated` });
    throw new ApiError(501, `The simulator does not implement ${match.method.toUpperCase()} ${match.template}`);
  }
  const ctx: ApiContext = { site, req, res, params: match.params, query: url.searchParams, body, installation, url, ...(caller.user ? { user: caller.user } : {}) };
  await handler(ctx);
}

export interface Caller {
  installation: Installation | undefined;
  /** Set for a Forge token: its granular scopes replace the descriptor's classic ones. */
  granularScopes?: Set<string>;
  /** Set for a user token: the request acts as this user. */
  user?: Account;
}

/** Who the request acts for, or throws 401 as Bitbucket does. */
function authenticate(site: Site, req: Request): Caller {
  const header = req.get('authorization') ?? '';
  const nowSeconds = Math.floor(site.now().getTime() / 1000);
  const jwtMatch = /^JWT\s+(\S+)$/i.exec(header);
  if (jwtMatch) {
    const result = verifyAppToken({
      token: jwtMatch[1] as string,
      appKey: site.appKey,
      secretFor: (key) => {
        const inst = site.installations.get(key);
        return inst?.installed ? inst.sharedSecret : undefined;
      },
      request: { method: req.method, url: req.originalUrl, baseUrl: site.origins.api },
      nowSeconds,
    });
    if (!result.ok) throw new ApiError(401, `JWT rejected: ${result.reason}`);
    return { installation: site.installations.get(result.clientKey) };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearerCaller(site, bearer[1] as string);
  throw new ApiError(401, 'Authentication required: send Authorization: JWT <token> or Bearer <access token>');
}

/** Who an access token (the site's own, or one a bearer verifier knows) acts for, or throws 401. */
export function bearerCaller(site: Site, token: string): Caller {
  const presented = Buffer.from(token);
  for (const [known, entry] of site.accessTokens) {
    if (entry.expiresAt <= site.now().getTime() - 60_000) site.accessTokens.delete(known);
    const candidate = Buffer.from(known);
    if (candidate.length === presented.length && timingSafeEqual(candidate, presented)) {
      if (entry.expiresAt <= site.now().getTime()) throw new ApiError(401, 'Access token expired');
      return { installation: site.installations.get(entry.clientKey) };
    }
  }
  for (const verify of site.bearerVerifiers) {
    const check = verify(token);
    if (!check) continue;
    if ('refused' in check) throw new ApiError(401, check.refused);
    return { installation: check.installation, granularScopes: check.scopes, ...(check.user ? { user: check.user } : {}) };
  }
  throw new ApiError(401, 'Access token is not valid');
}
