import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isAtom, isTuple, readTerm, TermError, type Term } from './elixir-terms.ts';
import { splitLines } from './lines.ts';

/**
 * mix.lock (Elixir): a map from each dependency's app name to a tuple, one per line:
 *   "plug": {:hex, :plug, "1.15.2", "<hash>", [:mix], [{:mime, "~> 1.0 or ~> 2.0", [hex: :mime, ...]}], "hexpm", "<hash>"},
 *   "ecto_fork": {:git, "https://github.com/acme/ecto.git", "<commit>", [branch: "main"]},
 * The terms are read by a literal-only reader (never evaluated). A line that cannot be read
 * is skipped with a notice. Hex packages from a private repository are still Hex releases.
 */
const ENTRY = /^\s*"([^"\\]+)"\s*:\s*/;

export function parseMixLock(file: string, content: string, notice: (message: string) => void): PackageRef[] {
  const lines = splitLines(content);
  if (!lines.some((l) => l.trimStart().startsWith('%{'))) throw new ParseError(file, 'not a mix.lock (no %{ map)');
  const entries: { app: string; tuple: Term[]; line: number }[] = [];
  const unreadable: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const m = ENTRY.exec(line);
    if (!m?.[1]) continue;
    try {
      const { term } = readTerm(line, m[0].length);
      if (isTuple(term)) entries.push({ app: m[1], tuple: term.tuple, line: i + 1 });
      else unreadable.push(i + 1);
    } catch (error) {
      if (!(error instanceof TermError)) throw error;
      unreadable.push(i + 1);
    }
  }
  if (unreadable.length > 0) notice(`line${unreadable.length === 1 ? '' : 's'} ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? '…' : ''} could not be read and ${unreadable.length === 1 ? 'was' : 'were'} skipped`);

  const versions = new Map<string, string>();
  for (const { app, tuple } of entries) if (atomName(tuple[0]) === 'hex' && typeof tuple[2] === 'string') versions.set(app, tuple[2]);
  const refs: PackageRef[] = [];
  for (const { app, tuple, line } of entries) {
    const scm = atomName(tuple[0]);
    if (scm === 'hex') {
      const name = atomName(tuple[1]) ?? app;
      if (typeof tuple[2] !== 'string') continue;
      const deps = Array.isArray(tuple[5]) ? tuple[5] : [];
      const dependsOn = deps.flatMap((dep) => {
        const depApp = isTuple(dep) ? atomName(dep.tuple[0]) : undefined;
        const version = depApp && versions.get(depApp);
        return depApp && version ? [`${depApp}@${version}`] : [];
      });
      refs.push({ ecosystem: 'Hex', name, version: tuple[2], path: file, line, dependsOn });
    } else if (scm === 'git' && typeof tuple[1] === 'string') {
      const revision = typeof tuple[2] === 'string' ? tuple[2] : undefined;
      refs.push({ ecosystem: 'Hex', name: app, version: revision ?? '', path: file, line, source: { kind: 'vcs', location: tuple[1], ...(revision ? { revision } : {}) } });
    }
  }
  return refs;
}

function atomName(term: Term | undefined): string | undefined {
  return isAtom(term) ? term.atom : undefined;
}
