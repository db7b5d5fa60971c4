import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DependencyFileSet, isDependencyFile, type PackageRef } from '../../src/scan/deps/index.ts';

/**
 * The lockfile fixture set: each folder of test/fixtures/lockfiles holds lockfiles in one
 * format and an `expected.txt` written by hand from the lockfile, one package per line:
 *   <file> <ecosystem> <name>@<version>[ <source kind>[ <location>][#<revision>]]
 * (`<file>` relative to the folder). A folder is read as one tree, as a scan reads it, so
 * files that depend on each other (go.mod and go.sum, parent poms) are read together.
 * Shared by the parser test (every folder exactly) and the accuracy benchmark.
 */
export const LOCKFILE_FIXTURES = path.join(import.meta.dirname, '../fixtures/lockfiles');

export interface LockfileFixture {
  folder: string;
  files: { name: string; content: string }[];
  expected: string[];
}

export function lockfileFixtures(): LockfileFixture[] {
  return readdirSync(LOCKFILE_FIXTURES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((folder) => {
      const dir = path.join(LOCKFILE_FIXTURES, folder);
      const files = (readdirSync(dir, { recursive: true }) as string[])
        .map((name) => name.split(path.sep).join('/'))
        .filter((name) => isDependencyFile(name))
        .sort()
        .map((name) => ({ name, content: readFileSync(path.join(dir, name), 'utf8') }));
      // Files a requirements file names (-r base.in, -c constraints.txt), as a scan reads them.
      for (const file of files) {
        for (const name of DependencyFileSet.includesOf(file.name, file.content)) {
          if (!files.some((f) => f.name === name) && existsSync(path.join(dir, name))) files.push({ name, content: readFileSync(path.join(dir, name), 'utf8') });
        }
      }
      const expected = readFileSync(path.join(dir, 'expected.txt'), 'utf8').split('\n').filter((line) => line.trim() !== '');
      return { folder, files, expected };
    });
}

/** One package as an expected.txt line. */
export function describePackage(file: string, ref: PackageRef): string {
  const source = ref.source ? ` ${ref.source.kind}${ref.source.location ? ` ${ref.source.location}` : ''}${ref.source.revision ? `#${ref.source.revision}` : ''}` : '';
  return `${file} ${ref.ecosystem} ${ref.name}@${ref.version}${source}`;
}

/** What the parsers read from a fixture folder, as expected.txt lines (sorted, without repeats). */
export function readFixture(fixture: LockfileFixture, notice: (message: string) => void = () => undefined): string[] {
  const set = new DependencyFileSet();
  for (const { name, content } of fixture.files) set.add(name, content, notice);
  return [...new Set(set.packages().map((ref) => describePackage(ref.path, ref)))].sort();
}
