import { SKIPPED_DIRECTORIES } from '../../cli/walk.ts';
import { isDependencyFile } from '../../scan/deps/index.ts';
import type { Target } from '../publish.ts';

/**
 * Finds the dependency files of a whole tree through the code host's directory listing,
 * one directory at a time so that vendored trees (node_modules,
 * vendor, ...) are never listed at all, which a `max_depth` listing could not avoid.
 * Bounded: a monorepo must not spend the installation's call budget on one inventory, so
 * past the limits the walk stops and says what it did not look at.
 */

export interface TreeWalkLimits {
  /** Files and directories listed in all. */
  maxEntries: number;
  /** Directories listed (each costs at least one request). */
  maxDirectories: number;
}

export const DEFAULT_TREE_WALK_LIMITS: TreeWalkLimits = { maxEntries: 20_000, maxDirectories: 500 };

export interface DependencyFileListing {
  /** Repository paths, in breadth-first order. */
  paths: string[];
  notices: string[];
}

export async function findDependencyFiles(
  target: Target,
  commit: string,
  include: (path: string) => boolean,
  limits: TreeWalkLimits = DEFAULT_TREE_WALK_LIMITS,
): Promise<DependencyFileListing> {
  const paths: string[] = [];
  const pending: string[] = [''];
  let entries = 0;
  let directories = 0;
  while (pending.length > 0) {
    if (directories >= limits.maxDirectories) {
      return { paths, notices: [stopped(`${limits.maxDirectories} directories`, pending.length)] };
    }
    const dir = pending.shift()!;
    directories++;
    for await (const { path, kind } of target.host.listDirectory(target, commit, dir)) {
      if (++entries > limits.maxEntries) {
        return { paths, notices: [stopped(`${limits.maxEntries} files and directories`, pending.length + 1)] };
      }
      if (kind === 'directory') {
        const name = path.slice(path.lastIndexOf('/') + 1);
        if (!SKIPPED_DIRECTORIES.has(name)) pending.push(path);
      } else if (isDependencyFile(path) && include(path)) {
        paths.push(path);
      }
    }
  }
  return { paths, notices: [] };
}

function stopped(limit: string, directoriesLeft: number): string {
  return `The dependency inventory stopped listing the repository after ${limit}; dependency files in ${directoriesLeft} or more directories not yet listed are missing from it.`;
}
