import type { Logger } from '../../log.ts';
import type { CoverageState, DiscoveryChange, RepositoryRecord } from '../../store/coverage-types.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';
import type { CodeHostSource } from '../code-host.ts';
import { coverageOf, extendBackfill, MAX_CHANGES } from './control.ts';
import type { HostRepository } from './host.ts';

/**
 * Discovery: lists every repository of the installation and records what changed since the
 * last time: new ones, renamed ones (same uuid, new name), moved ones (another project) and
 * deleted ones (no longer listed). Each record keeps the default branch, project, visibility,
 * size, language and last update. With auto-backfill on, new repositories and those updated
 * since their scan join the backfill.
 */

export interface DiscoveryDeps {
  results: ResultsStore;
  store: Pick<Store, 'acceptDelivery' | 'countUnfinishedJobs'>;
  /** The code hosts, metered as background work (it leaves the budget's reserve to webhook scans). */
  backgroundHosts: CodeHostSource;
  now: () => Date;
}

export interface DiscoverySummary {
  total: number;
  changes: DiscoveryChange[];
  queued: number;
}

export async function discoverRepositories(deps: DiscoveryDeps, clientKey: string, log: Logger): Promise<DiscoverySummary> {
  const started = deps.now();
  const before = await coverageOf(deps.results, clientKey, started);
  // A running or paused backfill keeps showing as such; otherwise the page says "discovering".
  const quiet = before.state === 'idle' || before.state === 'done';
  if (quiet) await deps.results.putCoverage({ ...before, state: 'discovering', updatedAt: started.toISOString() });
  try {
    return await discover(deps, clientKey, log);
  } finally {
    if (quiet) await restoreAfterDiscovery(deps, clientKey, before.state);
  }
}

async function discover(deps: DiscoveryDeps, clientKey: string, log: Logger): Promise<DiscoverySummary> {
  const host = (await deps.backgroundHosts.forTenant(clientKey)).repositories;
  const listed = new Map<string, HostRepository>();
  for await (const repo of host.listRepositories()) listed.set(repo.uuid, repo);

  const at = deps.now().toISOString();
  const stored = new Map((await deps.results.listRepositories(clientKey)).map((r) => [r.uuid, r]));
  const changes: DiscoveryChange[] = [];
  const toBackfill: RepositoryRecord[] = [];
  const scannedAt = new Map((await deps.results.listRepositoryCoverage(clientKey)).map((e) => [e.repoUuid, e]));

  for (const repo of listed.values()) {
    const old = stored.get(repo.uuid);
    const record: RepositoryRecord = { clientKey, ...repo, discoveredAt: old?.discoveredAt ?? at, deletedAt: null };
    if (!old || old.deletedAt !== null) changes.push({ kind: 'added', repoUuid: repo.uuid, fullName: repo.fullName, at });
    else {
      if (old.fullName !== repo.fullName) changes.push({ kind: 'renamed', repoUuid: repo.uuid, fullName: repo.fullName, from: old.fullName, at });
      if ((old.project?.key ?? null) !== (repo.project?.key ?? null)) changes.push({ kind: 'moved', repoUuid: repo.uuid, fullName: repo.fullName, ...(old.project ? { from: old.project.key } : {}), at });
    }
    if (!old || JSON.stringify(old) !== JSON.stringify(record)) await deps.results.putRepository(record);
    const entry = scannedAt.get(repo.uuid);
    // New, never backfilled, or updated since its last scan: the head may have moved.
    if (!entry || (entry.status !== 'pending' && repo.updatedOn !== null && repo.updatedOn > entry.updatedAt)) toBackfill.push(record);
  }
  for (const old of stored.values()) {
    if (old.deletedAt !== null || listed.has(old.uuid)) continue;
    changes.push({ kind: 'deleted', repoUuid: old.uuid, fullName: old.fullName, at });
    await deps.results.putRepository({ ...old, deletedAt: at });
  }

  const state = await coverageOf(deps.results, clientKey, deps.now());
  await deps.results.putCoverage({ ...state, lastDiscoveryAt: at, changes: [...state.changes, ...changes].slice(-MAX_CHANGES), updatedAt: at });
  const queued = state.autoBackfill && state.state !== 'paused' ? await extendBackfill(deps.results, deps.store, clientKey, toBackfill, deps.now()) : 0;
  log.info({ total: listed.size, changes: changes.length, queued }, 'repositories discovered');
  return { total: listed.size, changes, queued };
}

/** The state shown before discovery began, unless a backfill started meanwhile (by an admin, or by discovery itself). */
async function restoreAfterDiscovery(deps: DiscoveryDeps, clientKey: string, previous: CoverageState['state']): Promise<void> {
  const state = await coverageOf(deps.results, clientKey, deps.now());
  if (state.state !== 'discovering') return;
  await deps.results.putCoverage({ ...state, state: previous, updatedAt: deps.now().toISOString() });
}
