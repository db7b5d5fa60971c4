import { formatBytes } from '../bitbucket/errors.ts';
import { isDependencyFile } from '../scan/deps/index.ts';
import { parseUnifiedDiff } from '../scan/diff.ts';
import type { SecretScanner } from '../scan/secrets/engine.ts';
import type { SecretFinding } from '../scan/types.ts';

/**
 * Reads a unified diff as it streams in and scans the lines it adds for secrets, one file
 * at a time, so memory holds one (capped) file rather than the whole diff: the diff's byte
 * budget is checked on every chunk, and what a file adds past its limits (bytes, lines, line
 * length) is counted for line numbers but never kept. Whatever is not scanned is said,
 * because a report that silently skipped part of a change would claim more than it checked.
 */

export interface DiffLimits {
  /** Added bytes per file that are scanned; the rest of that file's additions are not. */
  maxFileBytes: number;
  /** Diff bytes read in all; a longer diff is cut off here, wherever that falls. */
  maxDiffBytes: number;
  /** Added lines per file that are scanned (each kept line costs memory beyond its text). */
  maxFileLines?: number;
  /** Characters of one line that are scanned; a longer line is scanned up to here. */
  maxLineBytes?: number;
}

export const DEFAULT_DIFF_LIMITS: Required<DiffLimits> = {
  maxFileBytes: 4 * 1024 * 1024,
  maxDiffBytes: 512 * 1024 * 1024,
  maxFileLines: 200_000,
  maxLineBytes: 1024 * 1024,
};

export interface DiffScanOptions {
  /** Null when the secrets scanner is off by policy: the diff is still read for dependency files. */
  scanner: SecretScanner | null;
  /** False for paths the installation's policy ignores. */
  includePath: (path: string) => boolean;
  limits?: DiffLimits;
}

export interface ChangedDependencyFile {
  path: string;
  /** Where it was before a rename; same as `path` otherwise; null for an added file. */
  oldPath: string | null;
}

export interface DiffScanResult {
  findings: SecretFinding[];
  dependencyFiles: ChangedDependencyFile[];
  filesChanged: number;
  filesScanned: number;
  bytesRead: number;
  /** One line per kind of thing not scanned, e.g. `3 binary files (logo.png, ...)`. */
  skipped: string[];
}

const LFS_POINTER = 'version https://git-lfs.github.com/spec/v1';
const EXAMPLES = 3;

export async function scanDiff(diff: ReadableStream<Uint8Array> | AsyncIterable<string> | string, options: DiffScanOptions): Promise<DiffScanResult> {
  const limits = { ...DEFAULT_DIFF_LIMITS, ...options.limits };
  const budget = new ByteBudget(limits.maxDiffBytes);
  const skipped = new SkipTally();
  const findings: SecretFinding[] = [];
  const dependencyFiles: ChangedDependencyFile[] = [];
  let filesChanged = 0;
  let filesScanned = 0;
  let lastPath = '';

  const read = { maxLineLength: limits.maxLineBytes, maxAddedPerFile: limits.maxFileBytes, maxAddedLinesPerFile: limits.maxFileLines };
  for await (const file of parseUnifiedDiff(budget.text(diff), read, () => budget.cutOff)) {
    filesChanged++;
    const path = file.newPath;
    lastPath = path ?? file.oldPath ?? lastPath;
    if (path === null) {
      skipped.add('deleted files (nothing added to scan)', file.oldPath ?? '?');
      continue;
    }
    if (!options.includePath(path)) {
      skipped.add('files ignored by the installation policy', path);
      continue;
    }
    if (isDependencyFile(path)) {
      dependencyFiles.push({ path, oldPath: file.status === 'added' ? null : (file.oldPath ?? path) });
    }
    if (file.binary) {
      skipped.add('binary files (only their names were checked)', path);
      if (options.scanner) findings.push(...options.scanner.scanText(path, ''));
      continue;
    }
    if (file.addedLines[0]?.text === LFS_POINTER && file.addedLines.length <= 4) {
      skipped.add('Git LFS pointers (the stored objects were not fetched)', path);
      continue;
    }
    if (file.droppedLines) {
      const over = file.addedLines.length >= limits.maxFileLines ? `${limits.maxFileLines.toLocaleString('en-US')} lines` : formatBytes(limits.maxFileBytes);
      skipped.add(`files with more than ${over} added (scanned up to that size)`, path);
    }
    if (file.cutLines) skipped.add(`files with lines longer than ${formatBytes(limits.maxLineBytes)} (those lines scanned up to that length)`, path);
    if (!options.scanner || file.addedLines.length === 0) continue;
    filesScanned++;
    findings.push(...options.scanner.scanLines(path, file.addedLines));
  }
  if (budget.cutOff) skipped.add(`the rest of the diff after ${formatBytes(limits.maxDiffBytes)}, from this file on`, lastPath || 'the first file');
  return { findings, dependencyFiles, filesChanged, filesScanned, bytesRead: budget.bytes, skipped: skipped.lines() };
}

/**
 * The diff's text, decoded as it streams in, stopped as soon as its byte budget is spent
 * (checked on every chunk, so one huge file cannot run past it). Stopping returns from the
 * stream's iterator, which cancels the download.
 */
class ByteBudget {
  bytes = 0;
  cutOff = false;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  async *text(diff: ReadableStream<Uint8Array> | AsyncIterable<string> | string): AsyncGenerator<string> {
    if (typeof diff === 'string') {
      yield this.#take(diff);
      return;
    }
    if (diff instanceof ReadableStream) {
      const decoder = new TextDecoder('utf-8');
      for await (const chunk of diff as AsyncIterable<Uint8Array>) {
        const kept = this.#take(chunk);
        if (kept.length > 0) yield decoder.decode(kept, { stream: true });
        if (this.cutOff) return;
      }
      const rest = decoder.decode();
      if (rest) yield rest;
      return;
    }
    for await (const chunk of diff) {
      yield this.#take(chunk);
      if (this.cutOff) return;
    }
  }

  /** The part of `chunk` within the budget (strings are counted by characters). */
  #take<T extends string | Uint8Array>(chunk: T): T {
    const room = this.#max - this.bytes;
    if (chunk.length <= room) {
      this.bytes += chunk.length;
      return chunk;
    }
    this.cutOff = true;
    this.bytes = this.#max;
    return chunk.slice(0, room) as T;
  }
}

class SkipTally {
  readonly #kinds = new Map<string, { count: number; examples: string[] }>();

  add(kind: string, path: string): void {
    const entry = this.#kinds.get(kind) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < EXAMPLES) entry.examples.push(path);
    this.#kinds.set(kind, entry);
  }

  lines(): string[] {
    return [...this.#kinds].map(([kind, { count, examples }]) => {
      const more = count > examples.length ? ', ...' : '';
      return `${count} ${kind}: ${examples.join(', ')}${more}`;
    });
  }
}
