import type { RepoScanConfig } from '../../scan/repo-config/index.ts';
import type { PackageRef, SecretFinding } from '../../scan/types.ts';
import type { DiffLimits, DiffScanResult } from '../diff-scan.ts';

/**
 * What crosses between the job runner and a scan thread. Everything here is plain data
 * (structured-clone friendly): a repository's regexes travel as source text inside
 * `RepoScanConfig` and are compiled in the thread that runs them.
 */

export interface DiffScanRequest {
  /**
   * Null when the secrets scanner is off by policy: the diff is still read for dependency files.
   * `fingerprintKey`: the installation's key (fingerprint.ts), which arrives as a Uint8Array.
   */
  secrets: { config: RepoScanConfig; fingerprintKey?: Uint8Array } | null;
  /** The installation policy's ignored-path globs. */
  ignoredPaths: string[];
  limits?: DiffLimits;
}

/** Whole files of a tree (a default branch being backfilled): a binary one by its name only. */
export type TreeFile = { path: string; content: string } | { path: string; binary: true };

/** What the secrets engine found in some whole files; fingerprints unkeyed, as for a diff. */
export interface FilesScanResult {
  findings: SecretFinding[];
}

/** A lockfile's packages with what the parser skipped in it, or why it could not be read (shown as notices). */
export type LockfileParse = { packages: PackageRef[]; notices: string[] } | { error: string };

/**
 * Dependency files that are read together (a go.mod with its go.sum, a pom.xml with its
 * local parents): the packages of them all, what the parsers said per file, and the files
 * that could not be read.
 */
export interface DependencySetParse {
  packages: PackageRef[];
  notices: { path: string; message: string }[];
  errors: { path: string; error: string }[];
}

export type Task =
  | { kind: 'diff'; request: DiffScanRequest; diff: ReadableStream<Uint8Array> }
  | { kind: 'lockfile'; path: string; content: string }
  | { kind: 'dependency-set'; files: { path: string; content: string }[] }
  | { kind: 'dependency-context'; path: string; content: string }
  | { kind: 'files'; secrets: NonNullable<DiffScanRequest['secrets']>; files: TreeFile[] };

export type TaskMessage = Task & { id: number };

export type TaskValue = DiffScanResult | LockfileParse | FilesScanResult | DependencySetParse | string[];

/** A thread says `ready` once its modules are loaded, then answers each task by its id. */
export type ThreadMessage =
  | { ready: true }
  | { id: number; ok: true; value: TaskValue }
  | { id: number; ok: false; error: { name: string; message: string } };
