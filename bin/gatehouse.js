#!/usr/bin/env node
// Runs the compiled CLI from dist/. `npm ci` builds it, and so do `npm start` and `npm test`
// whenever a source is newer. A pre-commit hook starts this file on every commit, so it
// does not walk src/ to compare times: it rebuilds only when dist/ is missing, or, in a git
// checkout of Gatehouse, when git changed the tree after the build (a pull, checkout or
// commit rewrites git's index). A packed install has no src/ and never rebuilds.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { URL } from 'node:url';

const root = new URL('../', import.meta.url);

function mtime(url) {
  return statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** Git's index of this checkout; `.git` is a file naming the directory in a worktree. */
function gitIndex() {
  const dotGit = new URL('.git', root);
  try {
    if (statSync(dotGit).isDirectory()) return new URL('.git/index', root);
    const gitDir = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1];
    return gitDir ? new URL('index', new URL(gitDir.endsWith('/') ? gitDir : `${gitDir}/`, root)) : undefined;
  } catch {
    return undefined;
  }
}

function needsBuild() {
  if (!existsSync(new URL('src', root))) return false;
  let built;
  try {
    built = Number(readFileSync(new URL('dist/.built', root), 'utf8'));
  } catch {
    return true;
  }
  const index = gitIndex();
  return index !== undefined && mtime(index) > built;
}

if (needsBuild()) {
  // The full check (a walk of src/) and esbuild, only when the cheap one says so.
  const { ensureBuilt } = await import('../scripts/build.js');
  await ensureBuilt();
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
