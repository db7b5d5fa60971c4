import type { PackageRef, PackageSource } from '../../types.ts';
import { readPackageTables } from './toml-blocks.ts';

/**
 * Cargo.lock. Packages without `source` are the workspace's own crates and local path
 * crates (listed, with no location, since the lockfile does not record it); their
 * dependencies are the direct ones. `git+<url>?<ref>#<commit>` sources are git crates. A dependency is written `name` when only one version
 * is locked, otherwise `name version` (and `(source)` when names collide across registries).
 */
export function parseCargoLock(file: string, content: string): PackageRef[] {
  const { packages } = readPackageTables(file, content);
  const byName = new Map<string, string[]>();
  for (const { table } of packages) {
    if (typeof table.name === 'string' && typeof table.version === 'string') {
      byName.set(table.name, [...(byName.get(table.name) ?? []), table.version]);
    }
  }
  const resolveDep = (dep: unknown): string | undefined => {
    if (typeof dep !== 'string') return undefined;
    const [name, version] = dep.split(' ');
    if (!name) return undefined;
    const chosen = version ?? (byName.get(name)?.length === 1 ? byName.get(name)?.[0] : undefined);
    return chosen ? `${name}@${chosen}` : undefined;
  };
  const deps = (table: Record<string, unknown>): string[] =>
    (Array.isArray(table.dependencies) ? table.dependencies : []).map(resolveDep).filter((d): d is string => d !== undefined);

  const direct = new Set<string>();
  for (const { table } of packages) if (table.source === undefined) for (const d of deps(table)) direct.add(d);

  const refs: PackageRef[] = [];
  for (const { table, line } of packages) {
    if (typeof table.name !== 'string' || typeof table.version !== 'string') continue;
    const source = sourceOf(table.source);
    const id = `${table.name}@${table.version}`;
    refs.push({ ecosystem: 'crates.io', name: table.name, version: table.version, path: file, line, direct: direct.has(id), dependsOn: deps(table), ...(source ? { source } : {}) });
  }
  return refs;
}

function sourceOf(source: unknown): PackageSource | undefined {
  if (source === undefined) return { kind: 'path', location: '' };
  if (typeof source !== 'string' || source.startsWith('registry+') || source.startsWith('sparse+')) return undefined;
  const hash = source.indexOf('#');
  const url = (hash === -1 ? source : source.slice(0, hash)).replace(/\?.*$/, '');
  return { kind: 'vcs', location: url, ...(hash === -1 ? {} : { revision: source.slice(hash + 1) }) };
}
