// Builds the Forge Custom UI bundles: one static directory per resource listed in
// forge/resources.json (the manifest's `resources`), each an index.html with the page's
// script and the same stylesheets as the Connect pages (Atlassian's CSS reset, the design
// tokens, panel.css). Nothing here is committed: `npm ci` (prepare) and every build write it.
//
// Plain JavaScript for the same reason as build.js, which runs it.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FORGE_DIR = path.join(ROOT, 'forge');
const STATIC = path.join(FORGE_DIR, 'static');
/** What the bundles are made from, for build.js's freshness check. */
export const FORGE_UI_INPUTS = ['forge/src', 'forge/resources.json', 'static/ui', 'scripts/build-forge-ui.js'];

const STYLESHEETS = {
  'css-reset.css': path.join(ROOT, 'node_modules', '@atlaskit', 'css-reset', 'dist', 'bundle.css'),
  'tokens.css': path.join(ROOT, 'static', 'ui', 'tokens.css'),
  'panel.css': path.join(ROOT, 'static', 'ui', 'panel.css'),
};

/** `[{key, path, entry, title}]`, paths relative to forge/. */
export function forgeResources() {
  return JSON.parse(readFileSync(path.join(FORGE_DIR, 'resources.json'), 'utf8'));
}

/** Whether a resource directory lacks its page (a fresh checkout, or someone deleted it). */
export function forgeUiMissing() {
  return forgeResources().some((r) => !existsSync(path.join(FORGE_DIR, r.path, 'index.html')));
}

const escape = (text) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/**
 * No inline script or style: Forge serves Custom UI under a CSP that allows only the
 * resource's own files. The loading text is replaced by the script's first render.
 */
function indexHtml(resource) {
  const title = escape(resource.title);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="referrer" content="no-referrer">
  <title>${title}</title>
${Object.keys(STYLESHEETS).map((name) => `  <link rel="stylesheet" href="${name}">`).join('\n')}
  <script src="app.js" defer></script>
</head>
<body>
  <div class="ac-content">
    <main id="gh-main" class="gh-page gh-page--${escape(resource.key)}" aria-labelledby="gh-title" tabindex="-1">
      <p class="gh-subtle" id="gh-title">Loading ${title}…</p>
    </main>
    <div id="gh-live" class="gh-visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
    <div id="gh-alert" class="gh-flag gh-flag--error" role="alert" hidden></div>
  </div>
</body>
</html>
`;
}

/** Builds every resource into a fresh directory and swaps it in, like build.js does for dist/. */
export async function buildForgeUi(esbuild) {
  const resources = forgeResources();
  const temporary = `${STATIC}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  try {
    for (const resource of resources) {
      const relative = path.relative('static', resource.path);
      if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`forge/resources.json: ${resource.key} must live under forge/static/`);
      const out = path.join(temporary, relative);
      mkdirSync(out, { recursive: true });
      await esbuild.build({
        entryPoints: [path.join(FORGE_DIR, resource.entry)],
        outfile: path.join(out, 'app.js'),
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'es2020',
        minify: true,
        legalComments: 'linked',
        logLevel: 'error',
      });
      for (const [name, file] of Object.entries(STYLESHEETS)) cpSync(file, path.join(out, name));
      writeFileSync(path.join(out, 'index.html'), indexHtml(resource));
    }
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  const old = `${STATIC}.old-${process.pid}`;
  if (existsSync(STATIC)) renameSync(STATIC, old);
  try {
    renameSync(temporary, STATIC);
  } catch (error) {
    // Another process built the same sources between our two renames.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    rmSync(temporary, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}
