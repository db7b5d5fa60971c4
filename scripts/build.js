// Compiles src/ to plain JavaScript in dist/: one .js per .ts, in the same layout, so
// paths that code resolves from import.meta.url (worker entries, ../../views) work
// unchanged; the secret engine is one module with everything it imports (BUNDLED). Plain JavaScript starts in a fraction of the time that compiling TypeScript
// on every start takes. Types are checked by `npm run lint`, not here: this only strips them.
//
// Run by `npm ci` (prepare), `npm start` (prestart) and `npm test` (globalSetup), which
// rebuild only when a source is newer than the last build, so a checkout that moved on
// since `npm ci` never runs stale code; bin/gatehouse.js calls it only when its cheap
// check (see there) says git changed the tree since the build.
//
// Plain JavaScript on purpose: it has to run before anything is compiled.
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildForgeUi, FORGE_UI_INPUTS, forgeUiMissing } from './build-forge-ui.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
export const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.built');
/** Besides src/, what changes the output (files or directories). */
const INPUTS = ['scripts/build.js', ...FORGE_UI_INPUTS];

/** Newest modification time under src/ (directories too: deleting a file changes its directory). */
function newestSource(dir, newest = 0) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(full, newest);
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return Math.max(newest, statSync(dir).mtimeMs);
}

/** Whether dist/ is missing or older than a source. A tree without src/ (a packed install) is always current. */
export function isStale() {
  if (!existsSync(SRC)) return false;
  let built;
  try {
    built = Number(readFileSync(STAMP, 'utf8'));
  } catch {
    return true;
  }
  if (forgeUiMissing()) return true;
  let newest = newestSource(SRC);
  for (const input of INPUTS) {
    const full = path.join(ROOT, input);
    newest = Math.max(newest, statSync(full).isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return !(built >= newest);
}

/** Every module under src/ except tests, and the JSON data that code reads beside its module. */
function listSources(dir, modules = [], assets = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) listSources(full, modules, assets);
    else if (entry.name.endsWith('.test.ts')) continue;
    else if (entry.name.endsWith('.ts')) modules.push(full);
    else if (entry.name.endsWith('.json')) assets.push(full);
  }
  return { modules, assets };
}

/**
 * Every import stays an import: packages as they are, and a relative `./x.ts` as `./x.js`
 * (what Node loads once compiled). Bundling with every import external is how esbuild
 * rewrites paths; without it, it leaves specifiers alone.
 */
const keepImportsSeparate = {
  name: 'keep-imports-separate',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path.replace(/\.ts$/, '.js'), external: true };
    });
  },
};

/**
 * The secret engine with its rules, allow-lists and helpers (about 27 modules) built again
 * as one module over its per-file build. Every scan loads it, in each of its threads, and
 * loading one file costs about half of what loading the 27 does (module by module the ESM
 * loader resolves, reads and links each). Nothing in it keeps state that a second copy of
 * one of its modules, loaded elsewhere by its own path, would need to share.
 */
const BUNDLED = ['scan/secrets/engine'];

/**
 * Builds into a fresh directory and swaps it in, so dist/ never holds a half-written or
 * mixed build, and files whose source was deleted do not linger. The Forge Custom UI bundles
 * (forge/static/) are built first, the same way: the stamp in dist/ covers both.
 */
export async function build() {
  const started = Date.now();
  const temporary = `${DIST}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  const { modules, assets } = listSources(SRC);
  const esbuild = await import('esbuild');
  await buildForgeUi(esbuild);
  try {
    const common = {
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Node 20.10+ reads `with { type: 'json' }`; esbuild's node20 table predates it and would drop it.
      supported: { 'import-attributes': true },
      logLevel: 'error',
    };
    await esbuild.build({ ...common, entryPoints: modules, outdir: temporary, outbase: SRC, bundle: true, plugins: [keepImportsSeparate] });
    for (const module of BUNDLED) {
      await esbuild.build({
        ...common,
        entryPoints: [path.join(SRC, `${module}.ts`)],
        outfile: path.join(temporary, `${module}.js`),
        bundle: true,
        packages: 'external',
      });
    }
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  for (const asset of assets) cpSync(asset, path.join(temporary, path.relative(SRC, asset)));
  // The stamp is the start time: a source saved during the build makes the next check rebuild.
  writeFileSync(path.join(temporary, '.built'), String(started));
  const old = `${DIST}.old-${process.pid}`;
  if (existsSync(DIST)) renameSync(DIST, old);
  try {
    renameSync(temporary, DIST);
  } catch (error) {
    // Another process built and swapped in the same sources between our two renames.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    rmSync(temporary, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}
/**
 * Builds when a source is newer than the build. When none is, the stamp moves to the time
 * of this check, so that bin/gatehouse.js's cheap comparison (git's index against the
 * stamp) does not send every later start through this walk again.
 */
export async function ensureBuilt() {
  const checked = Date.now();
  if (isStale()) await build();
  else if (existsSync(SRC)) writeFileSync(STAMP, String(checked));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--if-stale')) await ensureBuilt();
    else await build();
  } catch (error) {
    process.stderr.write(`build: ${error.message}\n`);
    process.exitCode = 1;
  }
}
