import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_CONFIG_PATHS, loadRepoConfig, type RepoConfigFiles, type RepoScanConfig } from '../scan/repo-config/index.ts';

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The repository settings at the root of a scan. A problem in them (bad YAML, an invalid
 * custom rule) is reported and the rest of the settings still apply: a typo in one rule
 * must not switch scanning off.
 */
export async function readRepoConfig(root: string): Promise<{ config: RepoScanConfig; problems: string[] }> {
  const sources: RepoConfigFiles = {};
  const problems: string[] = [];
  for (const [key, name] of Object.entries(REPO_CONFIG_PATHS) as [keyof RepoConfigFiles, string][]) {
    try {
      const text = await readIfPresent(path.join(root, name));
      if (text !== undefined) sources[key] = text;
    } catch (error) {
      problems.push(`${name} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); it was ignored.`);
    }
  }
  const loaded = loadRepoConfig(sources);
  return { config: loaded.config, problems: [...problems, ...loaded.problems] };
}
