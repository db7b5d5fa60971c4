import { DependencyFileSet, ParseError, VulnIndexError, isDependencyFile, matchPackages, type VulnIndex } from './deps/index.ts';
import { globMatcher, type GlobMatcher } from './repo-config/glob-matcher.ts';
import { EMPTY_REPO_CONFIG, type RepoScanConfig } from './repo-config/types.ts';
import { SecretScanner } from './secrets/engine.ts';
import type { DependencyFinding, Finding, PackageRef } from './types.ts';

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
  /** The OSV index; null or absent means no database, which is said in a notice. */
  vulnIndex?: VulnIndex | null;
  /** A scanner to reuse across scans (it compiles its rules once); built from `config` when absent. */
  scanner?: SecretScanner;
}

export interface ScanFilesResult {
  findings: Finding[];
  /** Every package read from the dependency files, for matching and SBOMs. */
  packages: PackageRef[];
  /** What the user should know that is not a finding: unreadable lockfiles, no database, partial lockfiles. */
  notices: string[];
}

/**
 * The one place that decides what a scan of some files reports, shared by the CLI and
 * the app. Files are fed one at a time (`add`), so a caller can stream a tree without
 * holding it in memory; `finish` matches the collected packages against the database.
 */
export class FileScan {
  readonly #config: RepoScanConfig;
  readonly #scanner: SecretScanner;
  readonly #index: VulnIndex | null;
  readonly #ignored: GlobMatcher[];
  readonly #ignoredFingerprints: Set<string>;
  readonly #findings: Finding[] = [];
  readonly #dependencyFileSet = new DependencyFileSet();
  readonly #notices: string[] = [];
  readonly #partialLockfiles: string[] = [];
  #dependencyFiles = 0;

  constructor(options: ScanFilesOptions = {}) {
    this.#config = options.config ?? EMPTY_REPO_CONFIG;
    this.#scanner = options.scanner ?? new SecretScanner({ config: this.#config });
    this.#index = options.vulnIndex ?? null;
    this.#ignored = this.#config.ignorePaths.map(globMatcher);
    this.#ignoredFingerprints = new Set(this.#config.ignoredFingerprints);
  }

  /** Whether a file is worth reading at all: a dependency file, or one the secret scanner looks at. */
  wants(path: string): boolean {
    return this.#isScannedDependencyFile(path) || !this.#scanner.shouldSkipPath(path);
  }

  add(file: ScanFile): void {
    if ('binary' in file) {
      this.#findings.push(...this.#scanner.scanPath(file.path));
      return;
    }
    if ('addedLines' in file) {
      // A diff holds only some lines of a lockfile, which cannot be parsed on their own.
      if (this.#isScannedDependencyFile(file.path)) this.#partialLockfiles.push(file.path);
      this.#findings.push(...this.#scanner.scanLines(file.path, file.addedLines));
      return;
    }
    if (this.#isScannedDependencyFile(file.path)) this.#readPackages(file.path, file.content);
    this.#findings.push(...this.#scanner.scanText(file.path, file.content));
  }

  finish(): ScanFilesResult {
    const notices = [...this.#notices];
    if (this.#partialLockfiles.length > 0) {
      notices.push(
        `Dependency files changed in the diff were not checked for vulnerable packages, because a diff does not hold the whole file: ${this.#partialLockfiles.join(', ')}. Scan the working tree for them.`,
      );
    }
    const packages = this.#dependencyFileSet.packages();
    const dependencyFindings = this.#match(packages, notices);
    const findings = [...this.#findings, ...dependencyFindings.map((f) => this.#withOverrides(f)).filter((f) => !this.#isIgnored(f))];
    return { findings, packages, notices };
  }

  #match(packages: PackageRef[], notices: string[]): DependencyFinding[] {
    if (this.#dependencyFiles === 0) return [];
    if (!this.#index) {
      notices.push(
        `No vulnerability database: ${count(packages.length, 'package')} from ${count(this.#dependencyFiles, 'dependency file')} not checked for known vulnerabilities.`,
      );
      return [];
    }
    const missing = new Map<string, number>();
    for (const pkg of packages) {
      if (!pkg.source && !this.#index.ecosystems.includes(pkg.ecosystem)) missing.set(pkg.ecosystem, (missing.get(pkg.ecosystem) ?? 0) + 1);
    }
    for (const [ecosystem, packages] of missing) {
      notices.push(`The vulnerability database holds no ${ecosystem} advisories: ${count(packages, `${ecosystem} package`)} not checked.`);
    }
    try {
      return matchPackages(this.#index, packages);
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

  #readPackages(path: string, content: string): void {
    this.#dependencyFiles++;
    try {
      this.#dependencyFileSet.add(path, content, (message) => this.#notices.push(message));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.#notices.push(`${error.message}; its packages were not checked.`);
    }
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

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Scans a whole set of files at once; see FileScan for the streaming form. */
export async function scanFiles(
  files: Iterable<ScanFile> | AsyncIterable<ScanFile>,
  options: ScanFilesOptions = {},
): Promise<ScanFilesResult> {
  const scan = new FileScan(options);
  for await (const file of files) if (scan.wants(file.path)) scan.add(file);
  return scan.finish();
}
