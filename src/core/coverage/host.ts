import type { RepositoryRecord } from '../../store/coverage-types.ts';
import type { GitRemote } from './git-clone.ts';

/**
 * What coverage needs of a code host, whichever it is: list the repositories of a tenant,
 * read a repository's default branch head, list a directory of a commit, read a file. It is
 * the `repositories` part of every CodeHost (core/code-host.ts): Bitbucket Cloud's (Connect and
 * Forge installations) in src/codehost/cloud/repository-host.ts, Data Center's in
 * src/codehost/datacenter/repositories.ts. Discovery, the backfill and history scans reach it
 * through the same code-host registry as every other job.
 */

/** A repository as the host lists it: the stored record without what Gatehouse adds to it. */
export type HostRepository = Omit<RepositoryRecord, 'clientKey' | 'discoveredAt' | 'deletedAt'>;

export interface TreeEntry {
  /** Repository-relative path, no leading slash. */
  path: string;
  type: 'file' | 'directory';
  /** Bytes, when the listing says (a file's). */
  size: number | null;
}

export interface RepositoryHost {
  /** Every repository the installation can see. */
  listRepositories(): AsyncIterable<HostRepository>;
  /** Null when the repository no longer exists (deleted, or moved out of reach). */
  getRepository(fullName: string): Promise<HostRepository | null>;
  /** Full commit hash of the branch head; null when the branch does not exist. */
  branchHead(fullName: string, branch: string): Promise<string | null>;
  /**
   * One directory of a commit ('' = the root) and its subdirectories' entries down to
   * `maxDepth` levels (1, the default: the directory's own entries), as Bitbucket Cloud's
   * `max_depth` lists them. A host must honour `maxDepth`: the caller lists again only the
   * directories at the deepest level.
   */
  listDirectory(fullName: string, commit: string, dir: string, maxDepth?: number): AsyncIterable<TreeEntry>;
  /**
   * A file's text; null when it does not exist. A file larger than `maxBytes` throws
   * (the implementation's "too large" error) without being read past the bound.
   */
  readFile(fullName: string, commit: string, path: string, maxBytes: number): Promise<string | null>;
  /** Where git clones the repository over HTTPS, and the token it sends (history scans); absent where the host offers no clone yet. */
  gitRemote?(fullName: string): Promise<GitRemote>;
}
