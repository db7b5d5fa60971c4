import { isDependencyFile } from '../scan/deps/index.ts';
import { parseUnifiedDiff } from '../scan/diff.ts';
import type { SecretScanner } from '../scan/secrets/engine.ts';
import type { SecretFinding } from '../scan/types.ts';

/**
 * Reads a unified diff as it streams in and scans the lines it adds for secrets, one file
 * at a time, so memory holds one (capped) file rather than the whole diff. Whatever is not
 * scanned is counted and said, because a report that silently skipped part of a change
 * would claim more than it checked.
 */

export interface DiffLimits {
  /** Added bytes per file that are scanned; the rest of that file's additions are not. */
  maxFileBytes: number;
  /** Diff bytes read in all; a longer diff is cut off here. */
  maxDiffBytes: number;
}

export const DEFAULT_DIFF_LIMITS: DiffLimits = { maxFileBytes: 4 * 1024 * 1024, maxDiffBytes: 512 * 1024 * 1024 };

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
  const limits = options.limits ?? DEFAULT_DIFF_LIMITS;
  const capped = new CappedDiff(limits);
  const skipped = new SkipTally();
  const findings: SecretFinding[] = [];
  const dependencyFiles: ChangedDependencyFile[] = [];
  let filesChanged = 0;
  let filesScanned = 0;

  for await (const file of parseUnifiedDiff(capped.lines(toText(diff)))) {
    filesChanged++;
    const path = file.newPath;
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
    if (capped.wasTruncated(path)) skipped.add(`files with more than ${formatBytes(limits.maxFileBytes)} added (scanned up to that size)`, path);
    if (!options.scanner || file.addedLines.length === 0) continue;
    filesScanned++;
    findings.push(...options.scanner.scanLines(path, file.addedLines));
  }
  if (capped.cutOff) skipped.add(`the rest of the diff after ${formatBytes(limits.maxDiffBytes)}`, 'remaining files');
  return { findings, dependencyFiles, filesChanged, filesScanned, bytesRead: capped.bytes, skipped: skipped.lines() };
}

async function* toText(diff: ReadableStream<Uint8Array> | AsyncIterable<string> | string): AsyncGenerator<string> {
  if (typeof diff === 'string') {
    yield diff;
    return;
  }
  if (diff instanceof ReadableStream) {
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of diff as AsyncIterable<Uint8Array>) yield decoder.decode(chunk, { stream: true });
    const rest = decoder.decode();
    if (rest) yield rest;
    return;
  }
  yield* diff;
}

/**
 * Passes the diff through line by line, blanking added lines past a file's byte budget
 * (an empty `+` keeps the hunk's line count right for the parser) and stopping at the
 * diff's byte budget.
 */
class CappedDiff {
  bytes = 0;
  cutOff = false;
  readonly #limits: DiffLimits;
  readonly #truncated = new Set<string>();
  #file = '';
  #fileBytes = 0;
  #inHunk = false;

  constructor(limits: DiffLimits) {
    this.#limits = limits;
  }

  wasTruncated(path: string): boolean {
    return this.#truncated.has(path);
  }

  async *lines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
    let carry = '';
    const iterator = chunks[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        const text = carry + next.value;
        let out = '';
        let start = 0;
        for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
          const line = this.#line(text.slice(start, end));
          start = end + 1;
          if (line === null) {
            this.cutOff = true;
            if (out) yield out;
            return;
          }
          out += `${line}\n`;
        }
        carry = text.slice(start);
        if (out) yield out;
      }
      if (carry) {
        const line = this.#line(carry);
        if (line === null) this.cutOff = true;
        else yield line;
      }
    } finally {
      // Stop the download too when the diff is cut off or the consumer gives up.
      await iterator.return?.();
    }
  }

  /** The line to pass on, or null once the diff's budget is spent (at a file boundary). */
  #line(line: string): string | null {
    this.bytes += line.length + 1;
    if (line.startsWith('diff ')) {
      if (this.bytes > this.#limits.maxDiffBytes) return null;
      this.#inHunk = false;
      this.#fileBytes = 0;
      this.#file = '';
      return line;
    }
    if (!this.#inHunk) {
      if (line.startsWith('+++ ')) this.#file = line.slice(4).replace(/^b\//, '');
      if (line.startsWith('@@')) this.#inHunk = true;
      return line;
    }
    if (line.startsWith('+')) {
      this.#fileBytes += line.length;
      if (this.#fileBytes > this.#limits.maxFileBytes) {
        this.#truncated.add(this.#file);
        return '+';
      }
    }
    return line;
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

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.round(bytes / 1024)} KB`;
}
