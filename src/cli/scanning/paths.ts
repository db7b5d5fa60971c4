import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { FileScan } from '../../scan/scan-files.ts';
import type { VulnIndex } from '../../scan/deps/osv/vuln-index.ts';
import type { LockfileParser } from '../../scan/deps/file-set.ts';
import type { Finding, PackageRef } from '../../scan/types.ts';
import type { Progress } from '../progress.ts';
import { parseRepoConfig, readRepoConfigFiles } from '../repo-config.ts';
import type { BoundedLockfileParser } from '../lockfiles/bounded-parser.ts';
import { treeReader, walkPaths } from '../walk.ts';
import { MAX_DEPENDENCY_FILE_BYTES, scanBatch, type BatchFile } from './batch.ts';
import { keySecretFindings, newFileScan } from './fingerprints.ts';
import type { BatchResult, ScanRoot } from './pool.ts';

/** Files per batch: small enough that two threads finish close together, large enough that messages cost nothing. */
const BATCH_FILES = 16;
/**
 * Without --jobs, a scan starts in this thread and adds worker threads only once it has
 * read this much text and more is coming. Each thread pays a fixed cost before its first
 * file (its own isolate, loading the modules, compiling the rules and, file by file, every
 * regex the rules run, natively, once per thread): about 0.2 s of CPU, what this thread
 * scans 15-20 MB of source in. A smaller tree, like a pre-commit hook's files, would wait
 * longer with threads than without, and on a busy machine it would also pay for them.
 */
const THREADS_AFTER_BYTES = 16 * 1024 * 1024;

export interface PathTarget {
  /** As the user typed it. */
  given: string;
  absolute: string;
  directory: boolean;
}

interface Root extends ScanRoot {
  scan: FileScan;
  /** Prepended to finding paths when several directories are scanned, so two `config.yml` stay apart. */
  prefix: string | undefined;
}

interface Batch {
  root: Root;
  files: BatchFile[];
}

export interface PathScanOptions {
  cwd: string;
  /** Threads from the start; undefined starts with this one and adds one per further core once the scan is large (THREADS_AFTER_BYTES). */
  jobs: number | undefined;
  vulnIndex: () => Promise<VulnIndex | null>;
  progress: Progress;
  notices: string[];
  /** GATEHOUSE_FINGERPRINT_KEY's key, which every thread scans under too. */
  fingerprintKey: Buffer | undefined;
}

/** A finding path shown for a file argument: as given, in forward slashes, without a leading `./`. */
export function shownPath(given: string): string {
  return path.posix.normalize(given.split(path.sep).join('/'));
}

/** What the roots of one scan share: the options, and the thread that parses their lockfiles. */
type RootOptions = PathScanOptions & { parseLockfile: LockfileParser };

async function newRoot(id: number, directory: string, prefix: string | undefined, options: RootOptions): Promise<Root> {
  const { files, problems: unreadable } = await readRepoConfigFiles(directory);
  const { config, problems } = await parseRepoConfig(files);
  options.notices.push(...unreadable, ...problems);
  const readFile = treeReader(directory, MAX_DEPENDENCY_FILE_BYTES);
  return { id, config: files, prefix, scan: newFileScan(config, options.fingerprintKey, { vulnIndex: options.vulnIndex, parseLockfile: options.parseLockfile, readFile }) };
}

/** Every file to scan, in batches: each directory walked as its own root, then the file arguments under the current directory. */
async function* batches(targets: readonly PathTarget[], roots: Root[], options: RootOptions): AsyncGenerator<Batch> {
  const directories = targets.filter((t) => t.directory);
  const files = targets.filter((t) => !t.directory);
  for (const target of directories) {
    const root = await newRoot(roots.length, target.absolute, directories.length + files.length > 1 ? shownPath(target.given) : undefined, options);
    roots.push(root);
    let batch: BatchFile[] = [];
    for await (const relative of walkPaths(target.absolute, (message) => options.notices.push(message))) {
      batch.push({ file: path.join(target.absolute, relative), path: relative });
      if (batch.length === BATCH_FILES) {
        yield { root, files: batch };
        batch = [];
      }
    }
    if (batch.length > 0) yield { root, files: batch };
  }
  if (files.length > 0) {
    const root = await newRoot(roots.length, options.cwd, undefined, options);
    roots.push(root);
    for (let i = 0; i < files.length; i += BATCH_FILES) {
      yield { root, files: files.slice(i, i + BATCH_FILES).map((t) => ({ file: t.absolute, path: shownPath(t.given) })) };
    }
  }
}

/**
 * Scans files and directories, each directory as its own root with its own settings:
 * in this thread, then on more threads once the scan proves large (see scanInParallel).
 */
export async function scanPaths(targets: readonly PathTarget[], options: PathScanOptions): Promise<{ findings: Finding[]; packages: PackageRef[] }> {
  // Started with the first lockfile: a scan without one loads neither the parser's thread nor its module.
  let lockfiles: Promise<BoundedLockfileParser> | undefined;
  const parseLockfile: LockfileParser = async (file, content) => {
    lockfiles ??= import('../lockfiles/bounded-parser.ts').then(({ BoundedLockfileParser }) => new BoundedLockfileParser());
    return (await lockfiles).parse(file, content);
  };
  try {
    return await scanRoots(targets, { ...options, parseLockfile });
  } finally {
    await (await lockfiles)?.close();
  }
}

async function scanRoots(targets: readonly PathTarget[], options: RootOptions): Promise<{ findings: Finding[]; packages: PackageRef[] }> {
  const roots: Root[] = [];
  const source = batches(targets, roots, options);
  const threads = options.jobs ?? availableParallelism();

  // In this thread: everything with one thread; with --jobs N, nothing; else until the scan proves large.
  const inlineUntil = threads <= 1 ? Infinity : options.jobs === undefined ? THREADS_AFTER_BYTES : 0;
  let text = 0;
  let exhausted = false;
  while (!exhausted && text < inlineUntil) {
    const next = await source.next();
    if (next.done) {
      exhausted = true;
    } else {
      const counts = await scanBatch(next.value.root.scan, next.value.files);
      text += counts.textBytes;
      options.progress.filesScanned(counts.files, counts.bytes);
    }
  }
  if (!exhausted) await scanInParallel(source, threads, options);

  const findings: Finding[] = [];
  const packages: PackageRef[] = [];
  for (const root of roots) {
    const result = await root.scan.finish();
    options.notices.push(...result.notices);
    packages.push(...result.packages);
    // Fingerprints stay relative to each directory's root; only the shown path gains the prefix.
    const { prefix } = root;
    const keyed = keySecretFindings(result.findings, options.fingerprintKey);
    findings.push(...(prefix === undefined ? keyed : keyed.map((f) => ({ ...f, path: path.posix.join(prefix, f.path) }))));
  }
  return { findings, packages };
}

/**
 * Scans batches on `threads` scanners: this thread and `threads - 1` worker threads. Each
 * worker keeps two batches queued; a batch that finds them all full is scanned here, so
 * this thread works instead of waiting, and one thread fewer pays the start-up (its own
 * isolate, loading modules, compiling the rules), which on a two-core machine is what a
 * scan of a few thousand files costs on top of the work itself. The walk waits while
 * this thread scans, so memory stays bounded however large the tree.
 */
async function scanInParallel(source: AsyncIterable<Batch>, threads: number, options: PathScanOptions): Promise<void> {
  const workers = threads - 1;
  const { ScanPool } = await import('./pool.ts');
  const pool = new ScanPool(workers, options.fingerprintKey);
  /** This thread's own scan of each root, apart from the root's merged one, so every part merges in batch order. */
  const local = new Map<Root, FileScan>();
  const inFlight: { root: Root; result: Promise<BatchResult> }[] = [];
  let queued = 0;
  // Results are taken in the order batches were sent, so notices and the merge are the same on every run.
  const settle = async () => {
    const { root, result } = inFlight.shift()!;
    const { part, files, bytes } = await result;
    root.scan.addPart(part);
    options.progress.filesScanned(files, bytes);
  };
  try {
    for await (const batch of source) {
      let result: Promise<BatchResult>;
      if (queued < workers * 2) {
        queued++;
        result = pool.scan(batch.root, batch.files).finally(() => queued--);
        // Handled here so a failure is not reported as unhandled before its turn to be awaited.
        result.catch(() => undefined);
      } else {
        let scan = local.get(batch.root);
        if (!scan) local.set(batch.root, (scan = batch.root.scan.fork()));
        const counts = await scanBatch(scan, batch.files);
        result = Promise.resolve({ part: scan.takePart(), ...counts });
        // Reading a batch never waits on the event loop: let the workers' answers in, so they get their next batches.
        await new Promise(setImmediate);
      }
      inFlight.push({ root: batch.root, result });
      // Parts scanned here wait for an earlier worker batch: bounded too.
      while (inFlight.length >= threads * 4) await settle();
    }
    while (inFlight.length > 0) await settle();
  } finally {
    await pool.close();
  }
}
