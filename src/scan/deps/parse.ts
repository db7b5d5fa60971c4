import type { PackageRef } from '../types.ts';
import { ParseError } from './errors.ts';
import { dependencyFormat, type DependencyFormat } from './files.ts';
import { parseBunLock } from './parsers/bun.ts';
import { parseCargoLock } from './parsers/cargo.ts';
import { parseComposerLock } from './parsers/composer.ts';
import { parseGemfileLock } from './parsers/gemfile.ts';
import { parseGoMod } from './parsers/gomod.ts';
import { parseGradleLockfile } from './parsers/gradle.ts';
import { parsePom } from './parsers/maven.ts';
import { parseMixLock } from './parsers/mix.ts';
import { parseNpmLock } from './parsers/npm.ts';
import { parseNugetLock } from './parsers/nuget.ts';
import { parsePdmLock } from './parsers/pdm.ts';
import { parsePipfileLock } from './parsers/pipfile.ts';
import { parsePnpmLock } from './parsers/pnpm.ts';
import { parsePoetryLock } from './parsers/poetry.ts';
import { parsePubspecLock } from './parsers/pubspec.ts';
import { parseRequirements } from './parsers/requirements.ts';
import { parsePackageResolved } from './parsers/swift.ts';
import { parseUvLock } from './parsers/uv.ts';
import { parseYarnLock } from './parsers/yarn.ts';

/** Reads one file; `notice` hears about parts it skipped (a malformed line) while the rest is still read. */
type Parser = (file: string, content: string, notice: (message: string) => void) => PackageRef[];

/** One parser per format; the record type makes a new format in files.ts fail to compile until it has one. */
const PARSERS: Record<DependencyFormat, Parser> = {
  npm: parseNpmLock,
  yarn: parseYarnLock,
  pnpm: parsePnpmLock,
  bun: parseBunLock,
  poetry: parsePoetryLock,
  pipfile: parsePipfileLock,
  uv: parseUvLock,
  pdm: parsePdmLock,
  gomod: parseGoMod,
  // Read only together with the go.mod beside it (DependencyFileSet), never on its own.
  gosum: () => [],
  cargo: parseCargoLock,
  gemfile: parseGemfileLock,
  composer: parseComposerLock,
  maven: parsePom,
  pubspec: parsePubspecLock,
  mix: parseMixLock,
  nuget: parseNugetLock,
  swift: parsePackageResolved,
  gradle: parseGradleLockfile,
  requirements: parseRequirements,
};

export { isDependencyFile } from './files.ts';

/**
 * Reads the packages a lockfile or manifest pins. Throws ParseError (never anything else)
 * when the file is not what its name says; returns [] for a name it does not know. Parts
 * skipped in an otherwise readable file are told to `notice`.
 */
export function parseLockfile(path: string, content: string, notice: (message: string) => void = () => undefined): PackageRef[] {
  const format = dependencyFormat(path);
  if (format === undefined) return [];
  const parser = PARSERS[format];
  try {
    return parser(path, asText(content), (message) => notice(`${path}: ${message}`));
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new ParseError(path, `could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * Text as the parsers expect it: without a byte-order mark. A UTF-16 file (Windows tools
 * such as PowerShell's `pip freeze >` write them) read as UTF-8 arrives as its mark turned
 * into two replacement characters followed by ASCII with a NUL after (LE) or before (BE)
 * every character; lockfiles are ASCII in practice, so dropping the NULs recovers them.
 */
export function asText(content: string): string {
  if (content.charCodeAt(0) === 0xfeff) return content.slice(1);
  if (content.startsWith('\ufffd\ufffd') && /^(?:[^\0]\0|\0[^\0])/.test(content.slice(2, 4))) {
    return content.slice(2).replaceAll('\0', '');
  }
  return content;
}
