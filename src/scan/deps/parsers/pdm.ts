import type { PackageRef, PackageSource } from '../../types.ts';
import { normalizePackageName } from '../osv/names.ts';
import { readPackageTables } from './toml-blocks.ts';

/**
 * pdm.lock: `[[package]]` tables with `name`, `version` and `dependencies` as requirement
 * strings (`"idna>=2.5"`). A package from git has `git` and `revision`, from a directory
 * `path` (often `editable`), from an archive `url`.
 */
export function parsePdmLock(file: string, content: string): PackageRef[] {
  const { packages } = readPackageTables(file, content);
  const versions = new Map<string, string>();
  for (const { table } of packages) {
    if (typeof table.name === 'string' && typeof table.version === 'string') versions.set(normalizePackageName('PyPI', table.name), table.version);
  }
  const refs: PackageRef[] = [];
  const seen = new Set<string>();
  for (const { table, line } of packages) {
    if (typeof table.name !== 'string') continue;
    const source = sourceOf(table);
    const version = typeof table.version === 'string' ? table.version : (source?.revision ?? '');
    if (!source && version === '') continue;
    // PDM lists a package again per extra (`name = "requests"`, `extras = ["socks"]`); one entry is enough.
    const id = `${normalizePackageName('PyPI', table.name)}@${version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const dependsOn = (Array.isArray(table.dependencies) ? table.dependencies : []).flatMap((requirement: unknown) => {
      const name = typeof requirement === 'string' ? /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(requirement.trim())?.[0] : undefined;
      const depVersion = name && versions.get(normalizePackageName('PyPI', name));
      return name && depVersion ? [`${name}@${depVersion}`] : [];
    });
    refs.push({ ecosystem: 'PyPI', name: table.name, version, path: file, line, dependsOn, ...(source ? { source } : {}) });
  }
  return refs;
}

function sourceOf(table: Record<string, unknown>): PackageSource | undefined {
  if (typeof table.git === 'string') {
    const revision = typeof table.revision === 'string' ? table.revision : typeof table.ref === 'string' ? table.ref : undefined;
    return { kind: 'vcs', location: table.git, ...(revision ? { revision } : {}) };
  }
  if (typeof table.path === 'string') return { kind: 'path', location: table.path };
  if (typeof table.url === 'string') return { kind: 'url', location: table.url };
  return undefined;
}
