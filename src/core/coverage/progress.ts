import type { CoverageState, DiscoveryChange, RepositoryCoverage } from '../../store/coverage-types.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import { coverageOf } from './control.ts';

/**
 * What `GET /api/coverage` answers and the settings page shows: the state, the current
 * run's progress (repositories done of total, files and bytes read, findings, failures with
 * their reasons) and an estimate of the time left from the run's pace so far.
 */

export interface CoverageView {
  state: CoverageState['state'];
  autoBackfill: boolean;
  lastDiscoveryAt: string | null;
  run: { id: string; startedAt: string | null; finishedAt: string | null } | null;
  repositories: { known: number; total: number; scanned: number; failed: number; skipped: number; pending: number; done: number };
  files: number;
  bytes: number;
  findings: number;
  errors: { repository: string; reason: string; at: string }[];
  /** Seconds left at the pace so far; null before the first repository is done or once nothing is pending. */
  etaSeconds: number | null;
  recentChanges: DiscoveryChange[];
}

const MAX_ERRORS = 50;
const RECENT_CHANGES = 20;

export async function coverageView(results: ResultsStore, clientKey: string, now: Date): Promise<CoverageView> {
  const state = await coverageOf(results, clientKey, now);
  const [repositories, entries] = await Promise.all([results.listRepositories(clientKey), results.listRepositoryCoverage(clientKey)]);
  const names = new Map(repositories.map((r) => [r.uuid, r.fullName]));
  const run = entries.filter((e) => state.runId !== null && e.runId === state.runId);
  const count = (status: RepositoryCoverage['status']) => run.filter((e) => e.status === status).length;
  const pending = count('pending');
  const done = run.length - pending;
  const errors = run
    .filter((e) => e.status === 'failed')
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
    .slice(0, MAX_ERRORS)
    .map((e) => ({ repository: names.get(e.repoUuid) ?? e.repoUuid, reason: e.reason ?? 'unknown', at: e.updatedAt }));
  return {
    state: state.state,
    autoBackfill: state.autoBackfill,
    lastDiscoveryAt: state.lastDiscoveryAt,
    run: state.runId === null ? null : { id: state.runId, startedAt: state.runStartedAt, finishedAt: state.runFinishedAt },
    repositories: {
      known: repositories.filter((r) => r.deletedAt === null).length,
      total: run.length,
      scanned: count('scanned'),
      failed: count('failed'),
      skipped: count('skipped'),
      pending,
      done,
    },
    files: sum(run, 'files'),
    bytes: sum(run, 'bytes'),
    findings: sum(run, 'findings'),
    errors,
    etaSeconds: eta(state, done, pending, now),
    recentChanges: state.changes.slice(-RECENT_CHANGES).reverse(),
  };
}

function sum(entries: RepositoryCoverage[], field: 'files' | 'bytes' | 'findings'): number {
  return entries.reduce((total, e) => total + e[field], 0);
}

function eta(state: CoverageState, done: number, pending: number, now: Date): number | null {
  if (state.state !== 'running' || !state.runStartedAt || done === 0 || pending === 0) return null;
  const elapsed = (now.getTime() - Date.parse(state.runStartedAt)) / 1000;
  return Math.max(1, Math.round((elapsed / done) * pending));
}
