import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';

/** gradle.lockfile: `group:artifact:version=configuration,...` per line; `empty=` lists unused configurations. */
export function parseGradleLockfile(file: string, content: string): PackageRef[] {
  const refs: PackageRef[] = [];
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] ?? '').trim();
    if (text === '' || text.startsWith('#') || text.startsWith('empty=')) continue;
    const m = /^([^:=\s]+):([^:=\s]+):([^:=\s]+)(?:=.*)?$/.exec(text);
    if (!m?.[1] || !m[2] || !m[3]) throw new ParseError(file, `line ${i + 1}: expected "group:artifact:version=configurations"`);
    refs.push({ ecosystem: 'Maven', name: `${m[1]}:${m[2]}`, version: m[3], path: file, line: i + 1 });
  }
  return refs;
}
