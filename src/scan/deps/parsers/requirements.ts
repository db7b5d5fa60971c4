import type { PackageRef } from '../../types.ts';
import { splitLines } from './lines.ts';

/**
 * requirements.txt: only exact pins (`==` / `===`) say which version is installed, so
 * ranges, editable installs, includes (`-r`, `-c`) and URLs are not packages to match.
 */
const PIN = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*$/;

export function parseRequirements(file: string, content: string): PackageRef[] {
  const refs: PackageRef[] = [];
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i] ?? '';
    // A trailing backslash continues the requirement, typically onto `--hash=` lines.
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = `${logical.slice(0, -1)} ${lines[++i] ?? ''}`;
    }
    const requirement = stripOptions(logical);
    if (!requirement) continue;
    const m = PIN.exec(requirement);
    if (!m?.[1] || !m[2]) continue;
    refs.push({ ecosystem: 'PyPI', name: m[1], version: m[2], path: file, line: start + 1, direct: true });
  }
  return refs;
}

function stripOptions(line: string): string {
  let text = line.replace(/(^|\s)#.*$/, '').trim();
  if (text === '' || text.startsWith('-')) return '';
  const marker = text.indexOf(';');
  if (marker !== -1) text = text.slice(0, marker);
  // Per-requirement options such as --hash follow the specifier.
  const option = text.search(/\s--?[a-z]/);
  if (option !== -1) text = text.slice(0, option);
  return text.trim();
}
