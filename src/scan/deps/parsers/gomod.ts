import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';

/**
 * go.mod. `require` lines (single or in a block) list module versions, `// indirect`
 * marks ones no package of this module imports, and `replace` swaps a module for another
 * module version (which is then what gets built) or for a local directory (not matched).
 */
interface Require {
  module: string;
  version: string;
  line: number;
  indirect: boolean;
}

interface Replace {
  from: string;
  fromVersion?: string;
  to: string;
  toVersion?: string;
}

function unquote(token: string): string {
  return token.startsWith('"') || token.startsWith('`') ? token.slice(1, -1) : token;
}

export function parseGoMod(file: string, content: string): PackageRef[] {
  const requires: Require[] = [];
  const replaces: Replace[] = [];
  let block: string | undefined;
  let sawModule = false;

  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const comment = raw.indexOf('//');
    const code = (comment === -1 ? raw : raw.slice(0, comment)).trim();
    const indirect = comment !== -1 && /^\/\/\s*indirect\b/.test(raw.slice(comment).trim());
    if (code === '') continue;
    if (block) {
      if (code === ')') {
        block = undefined;
        continue;
      }
      handle(block, code.split(/\s+/), i + 1, indirect);
      continue;
    }
    const [directive, ...rest] = code.split(/\s+/);
    if (directive === 'module') sawModule = true;
    if (rest.length === 1 && rest[0] === '(') {
      block = directive;
      continue;
    }
    if (directive) handle(directive, rest, i + 1, indirect);
  }
  if (block) throw new ParseError(file, `unterminated "${block} (" block`);
  if (!sawModule && requires.length === 0) throw new ParseError(file, 'no module directive');

  function handle(directive: string, args: string[], line: number, indirect: boolean): void {
    if (directive === 'require') {
      const [module, version] = args;
      if (!module || !version) throw new ParseError(file, `line ${line}: expected "module version"`);
      requires.push({ module: unquote(module), version: unquote(version), line, indirect });
    } else if (directive === 'replace') {
      const arrow = args.indexOf('=>');
      if (arrow < 1) throw new ParseError(file, `line ${line}: expected "module [version] => replacement"`);
      const [from, fromVersion] = args.slice(0, arrow).map(unquote);
      const [to, toVersion] = args.slice(arrow + 1).map(unquote);
      if (!from || !to) throw new ParseError(file, `line ${line}: expected "module [version] => replacement"`);
      replaces.push({ from, to, ...(fromVersion ? { fromVersion } : {}), ...(toVersion ? { toVersion } : {}) });
    }
  }

  const refs: PackageRef[] = [];
  for (const req of requires) {
    // A versioned replace applies to that version only and wins over an unversioned one.
    const replace =
      replaces.find((r) => r.from === req.module && r.fromVersion === req.version) ??
      replaces.find((r) => r.from === req.module && r.fromVersion === undefined);
    let module = req.module;
    let version = req.version;
    if (replace) {
      if (!replace.toVersion) continue; // replaced by a local directory
      module = replace.to;
      version = replace.toVersion;
    }
    refs.push({ ecosystem: 'Go', name: module, version, path: file, line: req.line, direct: !req.indirect });
  }
  return refs;
}

/** The `go 1.16` directive's version, if any. */
export function goVersionOf(content: string): string | undefined {
  return /^go\s+(\d+(?:\.\d+){0,2})\s*(?:\/\/.*)?$/m.exec(content)?.[1];
}

/**
 * go.sum: `module version h1:hash` for a module's source and `module version/go.mod h1:hash`
 * for its go.mod only (read while resolving versions, not necessarily built). Only source
 * lines name modules a build used. Read with its go.mod, never on its own.
 */
export function parseGoSum(file: string, content: string): PackageRef[] {
  const refs: PackageRef[] = [];
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const [module, version, hash] = (lines[i] ?? '').trim().split(/\s+/);
    if (!module || !version || !hash || version.endsWith('/go.mod')) continue;
    refs.push({ ecosystem: 'Go', name: module, version, path: file, line: i + 1, direct: false });
  }
  return refs;
}
