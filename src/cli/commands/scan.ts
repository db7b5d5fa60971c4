import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { DiffParseError, parseUnifiedDiff } from '../../scan/diff.ts';
import { isDependencyFile, type VulnIndex } from '../../scan/deps/index.ts';
import { REPORT_FORMATS, formatReport } from '../../scan/report/index.ts';
import { FileScan } from '../../scan/scan-files.ts';
import { SecretScanner } from '../../scan/secrets/engine.ts';
import { cliFingerprintKey, keyFinding } from '../../scan/secrets/fingerprint.ts';
import { SEVERITIES, atLeast, type Finding } from '../../scan/types.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { openDatabase } from '../database.ts';
import { InputError, UsageError } from '../errors.ts';
import { SCAN_HELP } from '../help.ts';
import { notice, wantsColor, type CliIo } from '../io.ts';
import { Progress } from '../progress.ts';
import { readRepoConfig } from '../repo-config.ts';
import { readForScan, walkDirectory, type ReadOptions } from '../walk.ts';

/** Source files larger than this are generated or data, not code a person wrote a secret into. */
const MAX_SOURCE_BYTES = 10 * 1024 * 1024;
/** Lockfiles of large monorepos run to tens of megabytes and are exactly what must be read. */
const MAX_DEPENDENCY_FILE_BYTES = 200 * 1024 * 1024;

interface Target {
  /** As the user typed it. */
  given: string;
  absolute: string;
  directory: boolean;
}

/** A finding path shown for a file argument: as given, in forward slashes, without a leading `./`. */
function shownPath(given: string): string {
  return path.posix.normalize(given.split(path.sep).join('/'));
}

async function resolveTargets(io: CliIo, paths: string[]): Promise<Target[]> {
  const targets: Target[] = [];
  const seen = new Set<string>();
  for (const given of paths) {
    const absolute = path.resolve(io.cwd, given);
    // `a.env` and `./a.env` are one file: scanning it twice would report everything twice.
    if (seen.has(absolute)) continue;
    seen.add(absolute);
    try {
      const info = await stat(absolute);
      if (!info.isDirectory() && !info.isFile()) throw new InputError(`${given} is neither a file nor a directory`);
      targets.push({ given, absolute, directory: info.isDirectory() });
    } catch (error) {
      if (error instanceof InputError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(code === 'ENOENT' ? `${given}: no such file or directory` : `${given}: cannot be read (${code ?? String(error)})`);
    }
  }
  return targets;
}

interface ScanContext {
  io: CliIo;
  vulnIndex: VulnIndex | null;
  progress: Progress;
  notices: string[];
  /** From GATEHOUSE_FINGERPRINT_KEY: secret fingerprints and hashes are then HMACs under it. */
  fingerprintKey: Buffer | undefined;
}

async function newFileScan(context: ScanContext, root: string): Promise<FileScan> {
  const { config, problems } = await readRepoConfig(root);
  context.notices.push(...problems);
  const key = context.fingerprintKey;
  // With a key, `.gitleaksignore` may also list the keyed fingerprints this command prints.
  return new FileScan({ config, vulnIndex: context.vulnIndex, ...(key ? { scanner: new SecretScanner({ config, fingerprintKey: key }) } : {}) });
}

/** The scan's result, its secret fingerprints keyed when there is a key (fingerprint.ts says why). */
function finish(context: ScanContext, scan: FileScan): ReturnType<FileScan['finish']> {
  const result = scan.finish();
  const key = context.fingerprintKey;
  return key ? { ...result, findings: result.findings.map((f) => (f.kind === 'secret' ? keyFinding(f, key) : f)) } : result;
}

function readOptions(notices: string[]): ReadOptions {
  return {
    maxBytes: (file) => (isDependencyFile(file) ? MAX_DEPENDENCY_FILE_BYTES : MAX_SOURCE_BYTES),
    notice: (message) => notices.push(message),
  };
}

/** Scans the given files and directories; each directory is its own root with its own settings. */
async function scanPaths(context: ScanContext, targets: Target[]): Promise<Finding[]> {
  const { io, progress, notices } = context;
  const findings: Finding[] = [];
  const onlyOneDirectory = targets.length === 1 && targets[0]!.directory;

  for (const target of targets.filter((t) => t.directory)) {
    const scan = await newFileScan(context, target.absolute);
    const walk = walkDirectory(target.absolute, { ...readOptions(notices), wants: (file) => scan.wants(file) });
    for await (const file of walk) {
      scan.add(file);
      progress.fileScanned(file.bytes);
    }
    const result = finish(context, scan);
    notices.push(...result.notices);
    // With several directories, their paths are shown under the directory as given, so
    // two `config.yml` stay apart; fingerprints stay relative to each directory's root.
    const prefix = shownPath(target.given);
    findings.push(...(onlyOneDirectory ? result.findings : result.findings.map((f) => ({ ...f, path: path.posix.join(prefix, f.path) }))));
  }

  const files = targets.filter((t) => !t.directory);
  if (files.length > 0) {
    const scan = await newFileScan(context, io.cwd);
    for (const target of files) {
      const shown = shownPath(target.given);
      const file = await readForScan(target.absolute, shown, readOptions(notices));
      if (!file) continue;
      scan.add(file);
      progress.fileScanned(file.bytes);
    }
    const result = finish(context, scan);
    notices.push(...result.notices);
    findings.push(...result.findings);
  }
  return findings;
}

async function* diffText(io: CliIo, source: string): AsyncGenerator<string> {
  if (source === '-') {
    // A streaming decoder, so a character split across two chunks is not garbled.
    const decoder = new TextDecoder();
    for await (const chunk of io.stdin) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const rest = decoder.decode();
    if (rest) yield rest;
    return;
  }
  const unreadable = (error: unknown) => new InputError(`--diff ${source}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  let handle;
  try {
    handle = await open(path.resolve(io.cwd, source), 'r');
  } catch (error) {
    throw unreadable(error);
  }
  try {
    // Opening a directory succeeds; reading it fails with EISDIR, which is the user's input too.
    const chunks = handle.createReadStream({ encoding: 'utf8', autoClose: false })[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw unreadable(error);
      }
      if (next.done) break;
      yield next.value;
    }
  } finally {
    await handle.close();
  }
}

/** Scans what a unified diff adds, with the current directory's repository settings. */
async function scanDiff(context: ScanContext, source: string): Promise<Finding[]> {
  const { io, progress, notices } = context;
  const scan = await newFileScan(context, io.cwd);
  let files = 0;
  try {
    for await (const file of parseUnifiedDiff(diffText(io, source))) {
      files++;
      if (file.newPath === null || file.status === 'deleted' || !scan.wants(file.newPath)) continue;
      if (file.binary) scan.add({ path: file.newPath, binary: true });
      else scan.add({ path: file.newPath, addedLines: file.addedLines });
      progress.fileScanned(file.addedLines.reduce((sum, l) => sum + l.text.length + 1, 0));
    }
  } catch (error) {
    if (error instanceof DiffParseError) throw new InputError(`--diff ${source}: not a unified diff (${error.message})`);
    throw error;
  }
  // Most likely the wrong file: say so rather than report a clean scan without comment.
  if (files === 0) notices.push(`--diff ${source} holds no file changes.`);
  const result = finish(context, scan);
  notices.push(...result.notices);
  return result.findings;
}

export async function runScan(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(
    'scan',
    argv,
    { diff: { type: 'string' }, format: { type: 'string' }, 'fail-on': { type: 'string' } },
    true,
  );
  if (args.help) {
    io.stdout.write(SCAN_HELP);
    return 0;
  }
  const format = oneOf('--format', args.values.format as string | undefined, REPORT_FORMATS, 'text');
  const failOn = oneOf('--fail-on', args.values['fail-on'] as string | undefined, SEVERITIES, 'high');
  const diff = args.values.diff as string | undefined;
  if (diff !== undefined && args.positionals.length > 0) throw new UsageError('scan: give either paths or --diff, not both');

  const targets = diff === undefined ? await resolveTargets(io, args.positionals.length > 0 ? args.positionals : ['.']) : [];
  const notices: string[] = [];
  const keyText = io.env.GATEHOUSE_FINGERPRINT_KEY;
  const fingerprintKey = keyText ? cliFingerprintKey(keyText) : undefined;
  const context: ScanContext = { io, notices, vulnIndex: openDatabase(io, notices), progress: new Progress(io.stderr), fingerprintKey };
  let findings: Finding[];
  try {
    findings = diff !== undefined ? await scanDiff(context, diff) : await scanPaths(context, targets);
  } finally {
    context.progress.done();
  }

  for (const message of notices) notice(io, message);
  io.stdout.write(formatReport(format, { findings, notices }, { color: wantsColor(io) }));
  return findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0;
}
