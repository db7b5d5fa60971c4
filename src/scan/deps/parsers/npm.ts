import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord, locateJsonKeys, parseJsonObject, pathKey } from './json-lines.ts';
import { isLocation, sourceFromUrl } from './sources.ts';

/**
 * package-lock.json and npm-shrinkwrap.json. Versions 2 and 3 describe the installed tree
 * in `packages`, keyed by folder (`node_modules/a/node_modules/b`); version 1 only has the
 * nested `dependencies` tree, which is walked instead.
 */
export function parseNpmLock(file: string, content: string): PackageRef[] {
  const parsed = parseJsonObject(content);
  if (!parsed.ok) throw new ParseError(file, parsed.reason);
  const lock = parsed.value;
  if (isRecord(lock.packages)) return fromPackages(file, content, lock.packages);
  if (isRecord(lock.dependencies)) return fromV1(file, content, lock.dependencies);
  if (lock.lockfileVersion === undefined) throw new ParseError(file, 'not an npm lockfile (no lockfileVersion)');
  return [];
}

const NODE_MODULES = 'node_modules/';

function nameFromFolder(folder: string): string {
  const at = folder.lastIndexOf(NODE_MODULES);
  return at === -1 ? folder : folder.slice(at + NODE_MODULES.length);
}

function dependencyNames(entry: Record<string, unknown>, fields: readonly string[]): string[] {
  const names: string[] = [];
  for (const field of fields) {
    const deps = entry[field];
    if (isRecord(deps)) names.push(...Object.keys(deps));
  }
  return names;
}

const RUNTIME_DEP_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies'] as const;
const ROOT_DEP_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

function fromPackages(file: string, content: string, packages: Record<string, unknown>): PackageRef[] {
  const lines = locateJsonKeys(content, (p) => p.length === 2 && p[0] === 'packages');
  const root = isRecord(packages['']) ? packages[''] : {};
  const direct = new Set(dependencyNames(root, ROOT_DEP_FIELDS).map((n) => NODE_MODULES + n));

  // Node resolves `require(dep)` from a folder by looking in its own node_modules, then each parent's.
  const resolve = (folder: string, dep: string): string | undefined => {
    let base = folder;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}${NODE_MODULES}${dep}`;
      const entry = packages[candidate];
      if (isRecord(entry) && typeof entry.version === 'string') {
        return `${typeof entry.name === 'string' ? entry.name : dep}@${entry.version}`;
      }
      if (!base) return undefined;
      const cut = base.lastIndexOf(`/${NODE_MODULES}`);
      base = cut === -1 ? '' : base.slice(0, cut);
    }
  };

  // A `link: true` entry points at a folder listed on its own (a workspace or `file:` directory).
  const linkNames = new Map<string, string>();
  for (const [folder, entry] of Object.entries(packages)) {
    if (isRecord(entry) && entry.link === true && typeof entry.resolved === 'string') linkNames.set(entry.resolved, nameFromFolder(folder));
  }

  const refs: PackageRef[] = [];
  for (const [folder, entry] of Object.entries(packages)) {
    if (folder === '' || !isRecord(entry) || entry.link === true) continue;
    if (typeof entry.version !== 'string' || entry.version === '') continue;
    const inNodeModules = folder.includes(NODE_MODULES);
    // Folders outside node_modules are the project's workspaces and local directories.
    const source = inNodeModules ? resolvedSource(entry.resolved) : { kind: 'path' as const, location: folder };
    const name = typeof entry.name === 'string' ? entry.name : inNodeModules ? nameFromFolder(folder) : linkNames.get(folder);
    if (!name) continue;
    const dependsOn = dependencyNames(entry, RUNTIME_DEP_FIELDS)
      .map((dep) => resolve(folder, dep))
      .filter((d): d is string => d !== undefined);
    refs.push({
      ecosystem: 'npm',
      name,
      version: entry.version,
      path: file,
      line: lines.get(pathKey(['packages', folder])) ?? 0,
      direct: direct.has(folder) || [...linkNames].some(([target, linkName]) => target === folder && direct.has(NODE_MODULES + linkName)),
      dependsOn,
      ...(source ? { source } : {}),
    });
  }
  return refs;
}

/** Registry tarballs are `<registry>/<name>/-/<name>-<version>.tgz`; anything else is a git, archive or file source. */
function resolvedSource(resolved: unknown): PackageSource | undefined {
  if (typeof resolved !== 'string' || resolved === '') return undefined;
  if (/^https?:\/\/[^#?]+\/-\/[^/#?]+\.tgz$/.test(resolved)) return undefined;
  return isLocation(resolved) ? sourceFromUrl(resolved) : { kind: 'path', location: resolved };
}

function fromV1(file: string, content: string, top: Record<string, unknown>): PackageRef[] {
  const lines = locateJsonKeys(content, (p) => p.length >= 2 && p[p.length - 2] === 'dependencies');
  const refs: PackageRef[] = [];

  // Each level is a node_modules folder: a package's `requires` resolve against its own nested
  // `dependencies` first, then its ancestors'.
  const walk = (deps: Record<string, unknown>, path: string[], scopes: Record<string, unknown>[]): void => {
    const chain = [deps, ...scopes];
    for (const [name, entry] of Object.entries(deps)) {
      if (!isRecord(entry) || typeof entry.version !== 'string') continue;
      const entryPath = [...path, 'dependencies', name];
      const nested = isRecord(entry.dependencies) ? entry.dependencies : {};
      const requires = isRecord(entry.requires) ? Object.keys(entry.requires) : [];
      const dependsOn: string[] = [];
      for (const dep of requires) {
        for (const scope of [nested, ...chain]) {
          const found = scope[dep];
          if (isRecord(found) && typeof found.version === 'string') {
            dependsOn.push(`${dep}@${versionOf(found.version)}`);
            break;
          }
        }
      }
      // v1 records aliases as `npm:real@1.0.0`, and git, archive and file packages by where
      // they came from instead of a version: a commit is the only version such a package has.
      const version = versionOf(entry.version);
      const source = isLocation(version) ? sourceFromUrl(version) : undefined;
      refs.push({
        ecosystem: 'npm',
        name: aliasTarget(entry.version) ?? name,
        version: source ? (source.revision ?? '') : version,
        path: file,
        line: lines.get(pathKey(entryPath)) ?? 0,
        direct: path.length === 0,
        dependsOn,
        ...(source ? { source } : {}),
      });
      if (Object.keys(nested).length > 0) walk(nested, entryPath, chain);
    }
  };
  walk(top, [], []);
  return refs;
}

const ALIAS = /^npm:((?:@[^/@]+\/)?[^@]+)@(.+)$/;

function aliasTarget(version: string): string | undefined {
  return ALIAS.exec(version)?.[1];
}

function versionOf(version: string): string {
  return ALIAS.exec(version)?.[2] ?? version;
}
