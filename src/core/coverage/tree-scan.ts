import { SKIPPED_DIRECTORIES } from '../../cli/walk.ts';
import { BitbucketTooLargeError, formatBytes } from '../../bitbucket/errors.ts';
import { isDependencyFile } from '../../scan/deps/index.ts';
import { isBinaryPath, isSkippedPath, looksBinary } from '../../scan/secrets/allowlist.ts';
import type { SecretFinding } from '../../scan/types.ts';
import type { ScanPool } from '../scan-pool/pool.ts';
import type { DiffScanRequest, TreeFile } from '../scan-pool/protocol.ts';
import type { RepositoryHost } from './host.ts';

/**
 * Reads a whole tree at one commit through the host (directory listings, then each file)
 * and scans it in the scan pool with the secrets engine and its skip rules: vendored
 * directories are never listed, paths the engine skips are never read, binary files are
 * checked by name only, and files over the size cap are not read. Each of those is listed.
 * Dependency files are kept whole for the caller to parse. Bounded in files, directories
 * and bytes, with a notice naming the bound that stopped it.
 */

export interface TreeScanLimits {
  /** Files and directories listed. */
  maxEntries: number;
  /** Directory listings (each costs at least one call). */
  maxDirectories: number;
  /**
   * Levels one listing below a top-level directory returns (Bitbucket's `max_depth`): a whole
   * subtree in a few pages instead of a call per directory. The root is listed one level
   * deep, so a vendored folder at the top is never listed; one deeper down is listed up to
   * this depth and its entries dropped.
   */
  listingDepth: number;
  /** A file above this is not read for secrets (dependency files have their own cap). */
  maxFileBytes: number;
  maxDependencyFileBytes: number;
  /** Bytes read from one repository. */
  maxTotalBytes: number;
  /** Files read (one call each): a repository of more is read in part, dependency files first, with a notice. */
  maxFiles: number;
  /** A repository Bitbucket sizes above this is not scanned at all (the backfill skips it with the reason). */
  maxRepositoryBytes: number;
  /** Files read at once. */
  concurrency: number;
  /** Text handed to one scan task. */
  batchBytes: number;
}

export const DEFAULT_TREE_SCAN_LIMITS: TreeScanLimits = {
  maxEntries: 250_000,
  maxDirectories: 25_000,
  listingDepth: 5,
  maxFileBytes: 2 * 1024 * 1024,
  maxDependencyFileBytes: 32 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxFiles: 50_000,
  maxRepositoryBytes: 1024 * 1024 * 1024,
  concurrency: 6,
  batchBytes: 4 * 1024 * 1024,
};

/** Lines listing skipped files, at most this many (then a count). */
const MAX_SKIPPED_LINES = 200;

export interface TreeScanInput {
  host: RepositoryHost;
  fullName: string;
  commit: string;
  /** The policy's ignored paths: false means never read. */
  include: (path: string) => boolean;
  /** Null when the secrets scanner is off: only dependency files are read. */
  secrets: NonNullable<DiffScanRequest['secrets']> | null;
  scans: Pick<ScanPool, 'scanFiles'>;
  limits?: Partial<TreeScanLimits>;
  /** The tree listed already (listTree), e.g. to find the repository's configuration first. */
  listing?: TreeListing;
}

export interface TreeListing {
  files: Listed[];
  /** Names of the files at the root, whatever the policy ignores: configuration is looked up there. */
  rootFiles: ReadonlySet<string>;
  notices: string[];
}

export interface TreeScanResult {
  /** Unkeyed, as the scan threads return them. */
  findings: SecretFinding[];
  dependencyFiles: { path: string; content: string }[];
  files: number;
  bytes: number;
  /** What was not scanned and why, one line each. */
  skipped: string[];
  notices: string[];
}

interface Listed {
  path: string;
  size: number | null;
}

export async function scanTree(input: TreeScanInput): Promise<TreeScanResult> {
  const limits = { ...DEFAULT_TREE_SCAN_LIMITS, ...input.limits };
  const listing = input.listing ?? (await listTree(input));
  const notices = [...listing.notices];
  const skipped = new SkipList();
  const files = listing.files;

  const result: TreeScanResult = { findings: [], dependencyFiles: [], files: 0, bytes: 0, skipped: [], notices };
  let batch: TreeFile[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0 || !input.secrets) return;
    const scanned = await input.scans.scanFiles(input.secrets, batch);
    result.findings.push(...scanned.findings);
    batch = [];
    batchBytes = 0;
  };

  const wanted: Listed[] = [];
  for (const file of files) {
    const dependency = isDependencyFile(file.path);
    if (!dependency && (!input.secrets || isSkippedPath(file.path))) continue;
    if (!dependency && isBinaryPath(file.path)) {
      batch.push({ path: file.path, binary: true });
      skipped.add(`${file.path}: binary, checked by name only`);
      continue;
    }
    const cap = dependency ? limits.maxDependencyFileBytes : limits.maxFileBytes;
    if (file.size !== null && file.size > cap) {
      skipped.add(`${file.path}: ${formatBytes(file.size)}, over the ${formatBytes(cap)} limit`);
      continue;
    }
    wanted.push(file);
  }

  if (wanted.length > limits.maxFiles) {
    // Dependency files first: the inventory and the advisories depend on them.
    const ordered = [...wanted.filter((f) => isDependencyFile(f.path)), ...wanted.filter((f) => !isDependencyFile(f.path))];
    notices.push(`The repository has ${ordered.length} files to scan; the scan read the first ${limits.maxFiles} (dependency files first) and not the other ${ordered.length - limits.maxFiles}.`);
    wanted.splice(0, wanted.length, ...ordered.slice(0, limits.maxFiles));
  }

  for (let i = 0; i < wanted.length; i += limits.concurrency) {
    if (result.bytes >= limits.maxTotalBytes) {
      notices.push(`The scan stopped reading after ${formatBytes(limits.maxTotalBytes)}; ${wanted.length - i} files were not read.`);
      break;
    }
    const chunk = wanted.slice(i, i + limits.concurrency);
    const read = await Promise.all(chunk.map((file) => readOne(input, file, limits)));
    for (const [index, outcome] of read.entries()) {
      const path = chunk[index]!.path;
      if (outcome === null) continue;
      if ('refused' in outcome) {
        skipped.add(`${path}: ${outcome.refused}`);
        continue;
      }
      result.files++;
      result.bytes += Buffer.byteLength(outcome.content);
      if (isDependencyFile(path)) result.dependencyFiles.push({ path, content: outcome.content });
      if (!input.secrets) continue;
      if (looksBinary(outcome.content)) {
        batch.push({ path, binary: true });
        skipped.add(`${path}: binary, checked by name only`);
        continue;
      }
      batch.push({ path, content: outcome.content });
      batchBytes += outcome.content.length;
    }
    if (batchBytes >= limits.batchBytes) await flush();
  }
  await flush();
  result.skipped = skipped.lines();
  return result;
}

async function readOne(input: TreeScanInput, file: Listed, limits: TreeScanLimits): Promise<{ content: string } | { refused: string } | null> {
  const cap = isDependencyFile(file.path) ? limits.maxDependencyFileBytes : limits.maxFileBytes;
  try {
    const content = await input.host.readFile(input.fullName, input.commit, file.path, cap);
    return content === null ? null : { content };
  } catch (error) {
    if (error instanceof BitbucketTooLargeError) return { refused: `over the ${formatBytes(cap)} limit` };
    throw error;
  }
}

/**
 * Every file of the tree; vendored directories and ignored paths left out. The root is listed
 * one level deep, each other directory with `listingDepth` levels at once; a directory at the
 * deepest level of a listing is listed again on its own.
 */
export async function listTree(input: Pick<TreeScanInput, 'host' | 'fullName' | 'commit' | 'include' | 'limits'>): Promise<TreeListing> {
  const limits = { ...DEFAULT_TREE_SCAN_LIMITS, ...input.limits };
  const listing: TreeListing & { rootFiles: Set<string> } = { files: [], rootFiles: new Set(), notices: [] };
  const pending: string[] = [''];
  let entries = 0;
  let directories = 0;
  while (pending.length > 0) {
    if (directories >= limits.maxDirectories) {
      listing.notices.push(`The scan stopped listing after ${limits.maxDirectories} directory listings; ${pending.length} or more directories were not scanned.`);
      break;
    }
    const dir = pending.shift()!;
    directories++;
    const depth = dir === '' ? 1 : Math.max(1, limits.listingDepth);
    const base = dir === '' ? 0 : dir.split('/').length;
    for await (const entry of input.host.listDirectory(input.fullName, input.commit, dir, depth)) {
      if (++entries > limits.maxEntries) {
        listing.notices.push(`The scan stopped listing after ${limits.maxEntries} files and directories; ${pending.length + 1} or more directories were not scanned.`);
        return listing;
      }
      const segments = entry.path.split('/');
      // Below a vendored directory (listed only because it sits inside a deeper listing).
      if (segments.slice(base, -1).some((name) => SKIPPED_DIRECTORIES.has(name))) continue;
      const name = segments[segments.length - 1]!;
      if (entry.type === 'directory') {
        if (segments.length - base >= depth && !SKIPPED_DIRECTORIES.has(name)) pending.push(entry.path);
        continue;
      }
      if (dir === '') listing.rootFiles.add(entry.path);
      if (input.include(entry.path)) listing.files.push({ path: entry.path, size: entry.size });
    }
  }
  return listing;
}

class SkipList {
  readonly #lines: string[] = [];
  #more = 0;

  add(line: string): void {
    if (this.#lines.length < MAX_SKIPPED_LINES) this.#lines.push(line);
    else this.#more++;
  }

  lines(): string[] {
    return this.#more > 0 ? [...this.#lines, `and ${this.#more} more files not scanned`] : [...this.#lines];
  }
}
