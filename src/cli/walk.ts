import type { Dirent } from 'node:fs';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Directories that hold other people's code or tool state, not the project's own files.
 * Their contents are noise for secret scanning, and their lockfiles describe installed
 * copies rather than the project's pins.
 */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  'bower_components',
  'vendor',
  'third_party',
  '.venv',
  '__pycache__',
  '.tox',
]);

/** Git treats a file with a NUL byte in its first 8,000 bytes as binary; so does Gatehouse. */
const SNIFF_BYTES = 8000;

export type ReadFile =
  | { path: string; bytes: number; content: string }
  | { path: string; bytes: number; binary: true };

export interface ReadOptions {
  /** Files above this size are not read (a notice says so), unless they are binary. */
  maxBytes: (path: string) => number;
  notice: (message: string) => void;
}

export interface WalkOptions extends ReadOptions {
  /** Called with the path relative to the root; false means the file is not even opened. */
  wants: (relativePath: string) => boolean;
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** Reads up to `length` bytes into `buffer` from the start of the file, fewer only at end of file. */
function readFully(fd: number, buffer: Buffer, length: number): number {
  let total = 0;
  while (total < length) {
    const n = readSync(fd, buffer, total, length - total, total);
    if (n === 0) break;
    total += n;
  }
  return total;
}

/**
 * Reads one file for scanning. `shownAs` names it in notices. Returns undefined (after a
 * notice) for a file that is too large or cannot be read; a binary file, recognised by its
 * head alone, whatever its size, comes back without content.
 *
 * Synchronous on purpose: a scan reads thousands of small files one after another and
 * has nothing else to do meanwhile, and each asynchronous open/stat/read/close would be
 * a round trip through libuv's thread pool that costs more than the read itself.
 */
export async function readForScan(absolutePath: string, shownAs: string, options: ReadOptions): Promise<ReadFile | undefined> {
  let fd: number | undefined;
  try {
    fd = openSync(absolutePath, 'r');
    const { size } = fstatSync(fd);
    const limit = options.maxBytes(shownAs);
    const buffer = Buffer.allocUnsafe(size > limit ? Math.min(size, SNIFF_BYTES) : size);
    const length = readFully(fd, buffer, buffer.length);
    // A UTF-16 text file (byte-order mark first) has NUL bytes but is text, not binary.
    const utf16 = buffer[0] === 0xff && buffer[1] === 0xfe ? 'utf-16le' : buffer[0] === 0xfe && buffer[1] === 0xff ? 'utf-16be' : undefined;
    if (!utf16 && buffer.subarray(0, Math.min(length, SNIFF_BYTES)).includes(0)) return { path: shownAs, bytes: size, binary: true };
    if (size > limit) {
      options.notice(`${shownAs} was not scanned: ${formatSize(size)} is over the ${formatSize(limit)} limit.`);
      return undefined;
    }
    const content = utf16 ? new TextDecoder(utf16).decode(buffer.subarray(0, length)) : buffer.toString('utf8', 0, length);
    return { path: shownAs, bytes: length, content };
  } catch (error) {
    options.notice(`${shownAs} could not be read (${errorText(error)}).`);
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Lists a directory's files depth-first in name order, with paths relative to `root`
 * (forward slashes), without opening them. Symbolic links are not followed: they could
 * leave the tree or loop. Unreadable directories are reported as notices and skipped.
 */
export async function* walkPaths(root: string, notice: (message: string) => void): AsyncGenerator<string> {
  const pending: string[] = [''];
  while (pending.length > 0) {
    const relativeDir = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, relativeDir), { withFileTypes: true });
    } catch (error) {
      notice(`${relativeDir || root} could not be listed (${errorText(error)}).`);
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirectories: string[] = [];
    for (const entry of entries) {
      const relativePath = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) subdirectories.push(relativePath);
      } else if (entry.isFile()) {
        yield relativePath;
      }
    }
    // Pushed in reverse so that the stack pops them in name order.
    pending.push(...subdirectories.reverse());
  }
}

/** walkPaths, reading each file that `wants` accepts; unreadable files become notices. */
export async function* walkDirectory(root: string, options: WalkOptions): AsyncGenerator<ReadFile> {
  for await (const relativePath of walkPaths(root, options.notice)) {
    if (!options.wants(relativePath)) continue;
    const file = await readForScan(path.join(root, relativePath), relativePath, options);
    if (file) yield file;
  }
}

/**
 * Reads files of the tree under `root` by root-relative path, for files a dependency file
 * names (a requirements file's `-r` and `-c`): undefined for one that is missing, not a
 * regular file, over `maxBytes`, or outside the root once symbolic links are resolved, so
 * an include cannot make the scan read what the tree does not hold.
 */
export function treeReader(root: string, maxBytes: number): (relativePath: string) => Promise<string | undefined> {
  let realRoot: Promise<string> | undefined;
  return async (relativePath) => {
    try {
      realRoot ??= realpath(root);
      const base = await realRoot;
      const real = await realpath(path.resolve(root, relativePath));
      if (real !== base && !real.startsWith(base.endsWith(path.sep) ? base : base + path.sep)) return undefined;
      const info = await stat(real);
      if (!info.isFile() || info.size > maxBytes) return undefined;
      return await readFile(real, 'utf8');
    } catch {
      return undefined;
    }
  };
}
