import type { PackageRef, PackageSource } from '../../types.ts';
import { normalizePackageName } from '../osv/names.ts';
import { isRecord } from './json-lines.ts';
import { readPackageTables } from './toml-blocks.ts';

/**
 * uv.lock: `[[package]]` tables with `name`, `version` and a `source` table saying where
 * the package came from: `registry` (an index), `git` (`<url>?rev=...#<commit>`), `url`,
 * `path`/`directory`, `editable` or `virtual`. The project itself is the editable or
 * virtual package at `.`, whose `dependencies` are the direct ones.
 */
export function parseUvLock(file: string, content: string): PackageRef[] {
  const { packages } = readPackageTables(file, content);
  const versions = new Map<string, string>();
  for (const { table } of packages) {
    if (typeof table.name === 'string' && typeof table.version === 'string') versions.set(normalizePackageName('PyPI', table.name), table.version);
  }
  const depsOf = (table: Record<string, unknown>): string[] => {
    const list = Array.isArray(table.dependencies) ? table.dependencies : [];
    return list.flatMap((dep: unknown) => {
      const name = isRecord(dep) && typeof dep.name === 'string' ? dep.name : undefined;
      const version = name && versions.get(normalizePackageName('PyPI', name));
      return name && version ? [`${name}@${version}`] : [];
    });
  };

  const direct = new Set<string>();
  const refs: PackageRef[] = [];
  for (const { table, line } of packages) {
    if (typeof table.name !== 'string') continue;
    const source = isRecord(table.source) ? table.source : {};
    if (source.editable === '.' || source.virtual === '.') {
      for (const dep of depsOf(table)) direct.add(dep);
      // Development groups of the project are direct too.
      if (isRecord(table['dev-dependencies'])) for (const group of Object.values(table['dev-dependencies'])) for (const dep of depsOf({ dependencies: group })) direct.add(dep);
      continue;
    }
    const origin = sourceOf(source);
    // Only registry packages must carry a version; a git or path package may not.
    const version = typeof table.version === 'string' ? table.version : (origin?.revision ?? '');
    if (!origin && version === '') continue;
    refs.push({ ecosystem: 'PyPI', name: table.name, version, path: file, line, dependsOn: depsOf(table), ...(origin ? { source: origin } : {}) });
  }
  for (const ref of refs) ref.direct = direct.has(`${ref.name}@${ref.version}`);
  return refs;
}

function sourceOf(source: Record<string, unknown>): PackageSource | undefined {
  if (typeof source.git === 'string') {
    const hash = source.git.indexOf('#');
    const url = (hash === -1 ? source.git : source.git.slice(0, hash)).replace(/\?.*$/, '');
    return { kind: 'vcs', location: url, ...(hash === -1 ? {} : { revision: source.git.slice(hash + 1) }) };
  }
  if (typeof source.url === 'string') return { kind: 'url', location: source.url };
  for (const key of ['path', 'directory', 'editable', 'virtual']) {
    const location = source[key];
    if (typeof location === 'string') return { kind: 'path', location };
  }
  return undefined;
}
