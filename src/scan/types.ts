// Shared vocabulary of the scanning library. Everything under src/scan is pure:
// content in, findings out; no network, no store, no imports from the rest of the app.

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is worse; used for sorting and thresholds. */
export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 };

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}

interface FindingBase {
  ruleId: string;
  severity: Severity;
  /** Repository-relative path, forward slashes, no leading `./`. */
  path: string;
  /** 1-based line in the (new) file; 0 for a whole-file finding. */
  line: number;
  /** Stable identity across commits: survives the finding moving to another line. */
  fingerprint: string;
  /** One readable sentence. Never contains a full secret. */
  message: string;
}

export interface SecretFinding extends FindingBase {
  kind: 'secret';
  description: string;
  /** Masked preview such as `AKIA************MPLE`; the only form of the secret that leaves the engine. */
  preview: string;
  /** sha256 hex of the secret, so the same secret can be recognised without being stored. */
  secretHash: string;
  column: number;
}

export interface DependencyFinding extends FindingBase {
  kind: 'dependency';
  ecosystem: Ecosystem;
  package: string;
  version: string;
  /** OSV id chosen as the primary identifier (GHSA preferred over CVE when both exist). */
  advisory: string;
  aliases: string[];
  summary: string;
  fixedVersion?: string;
  /** Link to the advisory for humans. */
  url?: string;
}

export type Finding = SecretFinding | DependencyFinding;

/** OSV ecosystem names, spelled as OSV spells them. */
export const ECOSYSTEMS = ['npm', 'PyPI', 'Go', 'crates.io', 'RubyGems', 'Packagist', 'Maven', 'Pub', 'Hex', 'NuGet', 'SwiftURL'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** One resolved package read from a lockfile or manifest. */
export interface PackageRef {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** File it was read from (repository-relative). */
  path: string;
  /** 1-based line of its entry in that file, 0 when unknown. */
  line: number;
  /** Direct dependency of the project (when the lockfile says). */
  direct?: boolean;
  /** Names (`name@version`) of the packages this one depends on, when the lockfile has a graph. */
  dependsOn?: string[];
  /**
   * Set when the package does not come from its ecosystem's registry. Such a package is
   * listed (SBOM, inventory) under a purl that says where it came from, but never matched
   * against advisories, which name registry releases.
   */
  source?: PackageSource;
}

/** A package from somewhere other than its ecosystem's registry. */
export interface PackageSource {
  /** vcs: a repository (git, or `hg+`/`svn+` URLs) at a revision; url: a downloaded archive; path: a directory or file of the project (workspaces too). */
  kind: 'vcs' | 'url' | 'path';
  /** Repository URL, archive URL, or the path as the lockfile writes it; empty when the lockfile does not say (Cargo's local crates). */
  location: string;
  /** Commit (or ref) of a vcs source. */
  revision?: string;
}
