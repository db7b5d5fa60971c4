import { isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';
import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord } from './json-lines.ts';
import { lineAt, lineStarts } from './lines.ts';

/**
 * pnpm-lock.yaml. Package keys changed shape across lockfile versions:
 *   v5: `/name/1.0.0` or `/name/1.0.0_peer@2.0.0`
 *   v6: `/name@1.0.0` or `/name@1.0.0(peer@2.0.0)`
 *   v9: `name@1.0.0` in `packages`, with the dependency graph moved to `snapshots`.
 */
export function parseKey(key: string, major: number): { name: string; version: string } | undefined {
  let k = key.startsWith('/') ? key.slice(1) : key;
  const paren = k.indexOf('(');
  if (paren !== -1) k = k.slice(0, paren);
  let name: string;
  let version: string;
  if (major < 6) {
    const slash = k.lastIndexOf('/');
    if (slash <= 0) return undefined;
    name = k.slice(0, slash);
    version = k.slice(slash + 1);
    const underscore = version.indexOf('_');
    if (underscore !== -1) version = version.slice(0, underscore);
  } else {
    const at = k.indexOf('@', 1);
    if (at === -1) return undefined;
    name = k.slice(0, at);
    version = k.slice(at + 1);
  }
  // Tarball, git and file dependencies carry a URL or path here instead of a registry version.
  if (!/^\d/.test(version) || name.includes(':')) return undefined;
  return { name, version };
}

/** A dependency value is a version, possibly with a peer suffix, or a key of its own (aliases). */
function depTarget(name: string, value: string, major: number): string | undefined {
  if (value.startsWith('link:') || value.startsWith('file:')) return undefined;
  if (value.startsWith('/') || (major >= 9 && /^(@[^/]+\/)?[^@/(]+@\d/.test(value))) {
    const parsed = parseKey(value, major);
    return parsed ? `${parsed.name}@${parsed.version}` : undefined;
  }
  if (value.startsWith('npm:')) {
    const parsed = parseKey(value.slice(4), 6);
    return parsed ? `${parsed.name}@${parsed.version}` : undefined;
  }
  const parsed = parseKey(`${name}@${value}`, 6);
  if (!parsed) return undefined;
  return `${parsed.name}@${major < 6 ? (parsed.version.split('_')[0] ?? parsed.version) : parsed.version}`;
}

const DEP_FIELDS = ['dependencies', 'optionalDependencies', 'devDependencies'] as const;

function depEntries(block: unknown): [string, string][] {
  const out: [string, string][] = [];
  if (!isRecord(block)) return out;
  for (const field of DEP_FIELDS) {
    const deps = block[field];
    if (!isRecord(deps)) continue;
    for (const [name, value] of Object.entries(deps)) {
      // v6+ importers write `{ specifier, version }`; older ones the bare version.
      const version = isRecord(value) ? value.version : value;
      if (typeof version === 'string' || typeof version === 'number') out.push([name, String(version)]);
    }
  }
  return out;
}

export function parsePnpmLock(file: string, content: string): PackageRef[] {
  const doc = parseDocument(content, { uniqueKeys: false });
  if (doc.errors.length > 0) throw new ParseError(file, `invalid YAML (${doc.errors[0]?.message.split('\n')[0]})`);
  const lock: unknown = doc.toJS({ maxAliasCount: -1 });
  if (!isRecord(lock)) throw new ParseError(file, 'expected a YAML mapping at the top level');
  const major = Number.parseFloat(String(lock.lockfileVersion ?? ''));
  if (!Number.isFinite(major)) throw new ParseError(file, 'no lockfileVersion');
  const packages = isRecord(lock.packages) ? lock.packages : {};
  const snapshots = isRecord(lock.snapshots) ? lock.snapshots : undefined;

  const starts = lineStarts(content);
  const keyLines = new Map<string, number>();
  const packagesNode = doc.get('packages', true);
  if (isMap(packagesNode)) {
    for (const pair of (packagesNode as YAMLMap).items) {
      if (isScalar(pair.key) && pair.key.range) keyLines.set(String(pair.key.value), lineAt(starts, pair.key.range[0]));
    }
  }

  const importers = isRecord(lock.importers) ? Object.values(lock.importers) : [lock];
  const direct = new Set<string>();
  for (const importer of importers) {
    for (const [name, value] of depEntries(importer)) {
      const target = depTarget(name, value, major);
      if (target) direct.add(target);
    }
  }

  const refs = new Map<string, PackageRef>();
  const graphSource = snapshots ?? packages;
  const addDeps = (ref: PackageRef, block: unknown): void => {
    for (const [dep, value] of depEntries(block)) {
      const target = depTarget(dep, value, major);
      if (target && !ref.dependsOn?.includes(target)) ref.dependsOn?.push(target);
    }
  };
  for (const key of Object.keys(packages)) {
    const parsed = parseKey(key, major);
    if (!parsed) continue;
    const id = `${parsed.name}@${parsed.version}`;
    let ref = refs.get(id);
    if (!ref) {
      ref = {
        ecosystem: 'npm',
        name: parsed.name,
        version: parsed.version,
        path: file,
        line: keyLines.get(key) ?? 0,
        direct: direct.has(id),
        dependsOn: [],
      };
      refs.set(id, ref);
    }
    if (!snapshots) addDeps(ref, packages[key]);
  }
  if (snapshots) {
    for (const [key, block] of Object.entries(graphSource)) {
      const parsed = parseKey(key, major);
      const ref = parsed && refs.get(`${parsed.name}@${parsed.version}`);
      if (ref) addDeps(ref, block);
    }
  }
  return [...refs.values()];
}
