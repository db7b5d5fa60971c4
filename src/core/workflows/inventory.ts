import type { Diffstat } from '../../bitbucket/openapi-types.ts';
import type { Logger } from '../../log.ts';
import { isDependencyFile } from '../../scan/deps/index.ts';
import { buildSbom } from '../../scan/sbom/cyclonedx.ts';
import type { PackageRef } from '../../scan/types.ts';
import { readPackages } from '../dependency-check.ts';
import { environmentOf, pathFilter, policyOf } from '../policy.ts';
import type { Target } from '../publish.ts';
import type { WorkflowDeps } from './context.ts';

/** Directories a repository vendors or generates: their lockfiles are not the project's. */
const NOT_THE_PROJECT = new Set(['node_modules', 'vendor', '.git', 'dist', 'build', 'third_party', 'target', '.venv', 'venv']);
/** Directories listed at most when an inventory is first built; a deeper tree is said to be cut short. */
const MAX_DIRECTORIES = 300;

export interface InventoryInput {
  target: Target;
  clientKey: string;
  repoUuid: string;
  fullName: string;
  branch: string;
  commit: string;
}

/**
 * Refreshes the dependency inventory and CycloneDX SBOM of a branch at `commit`. The first
 * time, the tree is walked for dependency files; afterwards only the dependency files the
 * diffstat since the last inventory names are read again, the others keep their packages.
 */
export async function refreshInventory(deps: WorkflowDeps, input: InventoryInput, log: Logger): Promise<void> {
  const { target, clientKey, repoUuid, branch, commit } = input;
  const previous = await deps.results.getInventory(clientKey, repoUuid, branch);
  if (previous?.commit === commit) return;
  const policy = await policyOf(deps.results, clientKey);
  const include = pathFilter(policy);
  const notices: string[] = [];

  let keep: PackageRef[] = [];
  let keepFiles: Record<string, string> = {};
  let toRead: string[];
  if (previous) {
    const changed = await changedDependencyFiles(target, commit, previous.commit);
    keep = previous.packages.filter((p) => !changed.has(p.path));
    keepFiles = Object.fromEntries(Object.entries(previous.files).filter(([path]) => !changed.has(path)));
    toRead = [...changed].filter((path) => include(path));
  } else {
    const walk = await findDependencyFiles(target, commit);
    if (walk.truncated) notices.push(`Only the first ${MAX_DIRECTORIES} directories were searched for dependency files.`);
    toRead = walk.paths.filter((path) => include(path));
  }
  const read = await readPackages(target.client, target.workspace, target.slug, commit, toRead, deps.lockfiles);
  const packages = [...keep, ...read.packages];
  const sbom = await buildSbom(packages, { name: input.fullName, version: commit.slice(0, 12), timestamp: deps.now() });
  await deps.results.putInventory({
    clientKey,
    repoUuid,
    repoFullName: input.fullName,
    branch,
    environment: environmentOf(policy, branch),
    commit,
    files: { ...keepFiles, ...read.files },
    packages,
    sbom,
    updatedAt: deps.now().toISOString(),
  });
  log.info({ branch, commit, packages: packages.length, files: toRead.length, notices: [...notices, ...read.notices] }, 'dependency inventory refreshed');
}

/** Dependency files added, modified, renamed or removed between two commits (both paths of a rename). */
async function changedDependencyFiles(target: Target, commit: string, since: string): Promise<Set<string>> {
  const changed = new Set<string>();
  const entries: AsyncIterable<Diffstat> = target.client.getDiffstat(target.workspace, target.slug, { spec: `${commit}..${since}` }, { topic: false });
  for await (const entry of entries) {
    for (const path of [entry.old?.path, entry.new?.path]) if (path && isDependencyFile(path)) changed.add(path);
  }
  return changed;
}

async function findDependencyFiles(target: Target, commit: string): Promise<{ paths: string[]; truncated: boolean }> {
  const paths: string[] = [];
  const queue = [''];
  let listed = 0;
  while (queue.length > 0) {
    if (listed >= MAX_DIRECTORIES) return { paths, truncated: true };
    const dir = queue.shift()!;
    listed++;
    const segments = dir.split('/').filter(Boolean).map(encodeURIComponent);
    const listing = target.client.paginate<{ type?: string; path?: string }>(
      `/repositories/${encodeURIComponent(target.workspace)}/${encodeURIComponent(target.slug)}/src/${commit}/${segments.join('/')}${segments.length ? '/' : ''}`,
      { pagelen: 100 },
    );
    for await (const entry of listing) {
      if (!entry.path) continue;
      const name = entry.path.split('/').at(-1) ?? '';
      if (entry.type === 'commit_directory' && !NOT_THE_PROJECT.has(name)) queue.push(entry.path);
      else if (entry.type === 'commit_file' && isDependencyFile(entry.path)) paths.push(entry.path);
    }
  }
  return { paths, truncated: false };
}
