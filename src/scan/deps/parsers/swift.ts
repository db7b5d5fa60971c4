import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord, locateJsonKeys, parseJsonObject, pathKey } from './json-lines.ts';

/**
 * Swift Package Manager's Package.resolved. Version 1 lists `object.pins` as
 * `{ package, repositoryURL, state }`; versions 2 and 3 list `pins` as `{ identity, kind,
 * location, state }`. OSV's SwiftURL ecosystem names a package by its repository URL
 * without scheme or `.git`. A pin on a tagged `version` is a release; a pin on a branch or
 * bare revision is listed at that commit, and a local checkout by its path; neither is matched.
 */
export function parsePackageResolved(file: string, content: string): PackageRef[] {
  const parsed = parseJsonObject(content);
  if (!parsed.ok) throw new ParseError(file, parsed.reason);
  const lock = parsed.value;
  const v1 = isRecord(lock.object) && Array.isArray(lock.object.pins);
  const pins: unknown = v1 ? (lock.object as Record<string, unknown>).pins : lock.pins;
  if (!Array.isArray(pins)) throw new ParseError(file, 'no "pins" array');
  const nameKey = v1 ? 'package' : 'identity';
  const lines = locateJsonKeys(content, (p) => p.length === (v1 ? 4 : 3) && p[p.length - 1] === nameKey);

  const refs: PackageRef[] = [];
  pins.forEach((pin: unknown, index) => {
    if (!isRecord(pin)) return;
    const location = typeof pin.location === 'string' ? pin.location : typeof pin.repositoryURL === 'string' ? pin.repositoryURL : undefined;
    const state = isRecord(pin.state) ? pin.state : {};
    const version = typeof state.version === 'string' && state.version !== '' ? state.version : undefined;
    const revision = typeof state.revision === 'string' ? state.revision : undefined;
    if (!location && typeof pin.identity !== 'string') return;
    const local = pin.kind === 'localSourceControl' || pin.kind === 'fileSystem';
    // Registry pins (`kind: registry`) are named `scope.name` and have no repository URL.
    const name = location && !local ? swiftName(location) : String(pin.identity);
    let source: PackageSource | undefined;
    if (local) source = { kind: 'path', location: location ?? '' };
    else if (!version) source = { kind: 'vcs', location: location ?? '', ...(revision ? { revision } : {}) };
    const line = lines.get(pathKey(v1 ? ['object', 'pins', index, nameKey] : ['pins', index, nameKey])) ?? 0;
    refs.push({ ecosystem: 'SwiftURL', name, version: version ?? revision ?? '', path: file, line, ...(source ? { source } : {}) });
  });
  return refs;
}

/** `https://github.com/apple/swift-nio.git` → `github.com/apple/swift-nio`; `git@host:o/r.git` → `host/o/r`. */
function swiftName(location: string): string {
  return location
    .replace(/^[a-z+]+:\/\//i, '')
    .replace(/^[^@/]+@([^:/]+):/, '$1/')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}
