import type { PackageRef } from '../types.ts';
import { ParseError } from './errors.ts';
import { parseCargoLock } from './parsers/cargo.ts';
import { parseComposerLock } from './parsers/composer.ts';
import { parseGemfileLock } from './parsers/gemfile.ts';
import { parseGoMod } from './parsers/gomod.ts';
import { parseGradleLockfile } from './parsers/gradle.ts';
import { parsePom } from './parsers/maven.ts';
import { parseNpmLock } from './parsers/npm.ts';
import { parsePipfileLock } from './parsers/pipfile.ts';
import { parsePnpmLock } from './parsers/pnpm.ts';
import { parsePoetryLock } from './parsers/poetry.ts';
import { parseRequirements } from './parsers/requirements.ts';
import { parseYarnLock } from './parsers/yarn.ts';

type Parser = (file: string, content: string) => PackageRef[];

const BY_NAME: Record<string, Parser> = {
  'package-lock.json': parseNpmLock,
  'npm-shrinkwrap.json': parseNpmLock,
  'yarn.lock': parseYarnLock,
  'pnpm-lock.yaml': parsePnpmLock,
  'poetry.lock': parsePoetryLock,
  'Pipfile.lock': parsePipfileLock,
  'go.mod': parseGoMod,
  'Cargo.lock': parseCargoLock,
  'Gemfile.lock': parseGemfileLock,
  'gems.locked': parseGemfileLock,
  'composer.lock': parseComposerLock,
  'pom.xml': parsePom,
};

function parserFor(path: string): Parser | undefined {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const exact = BY_NAME[base];
  if (exact && Object.hasOwn(BY_NAME, base)) return exact;
  if (base.endsWith('gradle.lockfile')) return parseGradleLockfile;
  // requirements.txt, requirements-dev.txt, dev-requirements.txt, requirements/prod.txt…
  if (/requirements.*\.txt$/i.test(base) || /(^|\/)requirements\/[^/]+\.txt$/i.test(path)) return parseRequirements;
  return undefined;
}

export function isDependencyFile(path: string): boolean {
  return parserFor(path) !== undefined;
}

/**
 * Reads the packages a lockfile or manifest pins. Throws ParseError (never anything else)
 * when the file is not what its name says; returns [] for a name it does not know.
 */
export function parseLockfile(path: string, content: string): PackageRef[] {
  const parser = parserFor(path);
  if (!parser) return [];
  try {
    return parser(path, content);
  } catch (error) {
    if (error instanceof ParseError) throw error;
    throw new ParseError(path, `could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
}
