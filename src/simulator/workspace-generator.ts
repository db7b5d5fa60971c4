import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Simulator } from './simulator.ts';

/**
 * A workspace of many repositories for coverage benchmarks, filled with real source text:
 * each repository is a copy of files from a package source tree found on the machine (by
 * default this checkout's node_modules), so what the secrets engine reads is what real
 * repositories hold, not text generated next to its rules. Sizes are mixed (most small, some
 * medium, a few large, as in a real workspace), and some repositories carry an npm lockfile of
 * 1,000+ packages named after the packages actually installed here.
 */

export interface WorkspaceShape {
  workspace: string;
  repositories: number;
  /** Repositories with a large package-lock.json. */
  lockfileRepositories: number;
  /** Packages in each of those lockfiles. */
  lockfilePackages: number;
  /** Where real source trees are read from. */
  sourceRoot: string;
  /** Same numbers, same workspace. */
  seed?: number;
}

export interface GeneratedWorkspace {
  repositories: string[];
  files: number;
  bytes: number;
}

const TEXT = /\.(c?js|mjs|ts|tsx|jsx|json|md|txt|ya?ml|css|html|d\.ts)$/;
const MAX_FILE_BYTES = 64 * 1024;

interface Source {
  path: string;
  bytes: number;
}

/** Creates the repositories on the simulator (no webhook; each with one commit), most recently updated first by index. */
export async function generateWorkspace(sim: Simulator, shape: WorkspaceShape): Promise<GeneratedWorkspace> {
  const random = seeded(shape.seed ?? 1);
  const packages = await packageDirectories(shape.sourceRoot);
  if (packages.length === 0) throw new Error(`no package source trees under ${shape.sourceRoot}`);
  const versions = await installedVersions(packages);
  const result: GeneratedWorkspace = { repositories: [], files: 0, bytes: 0 };
  for (let i = 0; i < shape.repositories; i++) {
    // 70 % small (up to 30 files), 25 % medium (up to 300), 5 % large (up to 1,500).
    const roll = random();
    const wanted = roll < 0.7 ? 5 + Math.floor(random() * 25) : roll < 0.95 ? 60 + Math.floor(random() * 240) : 600 + Math.floor(random() * 900);
    const files: Record<string, string> = {};
    let count = 0;
    for (let p = Math.floor(random() * packages.length); count < wanted; p = (p + 1) % packages.length) {
      const dir = packages[p]!;
      for (const source of await textFiles(dir, wanted - count)) {
        const content = await readFile(source.path, 'utf8');
        files[`src/${path.basename(dir)}/${path.relative(dir, source.path).split(path.sep).join('/')}`] = content;
        result.bytes += source.bytes;
        count++;
      }
      if (p === packages.length - 1 && count === 0) break;
    }
    if (i < shape.lockfileRepositories) {
      const lock = lockfile(`service-${i}`, versions, shape.lockfilePackages, random);
      files['package-lock.json'] = lock;
      result.bytes += lock.length;
    }
    files['README.md'] = `# service ${i}\n`;
    const slug = `repo-${String(i).padStart(4, '0')}`;
    const updatedOn = new Date(Date.UTC(2026, 0, 1) + (shape.repositories - i) * 60_000).toISOString();
    await sim.createRepository(shape.workspace, slug, { files, updatedOn });
    result.repositories.push(`${shape.workspace}/${slug}`);
    result.files += Object.keys(files).length;
  }
  return result;
}

async function packageDirectories(root: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const name of (await readdir(root)).sort()) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const inner of (await readdir(path.join(root, name))).sort()) dirs.push(path.join(root, name, inner));
    } else {
      dirs.push(path.join(root, name));
    }
  }
  return dirs;
}

/** Up to `limit` text files of a package, nested node_modules left out, in a stable order. */
async function textFiles(dir: string, limit: number): Promise<Source[]> {
  const found: Source[] = [];
  const pending = [dir];
  while (pending.length > 0 && found.length < limit) {
    const current = pending.shift()!;
    let entries;
    try {
      entries = (await readdir(current, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (found.length >= limit) break;
      const full = path.join(current, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) pending.push(full);
      else if (entry.isFile() && TEXT.test(entry.name)) {
        const { size } = await stat(full);
        if (size > 0 && size <= MAX_FILE_BYTES) found.push({ path: full, bytes: size });
      }
    }
  }
  return found;
}

async function installedVersions(dirs: string[]): Promise<{ name: string; version: string }[]> {
  const versions: { name: string; version: string }[] = [];
  for (const dir of dirs) {
    try {
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (typeof manifest.name === 'string' && typeof manifest.version === 'string') versions.push({ name: manifest.name, version: manifest.version });
    } catch {
      // Not a package (or no readable manifest): not in lockfiles.
    }
  }
  return versions;
}

/**
 * A lockfileVersion 3 package-lock.json of `count` packages. Installed packages come first; past
 * them, the same names recur nested under others (as npm nests a second version), so a
 * lockfile can list more entries than the machine has packages.
 */
function lockfile(name: string, installed: { name: string; version: string }[], count: number, random: () => number): string {
  const packages: Record<string, unknown> = { '': { name, version: '1.0.0' } };
  for (let i = 0; i < count; i++) {
    const pkg = i < installed.length ? installed[i]! : installed[Math.floor(random() * installed.length)]!;
    const parent = installed[i % installed.length]!;
    const key = i < installed.length ? `node_modules/${pkg.name}` : `node_modules/${parent.name}/node_modules/${pkg.name}`;
    packages[key] = { version: pkg.version, resolved: `https://registry.npmjs.org/${pkg.name}/-/${pkg.name.split('/').pop()}-${pkg.version}.tgz` };
  }
  return `${JSON.stringify({ name, version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`;
}

/** A small deterministic generator (mulberry32), so that a shape always yields the same workspace. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
