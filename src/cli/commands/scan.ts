import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { VulnIndex } from '../../scan/deps/osv/vuln-index.ts';
import { SEVERITIES, atLeast, type Finding, type PackageRef } from '../../scan/types.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { openDatabase } from '../database.ts';
import { InputError, UsageError } from '../errors.ts';
import { SCAN_HELP } from '../help.ts';
import { notice, wantsColor, type CliIo } from '../io.ts';
import { Progress } from '../progress.ts';
import { parseRepoConfig, readRepoConfigFiles } from '../repo-config.ts';
import { fingerprintKeyOf, keySecretFindings, newFileScan } from '../scanning/fingerprints.ts';
import { scanPaths, type PathTarget } from '../scanning/paths.ts';
import { SCAN_FORMATS, writeScanReport } from '../scanning/output.ts';

async function resolveTargets(io: CliIo, paths: string[]): Promise<PathTarget[]> {
  const targets: PathTarget[] = [];
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

async function* diffFile(io: CliIo, source: string): AsyncGenerator<string> {
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

interface DiffSource {
  /** Names the input in messages: `--diff FILE`, `--staged`, `--since REF`. */
  label: string;
  /** Said when the diff holds no file at all: for a --diff file, most likely the wrong file. */
  empty: string;
  /** Where the diff's paths start, and whose settings apply. */
  root: string;
  text: AsyncIterable<string>;
}

/** Scans what a unified diff adds (in this thread: a diff holds only the changed lines). */
async function scanDiff(
  source: DiffSource,
  vulnIndex: () => Promise<VulnIndex | null>,
  progress: Progress,
  notices: string[],
  fingerprintKey: Buffer | undefined,
): Promise<{ findings: Finding[]; packages: PackageRef[] }> {
  const { files: configFiles, problems: unreadable } = await readRepoConfigFiles(source.root);
  const { config, problems } = await parseRepoConfig(configFiles);
  notices.push(...unreadable, ...problems);
  const scan = newFileScan(config, fingerprintKey, { vulnIndex });
  const { DiffParseError, parseUnifiedDiff } = await import('../../scan/diff.ts');
  let files = 0;
  try {
    for await (const file of parseUnifiedDiff(source.text)) {
      files++;
      if (file.newPath === null || file.status === 'deleted' || !scan.wants(file.newPath)) continue;
      if (file.binary) await scan.add({ path: file.newPath, binary: true });
      else await scan.add({ path: file.newPath, addedLines: file.addedLines });
      progress.fileScanned(file.addedLines.reduce((sum, l) => sum + l.text.length + 1, 0));
    }
  } catch (error) {
    if (error instanceof DiffParseError) throw new InputError(`${source.label}: not a unified diff (${error.message})`);
    throw error;
  }
  if (files === 0) notices.push(source.empty);
  const result = await scan.finish();
  notices.push(...result.notices);
  return { findings: keySecretFindings(result.findings, fingerprintKey), packages: result.packages };
}

function parseJobs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new UsageError(`--jobs must be a whole number from 1 to 256 (got ${JSON.stringify(value)})`);
  return jobs;
}

/** What to scan and how; shared by `scan` and `pipelines report`. */
export interface ScanRequest {
  paths: string[];
  diff?: string;
  staged?: boolean;
  since?: string;
  jobs?: number;
  baseline?: string;
  updateBaseline?: boolean;
}

export interface ScanOutcome {
  findings: Finding[];
  packages: PackageRef[];
  notices: string[];
}

/** Runs a scan: from paths, a diff or git, then the baseline. Throws UsageError/InputError for exit status 2. */
export async function scanWith(io: CliIo, request: ScanRequest): Promise<ScanOutcome> {
  const { diff, since, staged = false, baseline: baselineFile, updateBaseline = false } = request;
  const modes = [diff !== undefined && '--diff', staged && '--staged', since !== undefined && '--since', request.paths.length > 0 && 'paths'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`scan: give only one of paths, --diff, --staged and --since (got ${modes.join(' and ')})`);
  if (updateBaseline && baselineFile === undefined) throw new UsageError('--update-baseline needs --baseline FILE');

  const baselinePath = baselineFile === undefined ? undefined : path.resolve(io.cwd, baselineFile);
  // Modules that only some modes use are loaded by those modes: a pre-commit hook's `scan` pays for none of them.
  const baselines = baselinePath === undefined ? undefined : await import('../scanning/baseline.ts');
  const baseline = baselines === undefined ? undefined : await baselines.readBaseline(baselineFile!, baselinePath!, updateBaseline);
  const git = () => import('../scanning/git.ts');
  const notices: string[] = [];
  let database: Promise<VulnIndex | null> | undefined;
  const vulnIndex = () => (database ??= openDatabase(io, notices));
  const progress = new Progress(io.stderr);
  const fingerprintKey = fingerprintKeyOf(io.env);
  let result: { findings: Finding[]; packages: PackageRef[] };
  try {
    if (diff !== undefined) {
      const source = { label: `--diff ${diff}`, empty: `--diff ${diff} holds no file changes.`, root: io.cwd, text: diffFile(io, diff) };
      result = await scanDiff(source, vulnIndex, progress, notices, fingerprintKey);
    } else if (staged) {
      const { gitTopLevel, stagedDiff } = await git();
      const root = await gitTopLevel(io.cwd);
      result = await scanDiff({ label: '--staged', empty: 'Nothing is staged.', root, text: stagedDiff(root) }, vulnIndex, progress, notices, fingerprintKey);
    } else if (since !== undefined) {
      const { diffSince, gitTopLevel } = await git();
      const root = await gitTopLevel(io.cwd);
      const source = { label: `--since ${since}`, empty: `No changes since ${since}.`, root, text: diffSince(root, since) };
      result = await scanDiff(source, vulnIndex, progress, notices, fingerprintKey);
    } else {
      const targets = await resolveTargets(io, request.paths.length > 0 ? request.paths : ['.']);
      result = await scanPaths(targets, { cwd: io.cwd, jobs: request.jobs, vulnIndex, progress, notices, fingerprintKey });
    }
  } finally {
    progress.done();
  }
  let { findings } = result;

  if (updateBaseline) {
    await baselines!.writeBaseline(baselineFile!, baselinePath!, findings);
    const added = findings.filter((f) => !baseline!.has(f.fingerprint)).length;
    notices.push(`--baseline ${baselineFile}: recorded ${findings.length} finding(s) as accepted (${added} new); commit it so that only new findings fail.`);
  } else if (baseline !== undefined) {
    const before = findings.length;
    findings = findings.filter((f) => !baseline.has(f.fingerprint));
    if (before > findings.length) notices.push(`--baseline ${baselineFile}: ${before - findings.length} accepted finding(s) not reported.`);
  }
  return { findings, packages: result.packages, notices };
}

/** The options `scan` and `pipelines report` share, for parseCommandArgs. */
export const SCAN_OPTIONS = {
  staged: { type: 'boolean' },
  since: { type: 'string' },
  'fail-on': { type: 'string' },
  baseline: { type: 'string' },
  'update-baseline': { type: 'boolean' },
  jobs: { type: 'string', short: 'j' },
} as const;

/** The ScanRequest those options describe. */
export function scanRequestOf(values: Record<string, string | boolean | undefined>, paths: string[]): ScanRequest {
  return {
    paths,
    diff: values.diff as string | undefined,
    staged: values.staged === true,
    since: values.since as string | undefined,
    jobs: parseJobs(values.jobs as string | undefined),
    baseline: values.baseline as string | undefined,
    updateBaseline: values['update-baseline'] === true,
  };
}

export async function runScan(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('scan', argv, { ...SCAN_OPTIONS, diff: { type: 'string' }, format: { type: 'string' } }, true);
  if (args.help) {
    io.stdout.write(SCAN_HELP);
    return 0;
  }
  const values = args.values as Record<string, string | boolean | undefined>;
  const format = oneOf('--format', values.format as string | undefined, SCAN_FORMATS, 'text');
  const failOn = oneOf('--fail-on', values['fail-on'] as string | undefined, SEVERITIES, 'high');
  const { findings, packages, notices } = await scanWith(io, scanRequestOf(values, args.positionals));

  const secrets = findings.filter((f) => f.kind === 'secret').length;
  if (format === 'cyclonedx' && secrets > 0) notices.push(`${secrets} secret finding(s) are not part of a CycloneDX SBOM; --format json or sarif lists them.`);
  for (const message of notices) notice(io, message);
  await writeScanReport(io, format, { findings, notices, packages }, { color: wantsColor(io) });
  if (values['update-baseline'] === true) return 0;
  return findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0;
}
