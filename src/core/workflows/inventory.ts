import type { Logger } from '../../log.ts';
import { isDependencyFile } from '../../scan/deps/index.ts';
import { buildSbom } from '../../scan/sbom/cyclonedx.ts';
import type { PackageRef } from '../../scan/types.ts';
import type { InventoryRecord, ResultsStore } from '../../store/results-types.ts';
import { readPackages } from '../dependency-check.ts';
import { KeyedSerialQueue } from '../keyed-queue.ts';
import { environmentOf, pathFilter, policyOf } from '../policy.ts';
import type { Target } from '../publish.ts';
import type { WorkflowDeps } from './context.ts';
import { findDependencyFiles } from './dependency-files.ts';

export interface InventoryInput {
  target: Target;
  clientKey: string;
  repoUuid: string;
  fullName: string;
  branch: string;
  commit: string;
  /** When the event that moved the branch was accepted (its job's createdAt): the branch's order of events. */
  acceptedAt: string;
}

/** One save queue per results store: the check "is the stored inventory newer?" and the save happen as one step. */
const saveQueues = new WeakMap<object, KeyedSerialQueue>();

function saveQueueOf(results: object): KeyedSerialQueue {
  let queue = saveQueues.get(results);
  if (!queue) saveQueues.set(results, (queue = new KeyedSerialQueue()));
  return queue;
}

/**
 * True when the stored inventory came from an event accepted after this one. Jobs of one branch
 * can finish out of order (a slow download, a retry after a failure), and the branch's
 * inventory must only move forward: the later push describes the branch as it is now.
 * Inventories saved before this field existed count as older than any event.
 */
function isNewer(stored: Pick<InventoryRecord, 'acceptedAt'> | undefined, acceptedAt: string): boolean {
  return stored?.acceptedAt !== undefined && stored.acceptedAt > acceptedAt;
}

/**
 * Refreshes the dependency inventory and CycloneDX SBOM of a branch at `commit`. The first
 * time, the whole tree is walked for dependency files (vendored directories skipped, within
 * the walk's limits); afterwards only the dependency files the diffstat since the last
 * inventory names are read again, the others keep their packages.
 */
export async function refreshInventory(deps: WorkflowDeps, input: InventoryInput, log: Logger): Promise<void> {
  const { target, clientKey, repoUuid, branch, commit, acceptedAt } = input;
  const previous = await deps.results.getInventory(clientKey, repoUuid, branch);
  if (previous?.commit === commit) return;
  if (isNewer(previous, acceptedAt)) {
    log.info({ branch, commit, stored: previous?.commit }, 'dependency inventory not refreshed: a later push already updated it');
    return;
  }
  const policy = await policyOf(deps.results, clientKey);
  const include = pathFilter(policy);

  let keep: PackageRef[] = [];
  let keepFiles: Record<string, string> = {};
  let toRead: string[];
  const notices: string[] = [];
  if (previous) {
    const changed = await changedDependencyFiles(target, commit, previous.commit);
    keep = previous.packages.filter((p) => !changed.has(p.path));
    keepFiles = Object.fromEntries(Object.entries(previous.files).filter(([path]) => !changed.has(path)));
    toRead = [...changed].filter((path) => include(path));
  } else {
    const found = await findDependencyFiles(target, commit, include, deps.treeWalkLimits);
    toRead = found.paths;
    notices.push(...found.notices);
  }
  const read = await readPackages(target, commit, toRead, deps.lockfiles);
  notices.push(...read.notices);
  const saved = await storeInventory(deps, input, [...keep, ...read.packages], { ...keepFiles, ...read.files });
  if (!saved) {
    log.info({ branch, commit }, 'dependency inventory not saved: a later push updated it meanwhile');
    return;
  }
  log.info({ branch, commit, files: toRead.length, notices }, 'dependency inventory refreshed');
}

/**
 * Saves a branch's inventory and its SBOM, unless an event accepted later already saved
 * one. False when it was overtaken.
 */
export async function storeInventory(
  deps: Pick<WorkflowDeps, 'results' | 'now'>,
  input: Omit<InventoryInput, 'target'>,
  packages: PackageRef[],
  files: Record<string, string>,
): Promise<boolean> {
  const { clientKey, repoUuid, branch, commit, acceptedAt } = input;
  const policy = await policyOf(deps.results, clientKey);
  const sbom = await buildSbom(packages, { name: input.fullName, version: commit.slice(0, 12), timestamp: deps.now() });
  const record: InventoryRecord = {
    clientKey,
    repoUuid,
    repoFullName: input.fullName,
    branch,
    environment: environmentOf(policy, branch),
    commit,
    files,
    packages,
    sbom,
    updatedAt: deps.now().toISOString(),
    acceptedAt,
  };
  return saveQueueOf(deps.results).run(JSON.stringify([clientKey, repoUuid, branch]), () => saveUnlessOvertaken(deps.results, record, acceptedAt));
}

async function saveUnlessOvertaken(results: Pick<ResultsStore, 'getInventory' | 'putInventory'>, record: InventoryRecord, acceptedAt: string): Promise<boolean> {
  if (isNewer(await results.getInventory(record.clientKey, record.repoUuid, record.branch), acceptedAt)) return false;
  await results.putInventory(record);
  return true;
}

/** Dependency files added, modified, renamed or removed between two commits (both paths of a rename). */
async function changedDependencyFiles(target: Target, commit: string, since: string): Promise<Set<string>> {
  const changed = new Set<string>();
  for await (const entry of target.host.changedFiles(target, { head: commit, base: since, direct: true })) {
    for (const path of [entry.oldPath, entry.newPath]) if (path && isDependencyFile(path)) changed.add(path);
  }
  return changed;
}
