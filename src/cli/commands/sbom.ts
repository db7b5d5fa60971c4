import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DependencyFileSet, ParseError, isDependencyFile } from '../../scan/deps/index.ts';
import { buildSbom } from '../../scan/sbom/cyclonedx.ts';
import type { PackageRef } from '../../scan/types.ts';
import { parseCommandArgs } from '../args.ts';
import { InputError, UsageError } from '../errors.ts';
import { SBOM_HELP } from '../help.ts';
import { notice, type CliIo } from '../io.ts';
import { BoundedLockfileParser } from '../lockfiles/bounded-parser.ts';
import { readForScan, walkDirectory } from '../walk.ts';

const MAX_LOCKFILE_BYTES = 200 * 1024 * 1024;

/** Adds a dependency file; its packages are parsed in a thread within a budget (a hostile lockfile costs that, not the command). */
async function addFile(set: DependencyFileSet, parser: BoundedLockfileParser, file: string, content: string, notices: string[]): Promise<void> {
  try {
    await set.addParsedBy((path, text) => parser.parse(path, text), file, content, (message) => notices.push(message));
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    notices.push(`${error.message}; its packages are not in the SBOM.`);
  }
}

async function collectPackages(root: string, parser: BoundedLockfileParser, notices: string[]): Promise<{ packages: PackageRef[]; files: number }> {
  // Read together: a shrinkwrap hides the package-lock beside it, go.sum completes an old go.mod, poms inherit from parents.
  const set = new DependencyFileSet();
  let files = 0;
  const options = { maxBytes: () => MAX_LOCKFILE_BYTES, notice: (m: string) => notices.push(m), wants: isDependencyFile };
  for await (const file of walkDirectory(root, options)) {
    if ('binary' in file) continue;
    files++;
    await addFile(set, parser, file.path, file.content, notices);
  }
  return { packages: set.packages(), files };
}

/** The project's name: the directory's, or for a single lockfile the directory holding it. */
function projectName(absolute: string, directory: boolean): string {
  return path.basename(directory ? absolute : path.dirname(absolute)) || 'project';
}

export async function runSbom(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('sbom', argv, { output: { type: 'string', short: 'o' } }, true);
  if (args.help) {
    io.stdout.write(SBOM_HELP);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError('sbom: expected exactly one PATH (a directory or a lockfile)');
  const given = args.positionals[0]!;
  const absolute = path.resolve(io.cwd, given);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(error.code === 'ENOENT' ? `${given}: no such file or directory` : `${given}: cannot be read (${error.code})`);
  });

  const notices: string[] = [];
  let packages: PackageRef[];
  const parser = new BoundedLockfileParser();
  try {
    if (info.isDirectory()) {
      const collected = await collectPackages(absolute, parser, notices);
      packages = collected.packages;
      if (collected.files === 0) notices.push(`No dependency files under ${given}; the SBOM lists no packages.`);
    } else {
      const name = path.basename(absolute);
      if (!isDependencyFile(name)) throw new InputError(`${given}: not a lockfile or manifest Gatehouse reads`);
      const file = await readForScan(absolute, name, { maxBytes: () => MAX_LOCKFILE_BYTES, notice: (m) => notices.push(m) });
      if (file && 'binary' in file) throw new InputError(`${given}: is a binary file, not a lockfile`);
      const set = new DependencyFileSet();
      if (file) await addFile(set, parser, file.path, file.content, notices);
      packages = set.packages();
    }
  } finally {
    await parser.close();
  }

  const sbom = await buildSbom(packages, { name: projectName(absolute, info.isDirectory()) });
  for (const message of notices) notice(io, message);
  const output = args.values.output as string | undefined;
  if (output === undefined) {
    io.stdout.write(sbom + '\n');
    return 0;
  }
  try {
    await writeFile(path.resolve(io.cwd, output), sbom + '\n');
  } catch (error) {
    throw new InputError(`--output ${output}: cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  notice(io, `wrote an SBOM of ${new Set(packages.map((p) => `${p.ecosystem}:${p.name}@${p.version}`)).size} packages to ${output}`);
  return 0;
}
