import type { PackageRef } from '../../types.ts';
import { normalizePackageName } from '../osv/names.ts';
import { isRecord } from './json-lines.ts';
import { readPackageTables } from './toml-blocks.ts';

/** poetry.lock: a flat list of resolved packages; `[package.dependencies]` gives the graph. */
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
    // Path and git sources are local or unreleased code with no registry advisories.
    const source = isRecord(table.source) ? table.source.type : undefined;
    if (source === 'directory' || source === 'file' || source === 'git') continue;
    const dependsOn: string[] = [];
    if (isRecord(table.dependencies)) {
      for (const dep of Object.keys(table.dependencies)) {
        const version = versions.get(normalizePackageName('PyPI', dep));
        if (version) dependsOn.push(`${dep}@${version}`);
      }
    }
    refs.push({ ecosystem: 'PyPI', name: table.name, version: table.version, path: file, line, dependsOn });
  }
  return refs;
}
