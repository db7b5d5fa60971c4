import { createHash } from 'node:crypto';
import { BitbucketTooLargeError, formatBytes } from '../bitbucket/errors.ts';
import { DependencyFileSet, ParseError, VulnIndexError, matchPackages, type VulnIndex } from '../scan/deps/index.ts';
import type { RepoScanConfig } from '../scan/repo-config/index.ts';
import type { DependencyFinding, PackageRef } from '../scan/types.ts';
import type { ChangedDependencyFile } from './diff-scan.ts';
import type { RepoRef } from './code-host.ts';
import type { Target } from './publish.ts';
import { ScanBudgetExceeded } from './scan-pool/pool.ts';
import type { DependencySetParse, LockfileParse } from './scan-pool/protocol.ts';

/**
 * Which vulnerable packages a change brings in. Each changed dependency file is read whole
 * at the source and at the destination commit; a vulnerability present on both sides is
 * `existing` (shown, never failing), one only at the source is new. Files are identified by
 * the hash of their content, so a lockfile that did not change between two scans is neither
 * parsed nor matched again. Parsing runs in a scan thread (scan-pool/); matching is lookups
 * in the index, which stays here.
 */

/** Parses dependency files off the event loop (ScanPool), each within its budget. */
export interface LockfileParser {
  parseLockfile(path: string, content: string): Promise<LockfileParse>;
  /** Files read together: go.mod with go.sum, poms with their local parents. */
  parseDependencySet(files: { path: string; content: string }[]): Promise<DependencySetParse>;
  /** DependencyFileSet.contextOf, for a file whose content names its context (a pom). */
  dependencyContext(path: string, content: string): Promise<string[]>;
}

export interface DependencyCheck {
  findings: (DependencyFinding & { isNew: boolean })[];
  /** Packages of the changed files at the source commit. */
  packages: PackageRef[];
  notices: string[];
  /** Files whose content was already known and not parsed again. */
  cached: number;
}

interface Parsed {
  packages: PackageRef[];
  findings: DependencyFinding[];
  error?: string;
  /** Parts of the file that were skipped while the rest was read. */
  notices?: string[];
}

/**
 * Parsed lockfiles by content hash (and index version), least recently used first out, with
 * the parser that fills it and the largest file it reads.
 */
export class LockfileCache {
  readonly #entries = new Map<string, Parsed>();
  readonly maxEntries: number;
  /** A dependency file larger than this is not read (a notice says so). */
  readonly maxFileBytes: number;

  constructor(
    readonly parser: LockfileParser,
    options: { maxEntries?: number; maxFileBytes?: number } = {},
  ) {
    this.maxEntries = options.maxEntries ?? 2_000;
    this.maxFileBytes = options.maxFileBytes ?? 32 * 1024 * 1024;
  }

  get(key: string): Parsed | undefined {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Parsed): void {
    this.#entries.set(key, value);
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}

export interface DependencyCheckInput {
  /** The repository of `sourceCommit`. */
  target: Target;
  sourceCommit: string;
  /** Null when there is nothing to compare with (a new branch). */
  baseCommit: string | null;
  /** Where `baseCommit` is when it is not in `target`: the destination of a pull request from a fork. */
  baseRepository?: RepoRef;
  files: readonly ChangedDependencyFile[];
  vulnIndex: VulnIndex | null;
  config: RepoScanConfig;
  cache: LockfileCache;
}

export async function checkDependencies(input: DependencyCheckInput): Promise<DependencyCheck> {
  const notices: string[] = [];
  const findings: DependencyCheck['findings'] = [];
  const packages: PackageRef[] = [];
  let cached = 0;
  if (input.files.length === 0) return { findings, packages, notices, cached };
  if (!input.vulnIndex) {
    notices.push(`No vulnerability database: ${input.files.length} changed dependency file(s) not checked for known vulnerabilities.`);
  }

  const read = async (commit: string, path: string, repository: RepoRef = input.target): Promise<Parsed | null> => {
    const group = await readWithContext({ ...repository, host: input.target.host }, commit, path, input.cache);
    if (group === null) return null;
    if ('refused' in group) return { packages: [], findings: [], error: group.refused };
    const key = createHash('sha256').update(`${input.vulnIndex?.version ?? 'none'}\0`);
    for (const [file, content] of group.files) key.update(`${file}\0${content.length}\0`).update(content);
    const digest = key.digest('hex');
    const hit = input.cache.get(digest);
    if (hit) {
      cached++;
      return hit;
    }
    const parsed = group.files.size === 1 ? await parse(input.cache.parser, path, group.files.get(path)!, input.vulnIndex) : await parseGroup(input.cache.parser, path, group.files, input.vulnIndex);
    input.cache.set(digest, parsed);
    return parsed;
  };

  // A go.sum changed with its go.mod is read with it, as part of the go.mod's packages.
  const changed = new Set(input.files.map((f) => f.path));
  for (const file of input.files) {
    if (file.path.endsWith('go.sum') && changed.has(`${file.path.slice(0, -'go.sum'.length)}go.mod`)) continue;
    const source = await read(input.sourceCommit, file.path);
    if (!source) continue;
    if (source.error) {
      notices.push(source.error);
      continue;
    }
    packages.push(...source.packages);
    notices.push(...(source.notices ?? []));
    const before = input.baseCommit && file.oldPath ? await read(input.baseCommit, file.oldPath, input.baseRepository) : null;
    const existing = new Set((before?.findings ?? []).map(vulnerabilityKey));
    for (const finding of source.findings) {
      const severity = input.config.severityOverrides[finding.ruleId] ?? finding.severity;
      if (input.config.ignoredFingerprints.includes(finding.fingerprint)) continue;
      findings.push({ ...finding, severity, isNew: !existing.has(vulnerabilityKey(finding)) });
    }
  }
  return { findings, packages, notices, cached };
}

/** The file's text; null when it does not exist; why it was not read when it is too large. */
async function fetchBounded(target: Target, commit: string, path: string, maxBytes: number): Promise<string | { refused: string } | null> {
  try {
    return await target.host.getFile(target, commit, path, { maxBytes });
  } catch (error) {
    if (!(error instanceof BitbucketTooLargeError)) throw error;
    return { refused: `${path} at ${commit.slice(0, 12)} is larger than ${formatBytes(maxBytes)} and was not read; its packages were not checked.` };
  }
}

/** Files a changed dependency file is read with, at most: a chain of parent poms stops here. */
const MAX_CONTEXT_FILES = 16;

/**
 * A dependency file and the files around it that change what it yields (DependencyFileSet.contextOf),
 * as they are at `commit`, so that a pull request's check reads it as a full scan of the
 * branch does; null when the file itself does not exist. A context file that is missing or
 * too large is left out.
 */
async function readWithContext(
  target: Target,
  commit: string,
  path: string,
  cache: LockfileCache,
): Promise<{ files: Map<string, string> } | { refused: string } | null> {
  const content = await fetchBounded(target, commit, path, cache.maxFileBytes);
  if (content === null || typeof content !== 'string') return content;
  const files = new Map([[path, content]]);
  const queue = [path];
  while (queue.length > 0 && files.size < MAX_CONTEXT_FILES) {
    const current = queue.shift()!;
    for (const other of await contextOf(cache.parser, current, files.get(current)!)) {
      if (files.has(other)) continue;
      const text = await fetchBounded(target, commit, other, cache.maxFileBytes);
      if (typeof text !== 'string') continue;
      files.set(other, text);
      queue.push(other);
    }
  }
  return { files };
}

/** The context files of one file; a pom is read in a scan thread, and one that cannot be read there has none. */
async function contextOf(parser: LockfileParser, path: string, content: string): Promise<string[]> {
  if (!DependencyFileSet.contextNeedsParsing(path)) return DependencyFileSet.contextOf(path, content);
  try {
    return await parser.dependencyContext(path, content);
  } catch (error) {
    if (!(error instanceof ScanBudgetExceeded)) throw error;
    return [];
  }
}

/** Parses files read together in a scan thread; a group over its budget is reported as its first file's error. */
async function parseSet(parser: LockfileParser, files: { path: string; content: string }[]): Promise<DependencySetParse> {
  try {
    return await parser.parseDependencySet(files);
  } catch (error) {
    if (!(error instanceof ScanBudgetExceeded)) throw error;
    return { packages: [], notices: [], errors: [{ path: files[0]!.path, error: `${files[0]!.path}: ${error.message}` }] };
  }
}

/**
 * What `path` yields read together with its context files: nothing for a package-lock.json
 * beside an npm-shrinkwrap.json, a go.mod completed by its go.sum, a pom with its parents'
 * properties and managed versions, a requirements file with what it includes. All parsing
 * runs in a scan thread: a file that needs others (go.mod, go.sum, pom.xml, requirements)
 * with its group as one task, any other file alone.
 */
async function parseGroup(parser: LockfileParser, path: string, files: Map<string, string>, index: VulnIndex | null): Promise<Parsed> {
  if (DependencyFileSet.needsOtherFiles(path)) {
    const parsed = await parseSet(parser, [...files].map(([file, content]) => ({ path: file, content })));
    // A context file that does not parse is read as absent; the changed file itself is reported.
    const error = parsed.errors.find((e) => e.path === path);
    if (error) return { packages: [], findings: [], error: `${error.error}; its packages were not checked.` };
    const own = DependencyFileSet.followsIncludes(path) ? new Set(files.keys()) : ownFiles(path);
    return matched(parsed.packages.filter((p) => own.has(p.path)), parsed.notices.filter((n) => n.path === path).map((n) => n.message), index);
  }
  const set = new DependencyFileSet();
  const notices: string[] = [];
  for (const [file, content] of files) {
    try {
      await set.addParsedBy(
        async (p, text) => {
          const parsed = await parser.parseLockfile(p, text);
          return 'error' in parsed ? { reason: parsed.error.startsWith(`${p}: `) ? parsed.error.slice(p.length + 2) : parsed.error } : parsed;
        },
        file,
        content,
        (message) => {
          if (file === path) notices.push(message);
        },
      );
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      // A context file that does not parse is read as absent; the changed file itself is reported.
      if (file === path) return { packages: [], findings: [], error: `${error.message}; its packages were not checked.` };
    }
  }
  return matched(set.packages().filter((p) => ownFiles(path).has(p.path)), notices, index);
}

/** The files whose packages count as `path`'s: a go.mod's include those its go.sum adds. */
function ownFiles(path: string): Set<string> {
  const own = new Set([path]);
  if (path.endsWith('go.mod')) own.add(`${path.slice(0, -'go.mod'.length)}go.sum`);
  return own;
}

function matched(packages: PackageRef[], notices: string[], index: VulnIndex | null): Parsed {
  if (!index) return { packages, findings: [], notices };
  try {
    return { packages, findings: matchPackages(index, packages), notices };
  } catch (error) {
    if (!(error instanceof VulnIndexError)) throw error;
    return { packages, findings: [], error: `${error.message}; dependencies were not checked.`, notices };
  }
}

/** The same vulnerability in the same package, whatever its version, line or file. */
function vulnerabilityKey(finding: DependencyFinding): string {
  return JSON.stringify([finding.ecosystem, finding.package, finding.advisory]);
}

async function parse(parser: LockfileParser, path: string, content: string, index: VulnIndex | null): Promise<Parsed> {
  let parsed: LockfileParse;
  try {
    parsed = await parser.parseLockfile(path, content);
  } catch (error) {
    // A file too slow or too big to parse is treated like one that does not parse.
    if (!(error instanceof ScanBudgetExceeded)) throw error;
    parsed = { error: `${path}: ${error.message}` };
  }
  if ('error' in parsed) return { packages: [], findings: [], error: `${parsed.error}; its packages were not checked.` };
  const { packages, notices } = parsed;
  if (!index) return { packages, findings: [], notices };
  try {
    return { packages, findings: matchPackages(index, packages), notices };
  } catch (error) {
    if (!(error instanceof VulnIndexError)) throw error;
    return { packages, findings: [], error: `${error.message}; dependencies were not checked.`, notices };
  }
}

/** Reads and parses dependency files for an inventory, reusing the cache. */
export async function readPackages(
  target: Target,
  commit: string,
  paths: readonly string[],
  cache: LockfileCache,
): Promise<{ packages: PackageRef[]; files: Record<string, string>; notices: string[] }> {
  const notices: string[] = [];
  const contents: { path: string; content: string }[] = [];
  const queue = [...paths];
  const listed = new Set(paths);
  let included = 0;
  while (queue.length > 0) {
    const path = queue.shift()!;
    const content = await fetchBounded(target, commit, path, cache.maxFileBytes);
    if (content === null) continue;
    if (typeof content !== 'string') {
      notices.push(content.refused);
      continue;
    }
    contents.push({ path, content });
    // What a requirements file includes (`-r base.in`, `-c constraints.txt`) need not be listed as a dependency file.
    if (!DependencyFileSet.followsIncludes(path)) continue;
    for (const other of await contextOf(cache.parser, path, content)) {
      if (listed.has(other) || included >= MAX_CONTEXT_FILES) continue;
      listed.add(other);
      included++;
      queue.push(other);
    }
  }
  const parsed = await packagesOf(contents, cache);
  return { ...parsed, notices: [...notices, ...parsed.notices] };
}

/**
 * The packages of dependency files already read, as one tree (a shrinkwrap hides the
 * package-lock beside it, go.sum completes an old go.mod, poms inherit), reusing the cache.
 * `files` maps each path to the sha256 of its content.
 */
export async function packagesOf(
  contents: readonly { path: string; content: string }[],
  cache: LockfileCache,
): Promise<{ packages: PackageRef[]; files: Record<string, string>; notices: string[] }> {
  const files: Record<string, string> = {};
  const notices: string[] = [];
  const set = new DependencyFileSet();
  const together: { path: string; content: string }[] = [];
  for (const { path, content } of contents) {
    const hash = createHash('sha256').update(content).digest('hex');
    files[path] = hash;
    if (DependencyFileSet.needsOtherFiles(path)) {
      together.push({ path, content });
      continue;
    }
    const key = createHash('sha256').update(`${path}\0inventory\0`).update(content).digest('hex');
    let parsed = cache.get(key);
    if (!parsed) {
      parsed = await parse(cache.parser, path, content, null);
      cache.set(key, parsed);
    }
    if (parsed.error) notices.push(parsed.error);
    notices.push(...(parsed.notices ?? []));
    set.addParsed(path, parsed.packages);
  }
  const packages = set.packages();
  if (together.length > 0) {
    // go.mod, go.sum and pom.xml are read together, in a scan thread, once per set of contents.
    const key = createHash('sha256').update('inventory-set\0');
    for (const { path, content } of together) key.update(`${path}\0${content.length}\0`).update(content);
    const digest = key.digest('hex');
    let parsed = cache.get(digest);
    if (!parsed) {
      const set = await parseSet(cache.parser, together);
      const messages = [...set.errors.map((e) => `${e.error}; its packages were not checked.`), ...set.notices.map((n) => n.message)];
      parsed = { packages: set.packages, findings: [], notices: messages };
      cache.set(digest, parsed);
    }
    packages.push(...parsed.packages);
    notices.push(...(parsed.notices ?? []));
  }
  return { packages, files, notices };
}
