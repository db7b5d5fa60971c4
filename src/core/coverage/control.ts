import { randomUUID } from 'node:crypto';
import type { CoverageState, RepositoryCoverage, RepositoryRecord } from '../../store/coverage-types.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';

/**
 * Starting, pausing and resuming an installation's coverage work, and the durable jobs that
 * do it. Discovery is one job (`coverage:discover`); the backfill is a chain of jobs
 * (`coverage:backfill`), each scanning one repository and queueing the next, in one job group
 * per installation: the runner never runs two of a group at once, so one installation's
 * backfill takes one worker slot at a time and the queue holds one of its jobs, never
 * hundreds that would crowd out its webhooks (TENANT_QUEUE_LIMIT counts queued jobs).
 *
 * Everything lives in the store: after a restart or a kill -9 the queued job runs again, and
 * a chain whose next link was lost in a crash is started again by `ensureBackfillChain`
 * (the coverage scheduler calls it), which picks up the pending repositories.
 */

export const DISCOVER_JOB_TYPE = 'coverage:discover';
export const BACKFILL_JOB_TYPE = 'coverage:backfill';

export const discoverGroup = (clientKey: string) => `coverage-discover:${clientKey}`;
export const backfillGroup = (clientKey: string) => `coverage-backfill:${clientKey}`;

/** Discovery changes kept in the coverage state (the newest). */
export const MAX_CHANGES = 200;

type JobStore = Pick<Store, 'acceptDelivery' | 'countUnfinishedJobs'>;

export function initialCoverage(clientKey: string, now: Date): CoverageState {
  return { clientKey, state: 'idle', autoBackfill: true, runId: null, runStartedAt: null, runFinishedAt: null, lastDiscoveryAt: null, changes: [], updatedAt: now.toISOString() };
}

export async function coverageOf(results: Pick<ResultsStore, 'getCoverage'>, clientKey: string, now: Date): Promise<CoverageState> {
  return (await results.getCoverage(clientKey)) ?? initialCoverage(clientKey, now);
}

/** Queues a discovery of the installation's repositories (on install, daily, on demand); a queued one covers older ones. */
export async function queueDiscovery(store: JobStore, clientKey: string, why: string): Promise<string | null> {
  const { jobId } = await store.acceptDelivery(
    { id: `gatehouse:coverage:${randomUUID()}`, clientKey, event: `gatehouse:coverage:discover:${why}` },
    { clientKey, type: DISCOVER_JOB_TYPE, payload: { why }, group: discoverGroup(clientKey), supersedes: true },
  );
  return jobId;
}

/** Queues the next link of the backfill chain unless one is queued or running (`running` counts the caller's own job). */
export async function ensureBackfillChain(store: JobStore, clientKey: string, running = 0): Promise<boolean> {
  if ((await store.countUnfinishedJobs(clientKey, backfillGroup(clientKey))) > running) return false;
  await store.acceptDelivery(
    { id: `gatehouse:coverage:${randomUUID()}`, clientKey, event: 'gatehouse:coverage:backfill' },
    { clientKey, type: BACKFILL_JOB_TYPE, payload: {}, group: backfillGroup(clientKey) },
  );
  return true;
}

function pendingEntry(clientKey: string, runId: string, repo: RepositoryRecord, previous: RepositoryCoverage | undefined, now: Date): RepositoryCoverage {
  const base = { clientKey, repoUuid: repo.uuid, runId, files: 0, bytes: 0, findings: 0, skippedFiles: [], updatedAt: now.toISOString() };
  if (repo.mainBranch === null) return { ...base, status: 'skipped', commit: null, reason: 'no default branch (an empty repository)' };
  // The commit scanned before stays, and so do its counts: a head that has not moved since is
  // not scanned again, and the job reports what that earlier scan found rather than zeros.
  // Progress does not count a pending entry's figures, so keeping them inflates nothing.
  if (previous?.commit) {
    const { files, bytes, findings, skippedFiles } = previous;
    return { ...base, files, bytes, findings, skippedFiles, status: 'pending', commit: previous.commit, reason: null };
  }
  return { ...base, status: 'pending', commit: null, reason: null };
}

/**
 * Starts a backfill run over every repository discovery knows (deleted ones aside). A
 * repository whose default branch head was already scanned is counted as done without
 * being scanned again (the job checks the head first).
 */
export async function startBackfill(results: ResultsStore, store: JobStore, clientKey: string, now: Date): Promise<CoverageState> {
  const live = (await results.listRepositories(clientKey)).filter((r) => r.deletedAt === null);
  return startRun(results, store, clientKey, live, now);
}

async function startRun(results: ResultsStore, store: JobStore, clientKey: string, repos: RepositoryRecord[], now: Date): Promise<CoverageState> {
  const state = await coverageOf(results, clientKey, now);
  const runId = randomUUID();
  const previous = new Map((await results.listRepositoryCoverage(clientKey)).map((e) => [e.repoUuid, e]));
  for (const repo of repos) await results.putRepositoryCoverage(pendingEntry(clientKey, runId, repo, previous.get(repo.uuid), now));
  const next: CoverageState = { ...state, state: 'running', runId, runStartedAt: now.toISOString(), runFinishedAt: null, updatedAt: now.toISOString() };
  await results.putCoverage(next);
  await ensureBackfillChain(store, clientKey);
  return next;
}

/**
 * Backfills repositories discovery found new, or updated since their scan: they join the
 * running (or paused) run, or make a run of their own. Returns how many were queued.
 */
export async function extendBackfill(results: ResultsStore, store: JobStore, clientKey: string, repos: RepositoryRecord[], now: Date): Promise<number> {
  if (repos.length === 0) return 0;
  const state = await coverageOf(results, clientKey, now);
  if (state.runId === null || (state.state !== 'running' && state.state !== 'paused')) {
    await startRun(results, store, clientKey, repos, now);
    return repos.length;
  }
  const previous = new Map((await results.listRepositoryCoverage(clientKey)).map((e) => [e.repoUuid, e]));
  for (const repo of repos) await results.putRepositoryCoverage(pendingEntry(clientKey, state.runId, repo, previous.get(repo.uuid), now));
  if (state.state === 'running') await ensureBackfillChain(store, clientKey);
  return repos.length;
}

export type BackfillAction = 'start' | 'pause' | 'resume';

/** What an admin asked for on the settings page or through the API. */
export async function controlBackfill(results: ResultsStore, store: JobStore, clientKey: string, action: BackfillAction, now: Date): Promise<CoverageState> {
  const state = await coverageOf(results, clientKey, now);
  if (action === 'start') return startBackfill(results, store, clientKey, now);
  if (action === 'pause') {
    if (state.state !== 'running' && state.state !== 'discovering') return state;
    const paused: CoverageState = { ...state, state: 'paused', updatedAt: now.toISOString() };
    await results.putCoverage(paused);
    return paused;
  }
  if (state.state !== 'paused') return state;
  if (state.runId === null) return startBackfill(results, store, clientKey, now);
  const resumed: CoverageState = { ...state, state: 'running', updatedAt: now.toISOString() };
  await results.putCoverage(resumed);
  await ensureBackfillChain(store, clientKey);
  return resumed;
}

export async function setAutoBackfill(results: ResultsStore, clientKey: string, autoBackfill: boolean, now: Date): Promise<CoverageState> {
  const state = { ...(await coverageOf(results, clientKey, now)), autoBackfill, updatedAt: now.toISOString() };
  await results.putCoverage(state);
  return state;
}
