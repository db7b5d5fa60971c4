import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord, locateJsonKeys, parseJsonObject, pathKey } from './json-lines.ts';

/**
 * composer.lock: `packages` and `packages-dev` arrays of `{ name, version, require }`.
 * Branch checkouts (`dev-main`, `1.x-dev`) are listed with the repository and commit they
 * came from, and packages from a `path` repository with their directory: neither is a
 * release an advisory can name.
 */
export function parseComposerLock(file: string, content: string): PackageRef[] {
  const parsed = parseJsonObject(content);
  if (!parsed.ok) throw new ParseError(file, parsed.reason);
  const lock = parsed.value;
  if (!Array.isArray(lock.packages) && !Array.isArray(lock['packages-dev'])) throw new ParseError(file, 'no "packages" array');
  const lines = locateJsonKeys(content, (p) => p.length === 3 && p[2] === 'name' && (p[0] === 'packages' || p[0] === 'packages-dev'));

  const entries: { entry: Record<string, unknown>; line: number }[] = [];
  for (const section of ['packages', 'packages-dev'] as const) {
    const list = lock[section];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, index) => {
      if (isRecord(entry)) entries.push({ entry, line: lines.get(pathKey([section, index, 'name'])) ?? 0 });
    });
  }
  const versions = new Map<string, string>();
  for (const { entry } of entries) {
    if (typeof entry.name === 'string' && typeof entry.version === 'string') versions.set(entry.name.toLowerCase(), normalize(entry.version));
  }
  const refs: PackageRef[] = [];
  for (const { entry, line } of entries) {
    if (typeof entry.name !== 'string' || typeof entry.version !== 'string') continue;
    const version = normalize(entry.version);
    const source = sourceOf(entry, version);
    const requires = isRecord(entry.require) ? Object.keys(entry.require) : [];
    const dependsOn = requires.flatMap((dep) => {
      const v = versions.get(dep.toLowerCase());
      return v ? [`${dep}@${v}`] : [];
    });
    refs.push({ ecosystem: 'Packagist', name: entry.name, version, path: file, line, dependsOn, ...(source ? { source } : {}) });
  }
  return refs;
}

function normalize(version: string): string {
  return /^v\d/i.test(version) ? version.slice(1) : version;
}

function sourceOf(entry: Record<string, unknown>, version: string): PackageSource | undefined {
  const dist = isRecord(entry.dist) ? entry.dist : {};
  if (dist.type === 'path' && typeof dist.url === 'string') return { kind: 'path', location: dist.url };
  if (!version.startsWith('dev-') && !version.endsWith('-dev')) return undefined;
  const vcs = isRecord(entry.source) ? entry.source : {};
  const location = typeof vcs.url === 'string' ? vcs.url : typeof dist.url === 'string' ? dist.url : '';
  const revision = typeof vcs.reference === 'string' ? vcs.reference : typeof dist.reference === 'string' ? dist.reference : undefined;
  return { kind: vcs.type === 'git' || vcs.type === 'hg' || vcs.type === 'svn' ? 'vcs' : 'url', location, ...(revision ? { revision } : {}) };
}
