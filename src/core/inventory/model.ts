import type { Ecosystem, Severity } from '../../scan/types.ts';

/**
 * The inventory's one JSON shape (docs/inventory.md, docs/inventory.schema.json). Every
 * entity says its `schemaVersion` and `type`; a field is added without a version change, a
 * field renamed, retyped or removed takes the next version.
 */
export const INVENTORY_SCHEMA_VERSION = 1;

export const ENTITY_TYPES = ['project', 'repository', 'pullRequest', 'finding', 'component'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export type Verdict = 'PASSED' | 'FAILED';
export type FindingState = 'open' | 'triaged' | 'fixed';

interface Base<T extends EntityType> {
  schemaVersion: typeof INVENTORY_SCHEMA_VERSION;
  type: T;
  /** Unique within the installation and stable: the same thing keeps its id. */
  id: string;
}

export interface ProjectEntity extends Base<'project'> {
  key: string;
  name: string;
  /** Repositories of the project that still exist. */
  repositories: number;
}

export interface RepositoryEntity extends Base<'repository'> {
  uuid: string;
  fullName: string;
  name: string;
  project: string | null;
  isPrivate: boolean | null;
  defaultBranch: string | null;
  language: string | null;
  sizeBytes: number | null;
  updatedOn: string | null;
  /** When discovery stopped listing it (null while it exists). */
  deletedAt: string | null;
  coverage: { status: 'pending' | 'scanned' | 'failed' | 'skipped'; commit: string | null; reason: string | null; updatedAt: string } | null;
  /** The default branch's verdict: its whole-branch scan, or advisory monitoring's re-evaluation of it. */
  verdict: Verdict | null;
  /** By state, "in history" findings included; `inHistory` counts the open ones of those. */
  findings: { open: number; triaged: number; fixed: number; newAdvisory: number; inHistory: number };
  /** Distinct packages (by purl) of the default branch's inventory. */
  components: number;
}

export interface PullRequestEntity extends Base<'pullRequest'> {
  repository: string;
  repositoryFullName: string;
  prId: number;
  sourceBranch: string;
  destinationBranch: string;
  /** The commit whose results were published last, with its verdict. */
  commit: string | null;
  verdict: Verdict | null;
  updatedAt: string;
}

export interface FindingEntity extends Base<'finding'> {
  repository: string;
  repositoryFullName: string;
  project: string | null;
  branch: string;
  /** The default-branch commit the finding was found on; for an "in history" finding, the commit that added it. */
  commit: string;
  fingerprint: string;
  kind: 'secret' | 'dependency';
  ruleId: string;
  severity: Severity;
  path: string;
  line: number;
  message: string;
  state: FindingState;
  triage: { status: 'ignored' | 'false_positive'; by: string; at: string; reason: string } | null;
  fixedAt: string | null;
  /** Appeared because the OSV database changed (advisory monitoring), not because of a push. */
  newAdvisory: boolean;
  since: string | null;
  /** Secret findings: the masked preview, never the secret. */
  preview: string | null;
  /** Dependency findings. */
  ecosystem: Ecosystem | null;
  package: string | null;
  version: string | null;
  advisory: string | null;
  fixedVersion: string | null;
  /** An "in history" finding: a history scan found it in the branch's history and it is not at the scanned head. */
  inHistory: boolean;
  /** Where a history scan found the secret added (whether or not it is still at the head); null without one. */
  history: { commit: string; authorDate: string } | null;
}

export interface ComponentEntity extends Base<'component'> {
  purl: string;
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** Full names of the repositories whose default branch has it, sorted. */
  repositories: string[];
}

export type InventoryEntity = ProjectEntity | RepositoryEntity | PullRequestEntity | FindingEntity | ComponentEntity;
