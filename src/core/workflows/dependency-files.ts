import { SKIPPED_DIRECTORIES } from '../../cli/walk.ts';
import { isDependencyFile } from '../../scan/deps/index.ts';
import type { Target } from '../publish.ts';

/**
 * Finds the dependency files of a whole tree through Bitbucket's directory listing
 * (`src/{commit}/{dir}/`), one directory at a time so that vendored trees (node_modules,
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

/** The fields of a `commit_file` / `commit_directory` listing entry the walk reads. */
interface SrcEntry {
  type?: string;
  path?: string;
}

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
    for await (const entry of target.client.paginate<SrcEntry>(listingPath(target, commit, dir), { pagelen: 100 })) {
      if (++entries > limits.maxEntries) {
        return { paths, notices: [stopped(`${limits.maxEntries} files and directories`, pending.length + 1)] };
      }
      const path = entry.path;
      if (typeof path !== 'string' || path === '') continue;
      if (entry.type === 'commit_directory') {
        const name = path.slice(path.lastIndexOf('/') + 1);
        if (!SKIPPED_DIRECTORIES.has(name)) pending.push(path);
      } else if (entry.type === 'commit_file' && isDependencyFile(path) && include(path)) {
        paths.push(path);
      }
    }
  }
  return { paths, notices: [] };
}

/** The root needs its trailing slash (Bitbucket's src documentation); every directory gets one, so a directory is never read as a file. */
function listingPath(target: Target, commit: string, dir: string): string {
  const segments = [target.workspace, target.slug].map(encodeURIComponent).join('/');
  const inner = dir === '' ? '' : `${dir.split('/').map(encodeURIComponent).join('/')}/`;
  return `/repositories/${segments}/src/${encodeURIComponent(commit)}/${inner}`;
}

function stopped(limit: string, directoriesLeft: number): string {
  return `The dependency inventory stopped listing the repository after ${limit}; dependency files in ${directoriesLeft} or more directories not yet listed are missing from it.`;
}
