import type { PackageRef, PackageSource } from '../../types.ts';
import { normalizePackageName } from '../osv/names.ts';
import { isRecord } from './json-lines.ts';
import { readPackageTables } from './toml-blocks.ts';

/**
 * poetry.lock: a flat list of resolved packages; `[package.dependencies]` gives the graph.
 * `[package.source]` names where a package came from when it was not an index: git (with
 * the commit it resolved to), a local directory or file, or an archive URL. A `legacy`
 * source is another package index, whose releases are the PyPI project's.
 */
export function parsePoetryLock(file: string, content: string): PackageRef[] {
  const { packages } = readPackageTables(file, content);
  const versions = new Map<string, string>();
  for (const { table } of packages) {
    if (typeof table.name === 'string' && typeof table.version === 'string') {
      versions.set(normalizePackageName('PyPI', table.name), table.version);
    }
  }
  const refs: PackageRef[] = [];
  for (const { table, line } of packages) {
    if (typeof table.name !== 'string' || typeof table.version !== 'string') continue;
    const source = sourceOf(table.source);
    const dependsOn: string[] = [];
    if (isRecord(table.dependencies)) {
      for (const dep of Object.keys(table.dependencies)) {
        const version = versions.get(normalizePackageName('PyPI', dep));
        if (version) dependsOn.push(`${dep}@${version}`);
      }
    }
    refs.push({ ecosystem: 'PyPI', name: table.name, version: table.version, path: file, line, dependsOn, ...(source ? { source } : {}) });
  }
  return refs;
}

function sourceOf(source: unknown): PackageSource | undefined {
  if (!isRecord(source) || typeof source.url !== 'string') return undefined;
  switch (source.type) {
    case 'git': {
      const revision = typeof source.resolved_reference === 'string' ? source.resolved_reference : typeof source.reference === 'string' ? source.reference : undefined;
      return { kind: 'vcs', location: source.url, ...(revision ? { revision } : {}) };
    }
    case 'directory':
    case 'file':
      return { kind: 'path', location: source.url };
    case 'url':
      return { kind: 'url', location: source.url };
    default:
      return undefined;
  }
}
