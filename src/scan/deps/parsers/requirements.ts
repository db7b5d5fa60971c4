import type { PackageRef, PackageSource } from '../../types.ts';
import { splitLines } from './lines.ts';

/**
 * requirements.txt: only exact pins (`==` / `===`) say which version is installed, so
 * ranges and index options are not packages to match. Direct references
 * (`name @ git+https://...@rev`, `-e git+...#egg=name`, `name @ file:...`) are packages from
 * outside PyPI: listed with their source, never matched. Read alone, a file's includes
 * (`-r`, `-c`) are not followed; readRequirementsFile lists them and the requirements they
 * could pin, for DependencyFileSet, which reads the files together.
 */
const PIN = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*$/;
const DIRECT_REFERENCE = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*@\s*(\S+)$/;
const EDITABLE = /^(?:-e|--editable)[\s=]+(\S+)/;
/** `-r other.txt`, `--requirement=other.txt`, `-c constraints.txt`, `--constraint other.txt`. */
const INCLUDE = /^(?:-(r|c)|--(requirement|constraint))(?:\s*=\s*|\s+|(?<=^-[rc]))(\S+)/;
/** A requirement without an exact pin: a name, maybe extras, then a range or nothing. */
const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:$|[<>=!~,(])/;

/** What one requirements file says, for reading it with the files it names. */
export interface RequirementsFile {
  /** Exact pins and direct references, as parseRequirements returns them. */
  refs: PackageRef[];
  /** Requirements without a pin, which a constraints file may pin. */
  unpinned: { name: string; line: number }[];
  /** `-r` (requirements) and `-c` (constraints) targets, as written (relative to this file). */
  includes: { constraint: boolean; target: string }[];
}

export function parseRequirements(file: string, content: string): PackageRef[] {
  return readRequirementsFile(file, content).refs;
}

export function readRequirementsFile(file: string, content: string): RequirementsFile {
  const result: RequirementsFile = { refs: [], unpinned: [], includes: [] };
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i] ?? '';
    // A trailing backslash continues the requirement, typically onto `--hash=` lines.
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = `${logical.slice(0, -1)} ${lines[++i] ?? ''}`;
    }
    const line = logical.trim();
    const ref = readRequirement(line);
    if (ref) {
      result.refs.push({ ecosystem: 'PyPI', ...ref, path: file, line: start + 1, direct: true });
      continue;
    }
    const include = INCLUDE.exec(line);
    if (include?.[3]) {
      result.includes.push({ constraint: include[1] === 'c' || include[2] === 'constraint', target: include[3] });
      continue;
    }
    const name = line.startsWith('-') || line.startsWith('#') ? undefined : NAME.exec(line)?.[1];
    if (name) result.unpinned.push({ name, line: start + 1 });
  }
  return result;
}

function readRequirement(line: string): Pick<PackageRef, 'name' | 'version' | 'source'> | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const editable = EDITABLE.exec(line);
  if (editable?.[1]) return fromEditable(editable[1]);
  if (line.startsWith('-')) return undefined;
  let text = line.replace(/\s#.*$/, '');
  const marker = text.indexOf(';');
  if (marker !== -1) text = text.slice(0, marker);
  // Per-requirement options such as --hash and -C/--config-settings follow the specifier.
  const option = text.search(/\s--?[A-Za-z]/);
  if (option !== -1) text = text.slice(0, option);
  text = text.trim();
  const direct = DIRECT_REFERENCE.exec(text);
  if (direct?.[1] && direct[2]) return { name: direct[1], ...fromUrl(direct[2]) };
  // Without a URL on the line, a `#` can only start a comment, even with no space before it.
  const hash = text.indexOf('#');
  const m = PIN.exec(hash === -1 ? text : text.slice(0, hash));
  return m?.[1] && m[2] ? { name: m[1], version: m[2] } : undefined;
}

/** `-e git+https://host/repo.git@rev#egg=name`; a bare local directory names no package. */
function fromEditable(target: string): Pick<PackageRef, 'name' | 'version' | 'source'> | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(target)?.[1];
  if (!egg) return undefined;
  return { name: egg, ...fromUrl(target.slice(0, target.indexOf('#'))) };
}

/** pip's VCS URLs put the revision after the last `@` of the path: `git+https://host/repo.git@v1.2`. */
function fromUrl(url: string): { version: string; source: PackageSource } {
  const bare = url.replace(/#.*$/, '');
  if (bare.startsWith('file:')) return { version: '', source: { kind: 'path', location: bare.replace(/^file:(\/\/)?/, '') } };
  const vcs = /^(git|hg|svn|bzr)\+/.exec(bare);
  if (!vcs) return { version: '', source: { kind: 'url', location: bare } };
  const at = bare.lastIndexOf('@');
  const slash = bare.lastIndexOf('/');
  const revision = at > slash ? bare.slice(at + 1) : undefined;
  const location = at > slash ? bare.slice(0, at) : bare;
  return { version: revision ?? '', source: { kind: 'vcs', location, ...(revision ? { revision } : {}) } };
}
