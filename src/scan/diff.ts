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
export function* parseUnifiedDiffSync(input: string): Generator<DiffFile> {
  const parser = new DiffParser();
  let start = 0;
  while (start < input.length) {
    let end = input.indexOf('\n', start);
    if (end === -1) end = input.length;
    const done = parser.line(input.slice(start, end));
    if (done) yield done;
    start = end + 1;
  }
  const last = parser.end();
  if (last) yield last;
}

/**
 * Parses a diff given as a string or as a stream of text chunks (split anywhere, e.g.
 * a decoded HTTP body or file stream), yielding each file as soon as it is complete so
 * a large diff is never held in memory at once.
 */
export async function* parseUnifiedDiff(input: string | AsyncIterable<string>): AsyncGenerator<DiffFile> {
  if (typeof input === 'string') {
    yield* parseUnifiedDiffSync(input);
    return;
  }
  const parser = new DiffParser();
  let carry = '';
  for await (const chunk of input) {
    let start = 0;
    const text = carry + chunk;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const done = parser.line(text.slice(start, end));
      if (done) yield done;
      start = end + 1;
    }
    carry = text.slice(start);
  }
  if (carry.length > 0) {
    const done = parser.line(carry);
    if (done) yield done;
  }
  const last = parser.end();
  if (last) yield last;
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

  line(raw: string): DiffFile | undefined {
    this.#lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;

    if (this.#oldLeft > 0 || this.#newLeft > 0) {
      this.#hunkLine(line);
      return undefined;
    }
    if (line.startsWith('diff --git ') || line.startsWith('diff -')) {
      const done = this.#file;
      this.#file = newFile(parseGitHeader(line));
      this.#sawHunk = false;
      return done;
    }
    if (line.startsWith('--- ') && !this.#file) {
      this.#file = newFile({});
    } else if (line.startsWith('--- ') && this.#file && this.#sawHunk) {
      // A plain `diff -u` stream: a new file starts without a `diff` line.
      const done = this.#file;
      this.#file = newFile({});
      this.#sawHunk = false;
      this.#header(line);
      return done;
    }
    if (this.#file) this.#header(line);
    return undefined;
  }

  end(): DiffFile | undefined {
    if (this.#oldLeft > 0 || this.#newLeft > 0) {
      throw new DiffParseError(`diff ends inside a hunk (${this.#oldLeft} old and ${this.#newLeft} new lines missing)`, this.#lineNumber);
    }
    const done = this.#file;
    this.#file = undefined;
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

  #hunkLine(line: string): void {
    const marker = line.charAt(0);
    if (marker === '+') {
      this.#file!.addedLines.push({ line: this.#newLine++, text: line.slice(1) });
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
