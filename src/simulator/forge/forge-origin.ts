import express from 'express';
import type { Request, Response } from 'express';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeHtml as e } from '../resources.ts';
import type { LocalForge } from './local-forge.ts';

/**
 * The local Forge's HTTP origin: the JWKS (FORGE_JWKS_URL), and what Forge's CDN and UI host
 * do for a Custom UI module. A Bitbucket page frames `/frame/{id}`; that page frames the
 * resource's own index.html from `/cdn/{id}/`, with the bridge stand-in loaded before the
 * app's script (Forge injects its bridge the same way), and answers the bridge's calls by
 * asking the local Forge to sign and send them (`/_forge/invoke`).
 */

const STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../static/simulator');
const BRIDGE_TAG = '<script src="/_forge/static/forge-bridge.js"></script>';
/**
 * Forge serves Custom UI under a CSP like this: the resource's own files, nothing inline, no
 * direct network. frame-ancestors names every ancestor: the frame page here and the Bitbucket
 * page around it.
 */
function resourceCsp(bitbucketOrigin: string): string {
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self' ${bitbucketOrigin}`;
}

function error(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export function createForgeOrigin(forge: LocalForge): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  app.get('/.well-known/jwks.json', (_req, res) => {
    if (!forge.jwksAvailable) return error(res, 503, 'unavailable', 'The JWKS is unavailable (simulated outage)');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(forge.authority.jwks());
  });

  app.use('/_forge/static', express.static(STATIC_DIR, { index: false }));

  app.get('/frame/:id', (req, res) => {
    const frame = forge.frame(req.params.id);
    if (!frame) return error(res, 404, 'unknown_frame', 'No such frame');
    res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'");
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(frame.module.title)}</title>
<link rel="stylesheet" href="/_forge/static/forge-frame.css"><script src="/_forge/static/forge-frame.js" defer></script></head>
<body><iframe id="forge-ui" src="/cdn/${e(req.params.id)}/index.html" title="${e(frame.module.title)}" data-frame="${e(req.params.id)}"></iframe></body></html>`);
  });

  app.get('/cdn/:id/*file', (req: Request, res: Response) => {
    const frame = forge.frame(String(req.params.id));
    if (!frame) return error(res, 404, 'unknown_frame', 'No such frame');
    const parts = (req.params as { file?: string[] }).file ?? [];
    const root = frame.module.resourceDir;
    const file = path.resolve(root, ...parts);
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) return error(res, 404, 'not_found', 'No such file');
    if (!existsSync(file) || !statSync(file).isFile()) return error(res, 404, 'not_found', `The resource ${frame.module.resourceKey} has no ${parts.join('/')} (was it built?)`);
    res.setHeader('Content-Security-Policy', resourceCsp(forge.sim.webOrigin));
    if (path.basename(file) === 'index.html') {
      const html = readFileSync(file, 'utf8');
      res.type('html').send(html.replace(/<head>/i, (head) => `${head}\n  ${BRIDGE_TAG}`));
      return;
    }
    res.sendFile(file);
  });

  app.post('/_forge/invoke', express.json({ limit: '1mb' }), (req, res) => {
    const { frame, path: invokePath, method, body } = (req.body ?? {}) as { frame?: unknown; path?: unknown; method?: unknown; body?: unknown };
    if (typeof frame !== 'string' || typeof invokePath !== 'string' || !invokePath.startsWith('/') || typeof method !== 'string' || !['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
      return error(res, 400, 'bad_invoke', 'frame, path (starting with /) and method are required');
    }
    forge
      .invokeFromFrame(frame, { path: invokePath, method, body })
      .then((answer) => {
        const ok = answer.status >= 200 && answer.status < 300;
        // The bridge's own envelope: @forge/bridge reads `payload` on success and `error` otherwise.
        res.json(ok ? { success: true, payload: answer } : { success: false, error: answer });
      })
      .catch((failure: unknown) => {
        res.json({ success: false, error: { status: 502, headers: {}, body: { error: { code: 'remote_unreachable', message: `The remote did not answer: ${(failure as Error).message}` } } } });
      });
  });

  app.use((_req, res) => error(res, 404, 'not_found', 'Resource not found'));
  return app;
}
