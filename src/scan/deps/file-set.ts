import type { PackageRef } from '../types.ts';
import { ParseError } from './errors.ts';
import { dependencyFormat } from './files.ts';
import { normalizePackageName } from './osv/names.ts';
import { asText, parseLockfile } from './parse.ts';
import { goVersionOf, parseGoMod, parseGoSum } from './parsers/gomod.ts';
import { parsePom, readPomModel, type PomModel } from './parsers/maven.ts';
import { readRequirementsFile, type RequirementsFile } from './parsers/requirements.ts';
import { compareVersions } from './versions/index.ts';

/**
 * Dependency files read together, for what one file says about another in the same tree:
 *  - npm uses npm-shrinkwrap.json and ignores a package-lock.json beside it;
 *  - before Go 1.17, go.mod lists only some of the modules a build uses, and go.sum beside
 *    it names the rest (modules whose source was downloaded, not only their go.mod);
 *  - a pom.xml inherits properties and managed versions from its parent pom, found in the
 *    tree through `<relativePath>` (default `../pom.xml`);
 *  - a requirements file installs what the files it includes (`-r`) require, and takes the
 *    versions of its unpinned requirements from its constraints files (`-c`), each named
 *    relative to the file that names it. Followed MAX_INCLUDE_DEPTH deep, never out of the
 *    tree, each file once. A file named by an include need not look like a dependency file
 *    (`-r base.in`, `-c constraints.txt`): added here, it counts only through the include.
 * Files are added one at a time (each throws ParseError as parseLockfile does); the files
 * that need others are kept as text until `packages()` reads everything.
 */
const CONTEXT_FILES = new Set(['go.mod', 'go.sum', 'pom.xml']);
/** How many `-r`/`-c` steps from a requirements file are followed. */
const MAX_INCLUDE_DEPTH = 8;

/** A requirements file, or a file an include names: anything whose name is no known format. */
function isRequirementsLike(path: string): boolean {
  const format = dependencyFormat(path);
  return format === 'requirements' || format === undefined;
}

/** A dependency file's packages and notices, or why it could not be read (a ParseError's reason). */
export type ParsedFile = { packages: PackageRef[]; notices: string[] } | { reason: string };

/** Parses one dependency file elsewhere (another thread, within a budget). */
export type LockfileParser = (path: string, content: string) => Promise<ParsedFile>;

export class DependencyFileSet {
  readonly #parsed = new Map<string, PackageRef[]>();
  readonly #goMods = new Map<string, string>();
  readonly #goSums = new Map<string, string>();
  readonly #poms = new Map<string, string>();
  readonly #requirements = new Map<string, RequirementsFile>();

  /** go.mod, go.sum and pom.xml are read with the files around them; any other file is read alone. */
  static needsOtherFiles(path: string): boolean {
    return CONTEXT_FILES.has(baseName(path)) || isRequirementsLike(path);
  }

  /** Whether contextOf reads the file's content (a pom's parent, a requirements file's includes), rather than its path alone. */
  static contextNeedsParsing(path: string): boolean {
    return baseName(path) === 'pom.xml' || isRequirementsLike(path);
  }

  /**
   * Files whose content changes what `path` yields, for a caller that reads one file at a
   * time (a pull request's changed files): the npm-shrinkwrap.json that hides a
   * package-lock.json, the go.sum of a go.mod and the go.mod of a go.sum, a pom's local
   * parent. Read them into the same set (and theirs in turn, for a chain of parent poms).
   */
  static contextOf(path: string, content: string): string[] {
    if (isRequirementsLike(path)) return DependencyFileSet.includesOf(path, content);
    switch (baseName(path)) {
      case 'package-lock.json':
        return [sibling(path, 'npm-shrinkwrap.json')];
      case 'go.mod':
        return [sibling(path, 'go.sum')];
      case 'go.sum':
        return [sibling(path, 'go.mod')];
      case 'pom.xml': {
        let parent;
        try {
          parent = readPomModel(path, content).parent;
        } catch (error) {
          if (error instanceof ParseError) return [];
          throw error;
        }
        const parentPath = parent && parentPomPath(path, parent.relativePath);
        return parentPath === undefined ? [] : [parentPath];
      }
      default:
        return [];
    }
  }

  /** Whether `path` is read with the files it includes, whose packages count as its own (a requirements file). */
  static followsIncludes(path: string): boolean {
    return isRequirementsLike(path);
  }

  /**
   * The files a requirements file includes (`-r`, `-c`), for a caller that has the tree at
   * hand but reads only dependency files from it (a scan of a directory): these are read
   * too, whatever their names. Empty for any other file.
   */
  static includesOf(path: string, content: string): string[] {
    return isRequirementsLike(path) ? includedFiles(path, readRequirementsFile(path, asText(content))) : [];
  }

  /** A file read alone earlier (by parseLockfile), for callers that keep parsed files. */
  addParsed(path: string, refs: PackageRef[]): void {
    this.#parsed.set(path, refs);
  }

  /** `add`, with a file read alone parsed by `parse`; throws ParseError as `add` does when it cannot be read. */
  async addParsedBy(parse: LockfileParser, path: string, content: string, notice: (message: string) => void): Promise<void> {
    if (DependencyFileSet.needsOtherFiles(path)) return this.add(path, content, notice);
    const parsed = await parse(path, content);
    if ('reason' in parsed) throw new ParseError(path, parsed.reason);
    for (const message of parsed.notices) notice(message);
    this.addParsed(path, parsed.packages);
  }

  add(path: string, content: string, notice: (message: string) => void = () => undefined): void {
    const base = baseName(path);
    if (base === 'go.sum') {
      this.#goSums.set(path, content);
      return;
    }
    if (isRequirementsLike(path)) {
      this.#requirements.set(path, readRequirementsFile(path, asText(content)));
      return;
    }
    // Read now so an unreadable file is reported when it is added, like any other.
    const refs = parseLockfile(path, content, notice);
    if (base === 'go.mod') this.#goMods.set(path, content);
    else if (base === 'pom.xml') this.#poms.set(path, content);
    else this.#parsed.set(path, refs);
  }

  packages(): PackageRef[] {
    const out: PackageRef[] = [];
    for (const [path, refs] of this.#parsed) {
      if (baseName(path) === 'package-lock.json' && this.#parsed.has(sibling(path, 'npm-shrinkwrap.json'))) continue;
      out.push(...refs);
    }
    const seen = new Set<string>();
    for (const path of this.#requirements.keys()) {
      // A file that only an include names counts through that include.
      if (dependencyFormat(path) !== 'requirements') continue;
      for (const ref of this.#requirementsOf(path)) {
        const key = JSON.stringify([ref.path, ref.line, ref.name, ref.version]);
        if (!seen.has(key)) out.push(ref);
        seen.add(key);
      }
    }
    for (const [path, content] of this.#goMods) out.push(...this.#goModule(path, content));
    for (const [path, content] of this.#poms) out.push(...parsePom(path, content, undefined, this.#ancestors(path, content)));
    return out;
  }

  #goModule(path: string, content: string): PackageRef[] {
    const refs = parseGoMod(path, content);
    const version = goVersionOf(content);
    const sumPath = sibling(path, 'go.sum');
    const sum = this.#goSums.get(sumPath);
    // Go 1.17 made go.mod list every module the build needs; a module without a go directive is treated as Go 1.16.
    if (sum === undefined || (version !== undefined && compareVersions('Go', `v${version}`, 'v1.17') >= 0)) return refs;
    const listed = new Set(refs.map((r) => r.name));
    const chosen = new Map<string, PackageRef>();
    for (const ref of parseGoSum(sumPath, sum)) {
      if (listed.has(ref.name)) continue;
      const seen = chosen.get(ref.name);
      // go.sum keeps every version ever downloaded; the build uses the highest (minimal version selection).
      if (!seen || compareVersions('Go', ref.version, seen.version) > 0) chosen.set(ref.name, ref);
    }
    return [...refs, ...chosen.values()];
  }

  /** What installing requirements file `path` installs that the files at hand say: its own and included pins, and unpinned requirements its constraints pin. */
  #requirementsOf(path: string): PackageRef[] {
    const required: { file: string; read: RequirementsFile }[] = [];
    const constraints: RequirementsFile[] = [];
    const visited = new Set<string>();
    const visit = (file: string, constraint: boolean, depth: number) => {
      const key = `${constraint}\0${file}`;
      const read = this.#requirements.get(file);
      if (!read || visited.has(key) || depth > MAX_INCLUDE_DEPTH) return;
      visited.add(key);
      if (constraint) constraints.push(read);
      else required.push({ file, read });
      for (const include of read.includes) {
        const target = includedFile(file, include.target);
        // Whatever a constraints file includes constrains too.
        if (target !== undefined) visit(target, constraint || include.constraint, depth + 1);
      }
    };
    visit(path, false, 0);
    const pins = new Map<string, string>();
    for (const { refs } of constraints) {
      for (const ref of refs) {
        const name = normalizePackageName('PyPI', ref.name);
        if (!ref.source && !pins.has(name)) pins.set(name, ref.version);
      }
    }
    const out: PackageRef[] = [];
    for (const { file, read } of required) {
      out.push(...read.refs);
      for (const { name, line } of read.unpinned) {
        const version = pins.get(normalizePackageName('PyPI', name));
        if (version) out.push({ ecosystem: 'PyPI', name, version, path: file, line, direct: true });
      }
    }
    return out;
  }

  /** The chain of local parent poms, nearest first; stops at a parent that is not the one named, or at a cycle. */
  #ancestors(path: string, content: string): PomModel[] {
    const chain: PomModel[] = [];
    const visited = new Set([path]);
    let model = readPomModel(path, content);
    let current = path;
    while (model.parent && chain.length < 16) {
      const parentPath = parentPomPath(current, model.parent.relativePath);
      const parentContent = parentPath === undefined || visited.has(parentPath) ? undefined : this.#poms.get(parentPath);
      if (parentPath === undefined || parentContent === undefined) break;
      const parentModel = readPomModel(parentPath, parentContent);
      // Maven checks that the pom found is the parent named; a different artifact there is not it.
      if (parentModel.properties.get('project.artifactId') !== model.parent.artifactId) break;
      chain.push(parentModel);
      visited.add(parentPath);
      current = parentPath;
      model = parentModel;
    }
    return chain;
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

function sibling(path: string, name: string): string {
  const dir = dirName(path);
  return dir ? `${dir}/${name}` : name;
}

/** Where a pom's `<relativePath>` points: a pom file, or a directory holding pom.xml. */
function parentPomPath(pomPath: string, relativePath: string): string | undefined {
  return joinPath(dirName(pomPath), relativePath.endsWith('.xml') ? relativePath : `${relativePath}/pom.xml`);
}

/** `a/b` + `../pom.xml` → `a/pom.xml`; undefined when the path leaves the tree. */
function joinPath(dir: string, relative: string): string | undefined {
  const parts = dir ? dir.split('/') : [];
  for (const part of relative.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join('/');
}

/** The files a requirements file's `-r`/`-c` lines name that are in the tree. */
function includedFiles(path: string, file: RequirementsFile): string[] {
  return file.includes.flatMap(({ target }) => includedFile(path, target) ?? []);
}

/** An include's target relative to the file naming it; undefined for a URL, an absolute path, or one that leaves the tree. */
function includedFile(path: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('/') || target.includes('\\')) return undefined;
  return joinPath(dirName(path), target);
}
