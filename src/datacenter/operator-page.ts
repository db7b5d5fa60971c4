import { Router } from 'express';
import { basePathOf } from '../connect/qsh.ts';
import { setOwnPagePolicy } from '../ui/csp.ts';
import { assetUrl, renderView } from '../ui/render.ts';
import { ADMIN_INSTANCES_PATH } from './admin-routes.ts';

/**
 * The operator's page for Data Center: every registered instance by name, with its status
 * and its repositories' results (branch verdicts, open pull requests, findings linked to Data
 * Center's source view). Data Center has no app pages, so this stands in for the settings page.
 *
 * The page is a static shell with no data and no secret in it: its script asks for ADMIN_TOKEN,
 * keeps it in the tab's sessionStorage, and reads the operator JSON API
 * (admin-routes.ts, results-routes.ts) with it as a bearer token, so the token never travels in
 * a URL, a cookie or the history. Mounted only when ADMIN_TOKEN is set, like that API.
 */
export const OPERATOR_PAGE_PATH = '/admin/datacenter';

export function datacenterOperatorPage(deps: { publicBaseUrl: string }): Router {
  const router = Router();
  const basePath = basePathOf(deps.publicBaseUrl);
  // The same for every request: rendered once.
  const html = renderView('datacenter', {
    api: basePath + ADMIN_INSTANCES_PATH,
    assets: {
      cssReset: assetUrl(basePath, 'css-reset.css'),
      tokens: assetUrl(basePath, 'tokens.css'),
      css: assetUrl(basePath, 'panel.css'),
      pageCss: assetUrl(basePath, 'operator.css'),
      sessionJs: assetUrl(basePath, 'page-session.js'),
      js: assetUrl(basePath, 'datacenter.js'),
    },
  });
  router.get(OPERATOR_PAGE_PATH, (_req, res) => {
    setOwnPagePolicy(res);
    res.type('html').send(html);
  });
  return router;
}
