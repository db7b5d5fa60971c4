import type { SecretRule } from '../secrets/rule.ts';
import type { Severity } from '../types.ts';

/**
 * An allow-list in the gitleaks sense: a finding is allowed when the checks that are
 * present match, any of them (`or`, the default) or all of them (`and`).
 */
export interface Allowlist {
  description?: string;
  /** Regex sources tested against the path. */
  paths?: string[];
  /** Regex sources tested against `regexTarget`. */
  regexes?: string[];
  /** What `regexes` are tested against: the secret (default), the whole match, or the line. */
  regexTarget?: 'secret' | 'match' | 'line';
  /** Lower-case words; a secret containing one is allowed. */
  stopwords?: string[];
  condition?: 'or' | 'and';
  /** Limits a global allow-list to these rule ids (gitleaks `targetRules`); all rules when absent. */
  ruleIds?: string[];
}

/**
 * A rule added by a repository: a SecretRule without examples, with gitleaks-style
 * allow-lists. `secretGroup: 'first'` takes the first non-empty capture group (the
 * whole match when there is none), which is what gitleaks does when it is unset.
 */
export type CustomRule = Omit<SecretRule, 'examples' | 'allowlist' | 'secretGroup'> & {
  secretGroup?: number | 'first';
  allowlists: Allowlist[];
};

/** Everything a repository's own files say about secret scanning, merged and validated. */
export interface RepoScanConfig {
  /** Rule ids that do not run. */
  disabledRules: string[];
  /** Rules from `.gatehouse.yml` and `.gitleaks.toml`; a custom rule replaces a built-in one with the same id. */
  customRules: CustomRule[];
  /** Globs (`**`, `*`, `?`, `{a,b}`) of repository-relative paths that are not scanned. */
  ignorePaths: string[];
  severityOverrides: Record<string, Severity>;
  /** Global allow-lists (`[allowlist]` / `[[allowlists]]` of `.gitleaks.toml`). */
  allowlists: Allowlist[];
  /** Suppressed findings: Gatehouse fingerprints or gitleaks `[commit:]path:rule:line` entries. */
  ignoredFingerprints: string[];
}

/** No repository configuration; deeply frozen because it is shared. */
export const EMPTY_REPO_CONFIG: RepoScanConfig = Object.freeze({
  disabledRules: Object.freeze([]) as unknown as string[],
  customRules: Object.freeze([]) as unknown as CustomRule[],
  ignorePaths: Object.freeze([]) as unknown as string[],
  severityOverrides: Object.freeze({}),
  allowlists: Object.freeze([]) as unknown as Allowlist[],
  ignoredFingerprints: Object.freeze([]) as unknown as string[],
});

/**
 * Where each configuration file lives, relative to the repository root. Here, not beside
 * the parsers, so a caller can look for the files without loading YAML and TOML readers.
 */
export const REPO_CONFIG_PATHS = {
  gatehouseYml: '.gatehouse.yml',
  gitleaksToml: '.gitleaks.toml',
  gitleaksIgnore: '.gitleaksignore',
} as const;
