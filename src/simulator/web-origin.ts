import express from 'express';
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAdminPage, renderForgeSettingsPage } from './admin-page.ts';
import { faultRequestSchema, parsePattern } from './faults.ts';
import { gitSmartHttp } from './git-http.ts';
import { renderIndex, renderPullRequestPage, renderRepositoryPage } from './host-page.ts';
import { verifyAppToken } from './jwt.ts';
import type { Simulator } from './simulator.ts';

/**
 * The web origin (an installation's baseUrl): the JWT bearer grant, git clones over smart HTTP, the iframe bridge script,
 * the host pages a person looks at, and /_sim/* controls for the command line.
 */

const STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../static/simulator');
export const ACCESS_TOKEN_TTL_SECONDS = 3600;

export function createWebOrigin(sim: Simulator): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const frameSrc = sim.frameOrigins.join(' ');
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src ${frameSrc}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  app.use(gitSmartHttp(sim.site));
  app.post('/site/oauth2/access_token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => tokenGrant(sim, req, res));

  // all.js is loaded cross-origin by the app's iframes; the host's own scripts are same-origin.
  app.get('/atlassian-connect/all.js', (_req, res) => {
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.sendFile(path.join(STATIC_DIR, 'all.js'));
  });
  app.use('/_sim/static', express.static(STATIC_DIR, { index: false }));

  app.post('/_sim/faults', express.json({ limit: '16kb' }), (req, res) => {
    const parsed = faultRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: { code: 'invalid_fault', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      return;
    }
    sim.faults.add({ ...parsed.data, pathPattern: parsePattern(parsed.data.pathPattern) });
    res.status(201).json({ pending: sim.faults.pending() });
  });
  app.delete('/_sim/faults', (_req, res) => {
    sim.faults.clear();
    res.status(204).end();
  });
  app.get('/_sim/violations', (_req, res) => {
    res.json({ violations: sim.violations });
  });

  /** A fresh token for AP.context.getToken, requested by the host page's bridge. */
  app.get('/_sim/context-token', (req, res) => {
    const clientKey = typeof req.query.clientKey === 'string' ? req.query.clientKey : '';
    try {
      res.json({ token: sim.contextToken(clientKey) });
    } catch (error) {
      res.status(404).json({ error: { code: 'not_installed', message: (error as Error).message } });
    }
  });

  for (const [name, handler] of Object.entries(sim.webExtensions)) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`web extension names are lower-case letters, digits and dashes: ${name}`);
    app.use(`/_sim/ext/${name}`, handler);
  }

  app.get('/', (_req, res) => {
    res.type('html').send(renderIndex(sim));
  });
  app.get('/:workspace/:repo', (req, res) => {
    const page = renderRepositoryPage(sim, `${req.params.workspace}/${req.params.repo}`);
    if (page === undefined) return notFound(res);
    return page.then((html) => res.type('html').send(html));
  });
  app.get('/:workspace/:repo/pull-requests/:id', (req, res) => {
    const page = renderPullRequestPage(sim, `${req.params.workspace}/${req.params.repo}`, Number(req.params.id));
    if (page === undefined) return notFound(res);
    return page.then((html) => res.type('html').send(html));
  });
  app.get('/:workspace/workspace/settings/forge', (req, res) => {
    const html = renderForgeSettingsPage(sim, req.params.workspace);
    return html === undefined ? notFound(res) : res.type('html').send(html);
  });
  app.get('/:workspace/workspace/settings/addon/:moduleKey', (req, res) =>
    renderAdminPage(sim, req.params.workspace, req.params.moduleKey).then((html) => (html === undefined ? notFound(res) : res.type('html').send(html))),
  );
  app.use((_req, res) => notFound(res));
  return app;
}

function notFound(res: Response): void {
  res.status(404).json({ type: 'error', error: { message: 'Resource not found' } });
}

/** `urn:bitbucket:oauth2:jwt`: a JWT signed by the app (iss = app key, sub = clientKey, qsh) buys an access token. */
function tokenGrant(sim: Simulator, req: Request, res: Response): void {
  const fail = (status: number, error: string, description: string) => res.status(status).json({ error, error_description: description });
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (body.grant_type !== 'urn:bitbucket:oauth2:jwt') {
    sim.site.recordViolation({ kind: 'bitbucket-rule', method: req.method, url: req.originalUrl, reason: 'grant_type must be urn:bitbucket:oauth2:jwt (form-encoded)' });
    fail(400, 'unsupported_grant_type', 'Unsupported grant type');
    return;
  }
  const header = /^JWT\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!header) {
    fail(401, 'invalid_client', 'Send the JWT as Authorization: JWT <token>');
    return;
  }
  const site = sim.site;
  const result = verifyAppToken({
    token: header[1] as string,
    appKey: site.appKey,
    secretFor: (key) => {
      const inst = site.installations.get(key);
      return site.pendingInstalls.get(key) ?? (inst?.installed ? inst.sharedSecret : undefined);
    },
    request: { method: 'POST', url: req.originalUrl, baseUrl: site.origins.web },
    nowSeconds: Math.floor(site.now().getTime() / 1000),
  });
  if (!result.ok) {
    fail(401, 'invalid_grant', result.reason);
    return;
  }
  const token = randomBytes(32).toString('base64url');
  site.accessTokens.set(token, { clientKey: result.clientKey, expiresAt: site.now().getTime() + ACCESS_TOKEN_TTL_SECONDS * 1000 });
  res.json({ access_token: token, scopes: [...(site.grantedScopes ?? [])].join(' '), expires_in: ACCESS_TOKEN_TTL_SECONDS, token_type: 'bearer' });
}
