import { createHash, randomUUID } from 'node:crypto';
import type { CoverageState, RepositoryCoverage, RepositoryRecord } from '../../store/coverage-types.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';

/**
 * Starting, pausing and resuming an installation's coverage work, and the durable jobs that
 * do it. Discovery is one job (`coverage:discover`); the backfill is BACKFILL_LANES chains of
 * jobs (`coverage:backfill`), each link scanning one repository and queueing the next. Each
 * lane is a job group (the runner never runs two of a group at once) and owns the
 * repositories its hash assigns it, so two lanes never take the same repository, while a
 * 429 that holds one repository's calls for its Retry-After leaves the other lanes going.
 * One installation's backfill therefore takes at most BACKFILL_LANES worker slots and queued
 * jobs, never hundreds that would crowd out its webhooks (TENANT_QUEUE_LIMIT counts queued jobs).
 *
 * Everything lives in the store: after a restart or a kill -9 the queued job runs again, and
 * a chain whose next link was lost in a crash is started again by `ensureBackfillChain`
 * (the coverage scheduler calls it), which picks up the pending repositories.
 */

export const DISCOVER_JOB_TYPE = 'coverage:discover';
export const BACKFILL_JOB_TYPE = 'coverage:backfill';

export const discoverGroup = (clientKey: string) => `coverage-discover:${clientKey}`;
/**
 * Repositories of one installation scanned at once. Small: the worker runs 4 jobs by default
 * and webhooks need a slot; every lane's calls are still metered by the installation's budget
 * (background view, which keeps the webhook reserve).
 */
export const BACKFILL_LANES = 3;
/** Lane 0 keeps the name a single chain had, so a link queued before an upgrade runs as lane 0. */
export const backfillGroup = (clientKey: string, lane = 0) => (lane === 0 ? `coverage-backfill:${clientKey}` : `coverage-backfill:${clientKey}:${lane}`);

/** The lane that scans a repository: fixed by its UUID, so a restart puts it in the same lane. */
export function laneOf(repoUuid: string): number {
  return createHash('sha256').update(repoUuid).digest().readUInt32BE(0) % BACKFILL_LANES;
}

/** The lane a backfill job runs (its payload; a link queued before lanes existed is lane 0). */
export function jobLane(payload: unknown): number {
  const lane = (payload as { lane?: unknown } | null)?.lane;
  return typeof lane === 'number' && Number.isInteger(lane) && lane >= 0 && lane < BACKFILL_LANES ? lane : 0;
}

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

/**
 * Queues the next link of each backfill lane that has no link queued or running; with `from`,
 * only that lane's, whose running link is the caller's own job. True when one was queued.
 */
export async function ensureBackfillChain(store: JobStore, clientKey: string, from?: number): Promise<boolean> {
  const lanes = from === undefined ? Array.from({ length: BACKFILL_LANES }, (_, lane) => lane) : [from];
  let queued = false;
  for (const lane of lanes) {
    if ((await store.countUnfinishedJobs(clientKey, backfillGroup(clientKey, lane))) > (from === undefined ? 0 : 1)) continue;
    await store.acceptDelivery(
      { id: `gatehouse:coverage:${randomUUID()}`, clientKey, event: 'gatehouse:coverage:backfill' },
      { clientKey, type: BACKFILL_JOB_TYPE, payload: { lane }, group: backfillGroup(clientKey, lane) },
    );
    queued = true;
  }
  return queued;
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
