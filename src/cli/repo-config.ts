import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RepoConfigFiles, RepoScanConfig } from '../scan/repo-config/index.ts';
import { EMPTY_REPO_CONFIG, REPO_CONFIG_PATHS } from '../scan/repo-config/types.ts';

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The texts of the repository settings files at the root of a scan (worker threads each parse them). */
export async function readRepoConfigFiles(root: string): Promise<{ files: RepoConfigFiles; problems: string[] }> {
  const files: RepoConfigFiles = {};
  const problems: string[] = [];
  for (const [key, name] of Object.entries(REPO_CONFIG_PATHS) as [keyof RepoConfigFiles, string][]) {
    try {
      const text = await readIfPresent(path.join(root, name));
      if (text !== undefined) files[key] = text;
    } catch (error) {
      problems.push(`${name} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); it was ignored.`);
    }
  }
  return { files, problems };
}

/**
 * The settings those files make. A problem in them (bad YAML, an invalid custom rule) is
 * reported and the rest still applies: a typo in one rule must not switch scanning off.
 * The YAML and TOML readers load only when there is a file to read.
 */
export async function parseRepoConfig(files: RepoConfigFiles): Promise<{ config: RepoScanConfig; problems: string[] }> {
  if (Object.keys(files).length === 0) return { config: EMPTY_REPO_CONFIG, problems: [] };
  const { loadRepoConfig } = await import('../scan/repo-config/index.ts');
  return loadRepoConfig(files);
}
