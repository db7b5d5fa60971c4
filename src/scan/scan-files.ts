import { isDependencyFile } from './deps/files.ts';
import type { LockfileParser } from './deps/file-set.ts';
import type { VulnIndex } from './deps/osv/vuln-index.ts';
import { globMatcher, type GlobMatcher } from './repo-config/glob-matcher.ts';
import { EMPTY_REPO_CONFIG, type RepoScanConfig } from './repo-config/types.ts';
import { SecretScanner } from './secrets/engine.ts';
import type { DependencyFinding, Finding, PackageRef, SecretFinding } from './types.ts';

/**
 * One file to scan, by repository-relative path: its whole text; only the lines a diff
 * adds (new-file line numbers); or, for a binary file, nothing but its name, which is all
 * that whole-file rules such as PKCS#12 look at.
 */
export type ScanFile =
  | { path: string; content: string }
  | { path: string; addedLines: Iterable<{ line: number; text: string }> }
  | { path: string; binary: true };

export interface ScanFilesOptions {
  /** What the repository's `.gatehouse.yml`, `.gitleaks.toml` and `.gitleaksignore` say. */
  config?: RepoScanConfig;
  /**
   * The OSV index; null or absent means no database, which is said in a notice. A function
   * is called only when there are packages to match, so a scan without lockfiles never
   * opens the database.
   */
  vulnIndex?: VulnIndex | null | (() => Promise<VulnIndex | null>);
  /** A scanner to reuse across scans (it compiles its rules once); built from `config` when absent. */
  scanner?: SecretScanner;
  /**
   * Parses a dependency file that is read alone (not go.mod, go.sum or pom.xml) within a
   * time and memory budget, off this thread; in this thread, unbounded, when absent.
   */
  parseLockfile?: LockfileParser;
  /**
   * Reads a file of the scanned tree by its root-relative path (undefined when it is not
   * there or not readable): for files a dependency file names, such as a requirements
   * file's `-r base.in` and `-c constraints.txt`, which need not be dependency files by name.
   */
  readFile?: (path: string) => Promise<string | undefined>;
}

/** Files a scan reads because a dependency file names them, at most. */
const MAX_REFERENCED_FILES = 64;

export interface ScanFilesResult {
  findings: Finding[];
  /** Every package read from the dependency files, for matching and SBOMs. */
  packages: PackageRef[];
  /** What the user should know that is not a finding: unreadable lockfiles, no database, partial lockfiles. */
  notices: string[];
}

/**
 * What some of a scan's files produced before packages are matched: the unit a worker
 * thread hands back (structured-clone safe), merged in order with `addPart`.
 */
export interface FileScanPart {
  findings: SecretFinding[];
  /** Read whole, as found: they are parsed together at the end (a go.sum completes its go.mod, a shrinkwrap hides a package-lock). */
  dependencyFiles: { path: string; content: string }[];
  notices: string[];
  partialLockfiles: string[];
}

/** The lockfile parsers and the matcher pull in YAML, TOML, XML and version libraries: loaded when first needed. */
const loadDependencies = () => import('./deps/index.ts');

/**
 * The one place that decides what a scan of some files reports, shared by the CLI and
 * the app. Files are fed one at a time (`add`), so a caller can stream a tree without
 * holding it in memory; `finish` matches the collected packages against the database.
 * A scan split across threads runs one FileScan per thread and merges their parts
 * (`takePart`, `addPart`) into one that finishes.
 */
export class FileScan {
  readonly #config: RepoScanConfig;
  #scanner: SecretScanner | undefined;
  readonly #index: ScanFilesOptions['vulnIndex'];
  readonly #parseLockfile: ScanFilesOptions['parseLockfile'];
  readonly #readFile: ScanFilesOptions['readFile'];
  readonly #ignored: GlobMatcher[];
  readonly #ignoredFingerprints: Set<string>;
  #part: FileScanPart = emptyPart();

  constructor(options: ScanFilesOptions = {}) {
    this.#config = options.config ?? EMPTY_REPO_CONFIG;
    this.#scanner = options.scanner;
    this.#index = options.vulnIndex;
    this.#parseLockfile = options.parseLockfile;
    this.#readFile = options.readFile;
    this.#ignored = this.#config.ignorePaths.map(globMatcher);
    this.#ignoredFingerprints = new Set(this.#config.ignoredFingerprints);
  }

  /**
   * Built on first use: compiling the rules is wasted on a FileScan that only merges what
   * worker threads found.
   */
  #secrets(): SecretScanner {
    this.#scanner ??= new SecretScanner({ config: this.#config });
    return this.#scanner;
  }

  /**
   * Another FileScan of the same root and options, with this one's compiled rules (a
   * SecretScanner keeps no state between files), whose parts merge back into this one
   * with addPart: for scanning some of a root's files apart, in order.
   */
  fork(): FileScan {
    return new FileScan({ config: this.#config, scanner: this.#secrets(), vulnIndex: this.#index, parseLockfile: this.#parseLockfile, readFile: this.#readFile });
  }

  /** Whether a file is worth reading at all: a dependency file, or one the secret scanner looks at. */
  wants(path: string): boolean {
    return this.#isScannedDependencyFile(path) || !this.#secrets().shouldSkipPath(path);
  }

  async add(file: ScanFile): Promise<void> {
    const part = this.#part;
    if ('binary' in file) {
      part.findings.push(...this.#secrets().scanPath(file.path));
      return;
    }
    if ('addedLines' in file) {
      // A diff holds only some lines of a lockfile, which cannot be parsed on their own.
      if (this.#isScannedDependencyFile(file.path)) part.partialLockfiles.push(file.path);
      part.findings.push(...this.#secrets().scanLines(file.path, file.addedLines));
      return;
    }
    if (this.#isScannedDependencyFile(file.path)) part.dependencyFiles.push({ path: file.path, content: file.content });
    part.findings.push(...this.#secrets().scanText(file.path, file.content));
  }

  /** Something the user should know about a file that was not scanned (unreadable, too large). */
  notice(message: string): void {
    this.#part.notices.push(message);
  }

  /** Hands over what the files added so far produced, and starts a new part. */
  takePart(): FileScanPart {
    const part = this.#part;
    this.#part = emptyPart();
    return part;
  }

  /** Takes in a part produced by another FileScan (another thread) of the same root. */
  addPart(other: FileScanPart): void {
    const part = this.#part;
    part.findings.push(...other.findings);
    part.dependencyFiles.push(...other.dependencyFiles);
    part.notices.push(...other.notices);
    part.partialLockfiles.push(...other.partialLockfiles);
  }

  async finish(): Promise<ScanFilesResult> {
    const part = this.#part;
    const notices = [...part.notices];
    if (part.partialLockfiles.length > 0) {
      notices.push(
        `Dependency files changed in the diff were not checked for vulnerable packages, because a diff does not hold the whole file: ${part.partialLockfiles.join(', ')}. Scan the working tree for them.`,
      );
    }
    const packages = await this.#readPackages(part, notices);
    const dependencyFindings = await this.#match(part, packages, notices);
    const findings = [...part.findings, ...dependencyFindings.map((f) => this.#withOverrides(f)).filter((f) => !this.#isIgnored(f))];
    return { findings, packages, notices };
  }

  async #readPackages(part: FileScanPart, notices: string[]): Promise<PackageRef[]> {
    if (part.dependencyFiles.length === 0) return [];
    const { DependencyFileSet, ParseError } = await loadDependencies();
    const set = new DependencyFileSet();
    for (const { path, content } of [...part.dependencyFiles, ...(await this.#referencedFiles(part, DependencyFileSet.includesOf))]) {
      try {
        const notice = (message: string) => notices.push(message);
        if (this.#parseLockfile) await set.addParsedBy(this.#parseLockfile, path, content, notice);
        else set.add(path, content, notice);
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        notices.push(`${error.message}; its packages were not checked.`);
      }
    }
    return set.packages();
  }

  /** Files the dependency files name that the scan did not read itself (a requirements file's includes), and theirs in turn, bounded. */
  async #referencedFiles(part: FileScanPart, includesOf: (path: string, content: string) => string[]): Promise<{ path: string; content: string }[]> {
    const readFile = this.#readFile;
    if (!readFile) return [];
    const known = new Set(part.dependencyFiles.map((f) => f.path));
    const queue = [...part.dependencyFiles];
    const found: { path: string; content: string }[] = [];
    while (queue.length > 0 && found.length < MAX_REFERENCED_FILES) {
      const { path, content } = queue.shift()!;
      for (const other of includesOf(path, content)) {
        if (known.has(other) || found.length >= MAX_REFERENCED_FILES) continue;
        known.add(other);
        const text = await readFile(other);
        if (text === undefined) continue;
        found.push({ path: other, content: text });
        queue.push({ path: other, content: text });
      }
    }
    return found;
  }

  async #match(part: FileScanPart, packages: PackageRef[], notices: string[]): Promise<DependencyFinding[]> {
    if (part.dependencyFiles.length === 0) return [];
    const index = typeof this.#index === 'function' ? await this.#index() : (this.#index ?? null);
    if (!index) {
      notices.push(
        `No vulnerability database: ${count(packages.length, 'package')} from ${count(part.dependencyFiles.length, 'dependency file')} not checked for known vulnerabilities.`,
      );
      return [];
    }
    const missing = new Map<string, number>();
    for (const pkg of packages) {
      if (!pkg.source && !index.ecosystems.includes(pkg.ecosystem)) missing.set(pkg.ecosystem, (missing.get(pkg.ecosystem) ?? 0) + 1);
    }
    for (const [ecosystem, packages] of missing) {
      notices.push(`The vulnerability database holds no ${ecosystem} advisories: ${count(packages, `${ecosystem} package`)} not checked.`);
    }
    const { VulnIndexError, matchPackages } = await loadDependencies();
    try {
      return matchPackages(index, packages);
    } catch (error) {
      // A damaged database must not hide the secrets already found.
      if (!(error instanceof VulnIndexError)) throw error;
      notices.push(`${error.message}; dependencies were not checked.`);
      return [];
    }
  }

  #isScannedDependencyFile(path: string): boolean {
    return isDependencyFile(path) && !this.#ignored.some((re) => re.test(path));
  }

  /** `.gatehouse.yml` severity overrides are keyed by rule id, which for a dependency is the advisory rule. */
  #withOverrides(finding: DependencyFinding): DependencyFinding {
    const severity = this.#config.severityOverrides[finding.ruleId];
    return severity ? { ...finding, severity } : finding;
  }

  #isIgnored(finding: Finding): boolean {
    return this.#ignoredFingerprints.has(finding.fingerprint);
  }
}

function emptyPart(): FileScanPart {
  return { findings: [], dependencyFiles: [], notices: [], partialLockfiles: [] };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Scans a whole set of files at once; see FileScan for the streaming form. */
export async function scanFiles(
  files: Iterable<ScanFile> | AsyncIterable<ScanFile>,
  options: ScanFilesOptions = {},
): Promise<ScanFilesResult> {
  const scan = new FileScan(options);
  for await (const file of files) if (scan.wants(file.path)) await scan.add(file);
  return await scan.finish();
}
