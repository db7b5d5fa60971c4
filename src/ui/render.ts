import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { formatTime, lozengeClass } from './format.ts';

/**
 * Server-side rendering of the pages. Eta escapes every `<%= %>` interpolation (autoEscape);
 * `<%~ %>` appears only around `include(...)` and the layout's body, i.e. around output the
 * templates themselves produced, never around data.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VIEWS_DIR = path.join(ROOT, 'views', 'ui');
export const STATIC_DIR = path.join(ROOT, 'static', 'ui');
export const CSS_RESET_FILE = path.join(ROOT, 'node_modules', '@atlaskit', 'css-reset', 'dist', 'bundle.css');

const eta = new Eta({ views: VIEWS_DIR, autoEscape: true, cache: true });

/** The static files a page links, served under `/ui/static/` (see routes.ts). */
export const ASSET_FILES = {
  'css-reset.css': CSS_RESET_FILE,
  'tokens.css': path.join(STATIC_DIR, 'tokens.css'),
  'panel.css': path.join(STATIC_DIR, 'panel.css'),
  'page-session.js': path.join(STATIC_DIR, 'page-session.js'),
  'panel.js': path.join(STATIC_DIR, 'panel.js'),
  'settings.js': path.join(STATIC_DIR, 'settings.js'),
  'operator.css': path.join(STATIC_DIR, 'operator.css'),
  'datacenter.js': path.join(STATIC_DIR, 'datacenter.js'),
} as const;
export type AssetName = keyof typeof ASSET_FILES;

/** Content hash per asset, read once: URLs change when a file does, so they can be cached for long. */
const ASSET_VERSIONS = Object.fromEntries(
  Object.entries(ASSET_FILES).map(([name, file]) => [name, createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)]),
) as Record<AssetName, string>;

export function assetUrl(basePath: string, name: AssetName): string {
  return `${basePath}/ui/static/${name}?v=${ASSET_VERSIONS[name]}`;
}

export type PageKind = 'pull-request' | 'repository' | 'settings' | 'error';

export interface PageChrome {
  kind: PageKind;
  title: string;
  /** The page session token ('' on error pages rendered before authentication). */
  session: string;
  /** Where the page asks for fresh content (pull-request panel), or ''. */
  refreshUrl: string;
  allJsUrl: string;
  /** `sessionJs`: what `js` and `pageJs` share, loaded first; `pageJs`: the script of one kind of page only ('' for none). */
  assets: { cssReset: string; tokens: string; css: string; sessionJs: string; js: string; pageJs: string };
  actions: { triage: string; untriage: string; settings: string; sbom: string; moreFindings: string };
}

const fmt = { time: formatTime, lozengeClass };

/** A whole page (templates that use the layout) or one region of it, for the page's own requests to swap in. */
export function render(template: string, page: PageChrome, data: object): string {
  return renderView(template, { ...data, page });
}

/** A template of its own, without the framed pages' chrome (the Data Center operator page). */
export function renderView(template: string, data: object): string {
  return eta.render(`/${template}`, { ...data, fmt });
}
