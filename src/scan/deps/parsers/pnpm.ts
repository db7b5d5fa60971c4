import { isMap, isScalar, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord } from './json-lines.ts';
import { lineAt, lineStarts } from './lines.ts';
import { refuseDeepYaml } from './yaml-depth.ts';
import { sourceFromUrl } from './sources.ts';

/**
 * pnpm-lock.yaml. Package keys changed shape across lockfile versions:
 *   v5: `/name/1.0.0` or `/name/1.0.0_peer@2.0.0`, `registry.host/name/1.0.0` for another registry
 *   v6: `/name@1.0.0` or `/name@1.0.0(peer@2.0.0)`
 *   v9: `name@1.0.0` in `packages`, with the dependency graph moved to `snapshots`.
 * Git, tarball and directory packages have keys such as `github.com/owner/repo/<commit>`,
 * `file:libs/a` or `name@https://...`; their `name`, `version` and `resolution` fields say
 * what they are. pnpm 10+ may write an environment document (the package manager and config
 * dependencies, which run at install) before the project's: every document is read.
 */
export function parseKey(key: string, major: number): { name: string; version: string } | undefined {
  const k = withoutPeers(key, major);
  let name: string;
  let version: string;
  if (major < 6) {
    const slash = k.lastIndexOf('/');
    if (slash <= 0) return undefined;
    name = k.slice(0, slash);
    version = k.slice(slash + 1);
    // `registry.npmjs.org/foo/1.1.0`: a first segment with a dot (never in a package name) is the host.
    if (!key.startsWith('/') && !name.startsWith('@')) {
      const first = name.indexOf('/');
      if (first === -1 || !name.slice(0, first).includes('.')) return undefined;
      name = name.slice(first + 1);
    }
  } else {
    const at = k.indexOf('@', 1);
    if (at === -1) return undefined;
    name = k.slice(0, at);
    version = k.slice(at + 1);
  }
  // Registry versions are full semver; commits, URLs and paths are something else.
  if (!/^\d+\.\d+\.\d+/.test(version) || name === '' || name.includes(':')) return undefined;
  return { name, version };
}

/** The key without the leading `/` and the peer-dependency suffix, as dependency values also name it. */
function withoutPeers(key: string, major: number): string {
  let k = key.startsWith('/') ? key.slice(1) : key;
  const paren = k.indexOf('(');
  if (paren !== -1) k = k.slice(0, paren);
  if (major < 6) {
    const underscore = k.indexOf('_', k.lastIndexOf('/') + 1);
    if (underscore !== -1) k = k.slice(0, underscore);
  }
  return k;
}

/** Where a `resolution` says the package came from; undefined for the registry. */
function sourceOf(resolution: unknown, registryKey: boolean): PackageSource | undefined {
  if (!isRecord(resolution)) return undefined;
  if (resolution.type === 'git' && typeof resolution.repo === 'string') {
    return { kind: 'vcs', location: resolution.repo, ...(typeof resolution.commit === 'string' ? { revision: resolution.commit } : {}) };
  }
  if (resolution.type === 'directory' && typeof resolution.directory === 'string') return { kind: 'path', location: resolution.directory };
  if (typeof resolution.tarball !== 'string') return undefined;
  const source = sourceFromUrl(resolution.tarball);
  // A registry other than npmjs.org writes its tarball URL for ordinary releases.
  return source.kind === 'url' && registryKey ? undefined : source;
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

interface Lockfile {
  major: number;
  lock: Record<string, unknown>;
  doc: Document;
}

function readDocuments(file: string, content: string): Lockfile[] {
  refuseDeepYaml(file, content);
  const docs = parseAllDocuments(content, { uniqueKeys: false });
  if (!Array.isArray(docs)) throw new ParseError(file, 'expected a YAML mapping at the top level');
  const out: Lockfile[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new ParseError(file, `invalid YAML (${doc.errors[0]?.message.split('\n')[0]})`);
    // The default alias limit keeps a hostile file from expanding aliases without bound.
    const lock: unknown = doc.toJS();
    if (lock === null || lock === undefined) continue;
    if (!isRecord(lock)) throw new ParseError(file, 'expected a YAML mapping at the top level');
    const major = Number.parseFloat(String(lock.lockfileVersion ?? ''));
    if (!Number.isFinite(major)) throw new ParseError(file, 'no lockfileVersion');
    out.push({ major, lock, doc });
  }
  if (out.length === 0) throw new ParseError(file, 'no lockfileVersion');
  return out;
}

export function parsePnpmLock(file: string, content: string): PackageRef[] {
  const starts = lineStarts(content);
  const refs = new Map<string, PackageRef>();
  for (const lockfile of readDocuments(file, content)) readLockfile(file, lockfile, starts, refs);
  return [...refs.values()];
}

function readLockfile(file: string, { major, lock, doc }: Lockfile, starts: number[], refs: Map<string, PackageRef>): void {
  const packages = isRecord(lock.packages) ? lock.packages : {};
  const snapshots = isRecord(lock.snapshots) ? lock.snapshots : undefined;

  const keyLines = new Map<string, number>();
  const packagesNode = doc.get('packages', true);
  if (isMap(packagesNode)) {
    for (const pair of (packagesNode as YAMLMap).items) {
      if (isScalar(pair.key) && pair.key.range) keyLines.set(String(pair.key.value), lineAt(starts, pair.key.range[0]));
    }
  }

  // Every package by its key without peers, so a dependency value can be looked up however
  // this lockfile version spells it.
  const byKey = new Map<string, PackageRef>();
  for (const [key, block] of Object.entries(packages)) {
    const ref = packageOf(file, key, block, major, keyLines.get(key) ?? 0);
    if (!ref) continue;
    const id = `${ref.name}@${ref.version}\u0000${ref.source?.location ?? ''}`;
    const existing = refs.get(id);
    if (existing) {
      byKey.set(withoutPeers(key, major), existing);
      continue;
    }
    refs.set(id, ref);
    byKey.set(withoutPeers(key, major), ref);
  }
  const lookup = (name: string, value: string): PackageRef | undefined => {
    if (value.startsWith('link:')) return undefined;
    const candidates = major < 6 ? [value, `${name}/${value}`, `${name}@${value}`] : [value, `${name}@${value}`];
    for (const candidate of candidates) {
      const ref = byKey.get(withoutPeers(candidate, major));
      if (ref) return ref;
    }
    return undefined;
  };

  const importers = isRecord(lock.importers) ? Object.values(lock.importers) : [lock];
  for (const importer of importers) {
    for (const [name, value] of depEntries(importer)) {
      const ref = lookup(name, value);
      if (ref) ref.direct = true;
    }
    if (isRecord(importer)) {
      // pnpm 10+ environment document: the package manager and config dependencies are installed by the project too.
      for (const field of ['configDependencies', 'packageManagerDependencies']) {
        const deps = importer[field];
        if (!isRecord(deps)) continue;
        for (const [name, value] of Object.entries(deps)) {
          const version = isRecord(value) ? value.version : value;
          const ref = typeof version === 'string' ? lookup(name, version.split('+')[0] ?? version) : undefined;
          if (ref) ref.direct = true;
        }
      }
    }
  }

  for (const [key, block] of Object.entries(snapshots ?? packages)) {
    const ref = byKey.get(withoutPeers(key, major));
    if (!ref) continue;
    for (const [dep, value] of depEntries(block)) {
      const target = lookup(dep, value);
      const id = target && `${target.name}@${target.version}`;
      if (id && !ref.dependsOn?.includes(id)) ref.dependsOn?.push(id);
    }
  }
}

function packageOf(file: string, key: string, block: unknown, major: number, line: number): PackageRef | undefined {
  const entry = isRecord(block) ? block : {};
  const registry = parseKey(key, major);
  const source = sourceOf(entry.resolution, registry !== undefined) ?? (registry ? undefined : sourceOfKey(key, major));
  let name = registry?.name;
  let version = registry?.version;
  if (source) {
    // Non-registry packages carry their own name and version (the key is a URL or path).
    name = stringField(entry.name) ?? name ?? nameInV9Key(key, major);
    version = stringField(entry.version) ?? version ?? source.revision;
  }
  if (!name || !version) return undefined;
  return { ecosystem: 'npm', name, version, path: file, line, direct: false, dependsOn: [], ...(source ? { source } : {}) };
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** v9 keys of non-registry packages still start with the name: `name@https://...`, `@scope/name@file:...`. */
function nameInV9Key(key: string, major: number): string | undefined {
  if (major < 9) return undefined;
  const at = key.indexOf('@', 1);
  return at > 0 ? key.slice(0, at) : undefined;
}

/** A key that is itself a location, for packages written without a `resolution` pointing at it. */
function sourceOfKey(key: string, major: number): PackageSource | undefined {
  const spec = major >= 9 ? key.slice(key.indexOf('@', 1) + 1) : key;
  if (spec.startsWith('file:')) return { kind: 'path', location: spec.slice('file:'.length) };
  if (/^(git\+|https?:)/.test(spec)) return sourceFromUrl(spec);
  return undefined;
}
