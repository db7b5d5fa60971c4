import { parseGatehouseYml } from './gatehouse-yml.ts';
import { parseGitleaksIgnore } from './gitleaks-ignore.ts';
import { parseGitleaksToml } from './gitleaks-toml.ts';
import type { CustomRule, RepoScanConfig } from './types.ts';

export type { Allowlist, CustomRule, RepoScanConfig } from './types.ts';
export { EMPTY_REPO_CONFIG, REPO_CONFIG_PATHS } from './types.ts';


export interface RepoConfigFiles {
  gatehouseYml?: string;
  gitleaksToml?: string;
  gitleaksIgnore?: string;
}

/**
 * Merges a repository's scan configuration files into one RepoScanConfig. Never throws:
 * whatever cannot be used is left out and described in `problems` (one line each,
 * naming the file and the entry), for the caller to show to the repository's users.
 * A `.gatehouse.yml` rule replaces a `.gitleaks.toml` rule of the same id.
 */
export function loadRepoConfig(files: RepoConfigFiles): { config: RepoScanConfig; problems: string[] } {
  const problems: string[] = [];
  const config: RepoScanConfig = {
    disabledRules: [],
    customRules: [],
    ignorePaths: [],
    severityOverrides: {},
    allowlists: [],
    ignoredFingerprints: [],
  };
  const rules = new Map<string, CustomRule>();

  if (files.gitleaksToml !== undefined) {
    const gitleaks = parseGitleaksToml(files.gitleaksToml);
    problems.push(...gitleaks.problems);
    config.disabledRules.push(...gitleaks.disabledRules);
    config.allowlists.push(...gitleaks.allowlists);
    for (const rule of gitleaks.rules) rules.set(rule.id, rule);
  }
  if (files.gatehouseYml !== undefined) {
    const yml = parseGatehouseYml(files.gatehouseYml);
    problems.push(...yml.problems);
    config.disabledRules.push(...yml.disabledRules);
    config.ignorePaths.push(...yml.ignorePaths);
    Object.assign(config.severityOverrides, yml.severityOverrides);
    for (const rule of yml.rules) rules.set(rule.id, rule);
  }
  if (files.gitleaksIgnore !== undefined) {
    const ignore = parseGitleaksIgnore(files.gitleaksIgnore);
    problems.push(...ignore.problems);
    config.ignoredFingerprints.push(...ignore.fingerprints);
  }
  config.customRules = [...rules.values()];
  return { config, problems };
}
