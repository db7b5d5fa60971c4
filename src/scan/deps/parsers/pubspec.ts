import { isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';
import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord } from './json-lines.ts';
import { lineAt, lineStarts } from './lines.ts';
import { refuseDeepYaml } from './yaml-depth.ts';

/**
 * pubspec.lock (Dart and Flutter). `packages` maps each package to its `version`, its
 * `source` (`hosted` on pub.dev or another server, `git`, `path`, or `sdk` for the packages
 * that ship with Flutter), a `description` of that source and `dependency` (`direct main`,
 * `direct dev`, `direct overridden` or `transitive`). The lockfile has no graph.
 */
export function parsePubspecLock(file: string, content: string): PackageRef[] {
  refuseDeepYaml(file, content);
  const doc = parseDocument(content, { uniqueKeys: false });
  if (doc.errors.length > 0) throw new ParseError(file, `invalid YAML (${doc.errors[0]?.message.split('\n')[0]})`);
  const lock: unknown = doc.toJS();
  if (!isRecord(lock) || !('packages' in lock || 'sdks' in lock)) throw new ParseError(file, 'not a pubspec.lock (no packages or sdks)');
  const packages = isRecord(lock.packages) ? lock.packages : {};

  const starts = lineStarts(content);
  const keyLines = new Map<string, number>();
  const node = doc.get('packages', true);
  if (isMap(node)) {
    for (const pair of (node as YAMLMap).items) if (isScalar(pair.key) && pair.key.range) keyLines.set(String(pair.key.value), lineAt(starts, pair.key.range[0]));
  }

  const refs: PackageRef[] = [];
  for (const [key, entry] of Object.entries(packages)) {
    if (!isRecord(entry) || entry.version === undefined) continue;
    const description = entry.description;
    const name = isRecord(description) && typeof description.name === 'string' ? description.name : key;
    const source = sourceOf(entry.source, description);
    refs.push({
      ecosystem: 'Pub',
      name,
      version: String(entry.version),
      path: file,
      line: keyLines.get(key) ?? 0,
      direct: typeof entry.dependency === 'string' && entry.dependency.startsWith('direct'),
      ...(source ? { source } : {}),
    });
  }
  return refs;
}

function sourceOf(kind: unknown, description: unknown): PackageSource | undefined {
  const d = isRecord(description) ? description : {};
  switch (kind) {
    case 'git': {
      const revision = typeof d['resolved-ref'] === 'string' ? d['resolved-ref'] : typeof d.ref === 'string' ? d.ref : undefined;
      return { kind: 'vcs', location: typeof d.url === 'string' ? d.url : '', ...(revision ? { revision } : {}) };
    }
    case 'path':
      return { kind: 'path', location: typeof d.path === 'string' ? d.path : '' };
    case 'sdk':
      // Shipped inside the Flutter or Dart SDK (version 0.0.0), not fetched from pub.dev.
      return { kind: 'path', location: '' };
    default:
      return undefined;
  }
}
