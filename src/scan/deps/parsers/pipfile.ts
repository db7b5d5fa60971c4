import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord, locateJsonKeys, parseJsonObject, pathKey } from './json-lines.ts';

/** Pipfile.lock: `default` and `develop` map names to `{ "version": "==1.2.3" }`. */
export function parsePipfileLock(file: string, content: string): PackageRef[] {
  const parsed = parseJsonObject(content);
  if (!parsed.ok) throw new ParseError(file, parsed.reason);
  const lock = parsed.value;
  if (!isRecord(lock.default) && !isRecord(lock.develop)) throw new ParseError(file, 'no "default" or "develop" section');
  const lines = locateJsonKeys(content, (p) => p.length === 2 && (p[0] === 'default' || p[0] === 'develop'));
  const refs: PackageRef[] = [];
  for (const section of ['default', 'develop'] as const) {
    const packages = lock[section];
    if (!isRecord(packages)) continue;
    for (const [name, entry] of Object.entries(packages)) {
      // Git, path and editable entries have no `version`.
      if (!isRecord(entry) || typeof entry.version !== 'string') continue;
      const version = entry.version.replace(/^===?/, '');
      refs.push({ ecosystem: 'PyPI', name, version, path: file, line: lines.get(pathKey([section, name])) ?? 0 });
    }
  }
  return refs;
}
