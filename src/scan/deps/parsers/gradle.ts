import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';

const COORDINATE = /^([^:=\s]+):([^:=\s]+):([^:=\s]+)(?:=.*)?$/;

/**
 * gradle.lockfile: `group:artifact:version=configuration,...` per line; `empty=` lists
 * unused configurations. A line that is not a coordinate is skipped with a notice, so one
 * hand edit or merge leftover does not hide the rest of the file; a file with no coordinate
 * at all among such lines is not a Gradle lockfile.
 */
export function parseGradleLockfile(file: string, content: string, notice: (message: string) => void): PackageRef[] {
  const refs: PackageRef[] = [];
  const malformed: number[] = [];
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] ?? '').trim();
    if (text === '' || text.startsWith('#') || text.startsWith('empty=')) continue;
    const m = COORDINATE.exec(text);
    if (!m?.[1] || !m[2] || !m[3]) {
      malformed.push(i + 1);
      continue;
    }
    refs.push({ ecosystem: 'Maven', name: `${m[1]}:${m[2]}`, version: m[3], path: file, line: i + 1 });
  }
  if (malformed.length > 0 && refs.length === 0) throw new ParseError(file, `line ${malformed[0]}: expected "group:artifact:version=configurations"`);
  if (malformed.length > 0) notice(`${linesText(malformed)} not "group:artifact:version=configurations" and skipped`);
  return refs;
}

function linesText(lines: number[]): string {
  const shown = lines.slice(0, 5).join(', ');
  return `line${lines.length === 1 ? '' : 's'} ${shown}${lines.length > 5 ? ` and ${lines.length - 5} more` : ''} ${lines.length === 1 ? 'is' : 'are'}`;
}
