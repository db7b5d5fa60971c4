import { DependencyFileSet, ParseError, parseLockfile } from '../../scan/deps/index.ts';
import { SecretScanner } from '../../scan/secrets/engine.ts';
import { scanDiff, type DiffScanResult } from '../diff-scan.ts';
import { pathFilter } from '../path-filter.ts';
import type { DependencySetParse, DiffScanRequest, FilesScanResult, LockfileParse, TreeFile } from './protocol.ts';

/** What a scan thread runs for each kind of task (thread.ts carries the messages). */

/** Compiled scanners by repository configuration and key: a busy repository's rules are compiled once per thread. */
const scanners = new Map<string, SecretScanner>();
const MAX_SCANNERS = 32;

function scannerFor({ config, fingerprintKey }: NonNullable<DiffScanRequest['secrets']>): SecretScanner {
  const key = JSON.stringify([config, fingerprintKey ? Buffer.from(fingerprintKey).toString('hex') : null]);
  let scanner = scanners.get(key);
  if (scanner) scanners.delete(key);
  else scanner = new SecretScanner({ config, ...(fingerprintKey ? { fingerprintKey: Buffer.from(fingerprintKey) } : {}) });
  scanners.set(key, scanner);
  while (scanners.size > MAX_SCANNERS) scanners.delete(scanners.keys().next().value as string);
  return scanner;
}

export function diffTask(request: DiffScanRequest, diff: ReadableStream<Uint8Array>): Promise<DiffScanResult> {
  return scanDiff(diff, {
    scanner: request.secrets ? scannerFor(request.secrets) : null,
    includePath: pathFilter(request),
    ...(request.limits ? { limits: request.limits } : {}),
  });
}

export function lockfileTask(path: string, content: string): LockfileParse {
  const notices: string[] = [];
  try {
    return { packages: parseLockfile(path, content, (message) => notices.push(message)), notices };
  } catch (error) {
    if (error instanceof ParseError) return { error: error.message };
    throw error;
  }
}

/** Whole files by the same engine and skip rules as a diff; the caller has applied the policy's ignored paths. */
export function filesTask(secrets: NonNullable<DiffScanRequest['secrets']>, files: TreeFile[]): FilesScanResult {
  const scanner = scannerFor(secrets);
  const findings = files.flatMap((file) => ('binary' in file ? scanner.scanPath(file.path) : scanner.scanText(file.path, file.content)));
  return { findings };
}

/** Files read together (DependencyFileSet): parsed and combined here, since go.mod, go.sum and pom.xml are repository input like any lockfile. */
export function dependencySetTask(files: readonly { path: string; content: string }[]): DependencySetParse {
  const set = new DependencyFileSet();
  const notices: DependencySetParse['notices'] = [];
  const errors: DependencySetParse['errors'] = [];
  for (const { path, content } of files) {
    try {
      set.add(path, content, (message) => notices.push({ path, message }));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      errors.push({ path, error: error.message });
    }
  }
  try {
    return { packages: set.packages(), notices, errors };
  } catch (error) {
    // A go.sum is read only when its go.mod is: what it cannot say is its own error.
    if (!(error instanceof ParseError)) throw error;
    return { packages: [], notices, errors: [...errors, { path: error.file, error: error.message }] };
  }
}

/** The files that change what a dependency file yields (a pom's parent is named inside its XML). */
export function dependencyContextTask(path: string, content: string): string[] {
  return DependencyFileSet.contextOf(path, content);
}
