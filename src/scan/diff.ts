import { LineSplitter } from './lines.ts';

/**
 * Unified-diff reader for scanning changes: for each file it yields the added lines
 * with their line numbers in the new file, plus what happened to the file. Reads git
 * diffs (`diff --git`, renames, copies, mode changes, binary patches), Bitbucket Data
 * Center's `src://` / `dst://` prefixes, and plain `diff -u` output.
 */

export type DiffFileStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied';

export interface DiffFile {
  /** Path before the change, without `a/`; null for an added file. */
  oldPath: string | null;
  /** Path after the change, without `b/`; null for a deleted file. */
  newPath: string | null;
  status: DiffFileStatus;
  binary: boolean;
  /** Added lines, `line` 1-based in the new file, without the `+` and without a trailing `\r`. */
  addedLines: { line: number; text: string }[];
  /** Added lines past the file's limits (DiffReadLimits), counted but not kept; absent when none. */
  droppedLines?: number;
  /** Kept added lines that were longer than the line limit and kept only up to it; absent when none. */
  cutLines?: number;
}

/**
 * Bounds on what reading a diff keeps in memory; none by default. Lines past a file's limits
 * still advance the line numbers, so the lines kept keep their true positions.
 */
export interface DiffReadLimits {
  /** Characters of a line kept (a longer line is kept up to here). */
  maxLineLength?: number;
  /** Characters of added text kept per file; the file's later added lines are dropped. */
  maxAddedPerFile?: number;
  /** Added lines kept per file; the file's later added lines are dropped. */
  maxAddedLinesPerFile?: number;
}

export class DiffParseError extends Error {
  constructor(
    message: string,
    readonly lineNumber: number,
  ) {
    super(`diff line ${lineNumber}: ${message}`);
    this.name = 'DiffParseError';
  }
}

const OLD_PREFIXES = ['a/', 'src://', 'i/', 'c/', 'o/', 'w/'];
const NEW_PREFIXES = ['b/', 'dst://', 'w/', 'i/', 'o/', 'c/'];
const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Parses a whole diff held in memory. */
export function* parseUnifiedDiffSync(input: string, limits: DiffReadLimits = {}): Generator<DiffFile> {
  const reader = new DiffReader(limits);
  reader.push(input);
  yield* reader.take();
  yield* reader.end();
}

/**
 * Parses a diff given as a string or as a stream of text chunks (split anywhere, e.g.
 * a decoded HTTP body or file stream), yielding each file as soon as it is complete so
 * a large diff is never held in memory at once. `truncated` (asked at the end) says the
 * input was cut short on purpose, so that a last file ending inside a hunk is kept rather
 * than refused.
 */
export async function* parseUnifiedDiff(input: string | AsyncIterable<string>, limits: DiffReadLimits = {}, truncated: () => boolean = () => false): AsyncGenerator<DiffFile> {
  if (typeof input === 'string') {
    yield* parseUnifiedDiffSync(input, limits);
    return;
  }
  const reader = new DiffReader(limits);
  for await (const chunk of input) {
    reader.push(chunk);
    yield* reader.take();
  }
  yield* reader.end(truncated());
}

/** Line splitting (linear, capped) in front of the parser, collecting the files it completes. */
class DiffReader {
  readonly #parser: DiffParser;
  readonly #lines: LineSplitter;
  #done: DiffFile[] = [];

  constructor(limits: DiffReadLimits) {
    this.#parser = new DiffParser(limits);
    this.#lines = new LineSplitter((line, cut) => {
      const file = this.#parser.line(line, cut);
      if (file) this.#done.push(file);
    }, limits.maxLineLength);
  }

  push(chunk: string): void {
    this.#lines.push(chunk);
  }

  take(): DiffFile[] {
    const done = this.#done;
    this.#done = [];
    return done;
  }

  end(truncated = false): DiffFile[] {
    this.#lines.end();
    const last = this.#parser.end(truncated);
    return last ? [...this.take(), last] : this.take();
  }
}

/** Line-at-a-time state machine; `line` returns a file when the next one begins. */
class DiffParser {
  #file: DiffFile | undefined;
  #lineNumber = 0;
  /** Lines of the current hunk still expected on the old and new side. */
  #oldLeft = 0;
  #newLeft = 0;
  #newLine = 0;
  /** Whether the current file has had a hunk, so a plain `diff -u` `---` line starts the next file. */
  #sawHunk = false;
  readonly #limits: Required<DiffReadLimits>;
  /** Added characters kept of the current file. */
  #addedKept = 0;

  constructor(limits: DiffReadLimits) {
    this.#limits = { maxLineLength: Infinity, maxAddedPerFile: Infinity, maxAddedLinesPerFile: Infinity, ...limits };
  }

  /** `cut`: the line was longer than the line limit and this is its beginning. */
  line(raw: string, cut = false): DiffFile | undefined {
    this.#lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;

    if (this.#oldLeft > 0 || this.#newLeft > 0) {
      this.#hunkLine(line, cut);
      return undefined;
    }
    if (line.startsWith('diff --git ') || line.startsWith('diff -')) {
      return this.#next(parseGitHeader(line));
    }
    if (line.startsWith('--- ') && !this.#file) {
      this.#next({});
    } else if (line.startsWith('--- ') && this.#file && this.#sawHunk) {
      // A plain `diff -u` stream: a new file starts without a `diff` line.
      const done = this.#next({});
      this.#header(line);
      return done;
    }
    if (this.#file) this.#header(line);
    return undefined;
  }

  /** The last file; `truncated`: the input was cut short on purpose, so it may end inside a hunk. */
  end(truncated = false): DiffFile | undefined {
    if (!truncated && (this.#oldLeft > 0 || this.#newLeft > 0)) {
      throw new DiffParseError(`diff ends inside a hunk (${this.#oldLeft} old and ${this.#newLeft} new lines missing)`, this.#lineNumber);
    }
    const done = this.#file;
    this.#file = undefined;
    return done;
  }

  /** Starts the next file; returns the one it ends. */
  #next(paths: { oldPath?: string; newPath?: string }): DiffFile | undefined {
    const done = this.#file;
    this.#file = newFile(paths);
    this.#sawHunk = false;
    this.#addedKept = 0;
    return done;
  }

  #header(line: string): void {
    const file = this.#file!;
    if (line.startsWith('@@')) {
      const m = HUNK_HEADER.exec(line);
      if (!m) throw new DiffParseError(`malformed hunk header "${line.slice(0, 80)}"`, this.#lineNumber);
      this.#oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      this.#newLeft = m[4] === undefined ? 1 : Number(m[4]);
      this.#newLine = Number(m[3]);
      this.#sawHunk = true;
    } else if (line.startsWith('--- ')) {
      const path = headerPath(line.slice(4), OLD_PREFIXES);
      if (path === null) file.status = 'added';
      file.oldPath = path;
    } else if (line.startsWith('+++ ')) {
      const path = headerPath(line.slice(4), NEW_PREFIXES);
      if (path === null) file.status = 'deleted';
      file.newPath = path;
    } else if (line.startsWith('new file mode')) {
      file.status = 'added';
      file.oldPath = null;
    } else if (line.startsWith('deleted file mode')) {
      file.status = 'deleted';
      file.newPath = null;
    } else if (line.startsWith('rename from ')) {
      file.status = 'renamed';
      file.oldPath = unquote(line.slice(12));
    } else if (line.startsWith('rename to ')) {
      file.status = 'renamed';
      file.newPath = unquote(line.slice(10));
    } else if (line.startsWith('copy from ')) {
      file.status = 'copied';
      file.oldPath = unquote(line.slice(10));
    } else if (line.startsWith('copy to ')) {
      file.status = 'copied';
      file.newPath = unquote(line.slice(8));
    } else if (line === 'GIT binary patch' || (line.startsWith('Binary files ') && line.endsWith(' differ'))) {
      file.binary = true;
    }
    // Anything else (index, mode, similarity lines, binary patch data) says nothing we need.
  }

  #hunkLine(line: string, cut: boolean): void {
    const marker = line.charAt(0);
    if (marker === '+') {
      this.#added(line.slice(1), cut);
      this.#newLeft--;
    } else if (marker === '-') {
      this.#oldLeft--;
    } else if (marker === ' ' || line === '') {
      // Some tools strip the space of an empty context line.
      this.#newLine++;
      this.#oldLeft--;
      this.#newLeft--;
    } else if (marker === '\\') {
      return; // "\ No newline at end of file"
    } else {
      throw new DiffParseError(`unexpected line inside a hunk "${line.slice(0, 80)}"`, this.#lineNumber);
    }
    if (this.#oldLeft < 0 || this.#newLeft < 0) {
      throw new DiffParseError('hunk has more lines than its header announces', this.#lineNumber);
    }
  }

  /** Keeps an added line while the file is within its limits; once past them, the rest of the file's additions are only counted. */
  #added(text: string, cut: boolean): void {
    const file = this.#file!;
    const line = this.#newLine++;
    const full = file.droppedLines === undefined && file.addedLines.length < this.#limits.maxAddedLinesPerFile;
    if (!full || this.#addedKept + text.length > this.#limits.maxAddedPerFile) {
      file.droppedLines = (file.droppedLines ?? 0) + 1;
      return;
    }
    this.#addedKept += text.length;
    file.addedLines.push({ line, text });
    if (cut) file.cutLines = (file.cutLines ?? 0) + 1;
  }
}

function newFile(paths: { oldPath?: string; newPath?: string }): DiffFile {
  return { oldPath: paths.oldPath ?? null, newPath: paths.newPath ?? null, status: 'modified', binary: false, addedLines: [] };
}

/**
 * Paths from `diff --git a/x b/y`. Unquoted names may contain spaces, so the split is
 * taken where both halves name the same file (the common case); renames and copies are
 * settled later by their `rename from/to` or `---`/`+++` lines.
 */
function parseGitHeader(line: string): { oldPath?: string; newPath?: string } {
  const rest = line.replace(/^diff (?:--git|-\S+(?: -\S+)*) /, '');
  if (rest.startsWith('"')) {
    const [first, afterFirst] = readQuoted(rest);
    const second = afterFirst.trimStart();
    const newRaw = second.startsWith('"') ? readQuoted(second)[0] : second;
    return { oldPath: stripPrefix(first, OLD_PREFIXES), newPath: stripPrefix(newRaw, NEW_PREFIXES) };
  }
  const quotedSecond = rest.indexOf(' "');
  if (quotedSecond !== -1) {
    return { oldPath: stripPrefix(rest.slice(0, quotedSecond), OLD_PREFIXES), newPath: stripPrefix(readQuoted(rest.slice(quotedSecond + 1))[0], NEW_PREFIXES) };
  }
  for (let i = rest.indexOf(' '); i !== -1; i = rest.indexOf(' ', i + 1)) {
    const oldPath = stripPrefix(rest.slice(0, i), OLD_PREFIXES);
    const newPath = stripPrefix(rest.slice(i + 1), NEW_PREFIXES);
    if (oldPath === newPath) return { oldPath, newPath };
  }
  const space = rest.indexOf(' ');
  if (space === -1) return {};
  return { oldPath: stripPrefix(rest.slice(0, space), OLD_PREFIXES), newPath: stripPrefix(rest.slice(space + 1), NEW_PREFIXES) };
}

/** The path of a `---`/`+++` line, or null for /dev/null. A tab ends the path (diff -u adds a timestamp after it). */
function headerPath(value: string, prefixes: string[]): string | null {
  const raw = value.startsWith('"') ? readQuoted(value)[0] : value.split('\t')[0]!;
  if (raw === '/dev/null') return null;
  return stripPrefix(raw, prefixes);
}

function stripPrefix(path: string, prefixes: string[]): string {
  const prefix = prefixes.find((p) => path.startsWith(p));
  return prefix ? path.slice(prefix.length) : path;
}

function unquote(value: string): string {
  return value.startsWith('"') ? readQuoted(value)[0] : value;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Reads a C-style quoted string as git writes it (octal escapes are UTF-8 bytes); returns it and the rest. */
function readQuoted(value: string): [string, string] {
  const bytes: number[] = [];
  let i = 1;
  for (; i < value.length && value[i] !== '"'; i++) {
    const c = value[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = value[i + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(value.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return [Buffer.from(bytes).toString('utf8'), value.slice(i + 1)];
}
