import type { CoverageState, DiscoveryChange, RepositoryCoverage } from '../../store/coverage-types.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';
import { coverageOf } from './control.ts';
import { historyJobs } from './history-jobs.ts';

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
  /** History scans for secrets: asked for and not finished, and the newest of each repository. */
  history: HistoryView[];
}

export interface HistoryView {
  repoUuid: string;
  repository: string;
  /** `stopped`: a bound or a refusal ended it (see `reason`); what it scanned before is kept. */
  state: 'queued' | 'running' | 'done' | 'stopped';
  /** Head of the default branch the history was read from; null until one was. */
  commit: string | null;
  branch: string | null;
  findings: number;
  reason: string | null;
  notices: string[];
  /** When it was asked for (queued, running) or finished. */
  at: string;
  /** The in-history findings (the first MAX_HISTORY_FINDINGS), each with the commit that added it. */
  inHistory: { ruleId: string; severity: string; path: string; line: number; preview: string; commit: string; authorDate: string }[];
}

const MAX_HISTORY_FINDINGS = 50;

const MAX_ERRORS = 50;
const RECENT_CHANGES = 20;

export async function coverageView(results: ResultsStore, clientKey: string, now: Date, jobs?: Pick<Store, 'listJobs'>): Promise<CoverageView> {
  const state = await coverageOf(results, clientKey, now);
  const [repositories, entries] = await Promise.all([results.listRepositories(clientKey), results.listRepositoryCoverage(clientKey)]);
  const names = new Map(repositories.map((r) => [r.uuid, r.fullName]));
  const run = entries.filter((e) => state.runId !== null && e.runId === state.runId);
  const count = (status: RepositoryCoverage['status']) => run.filter((e) => e.status === status).length;
  const pending = count('pending');
  // A pending entry carries the counts of its previous scan: only this run's finished work counts.
  const finished = run.filter((e) => e.status !== 'pending');
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
    files: sum(finished, 'files'),
    bytes: sum(finished, 'bytes'),
    findings: sum(finished, 'findings'),
    errors,
    etaSeconds: eta(state, done, pending, now),
    recentChanges: state.changes.slice(-RECENT_CHANGES).reverse(),
    history: await historyView(results, clientKey, names, jobs),
  };
}

async function historyView(results: ResultsStore, clientKey: string, names: Map<string, string>, jobs?: Pick<Store, 'listJobs'>): Promise<HistoryView[]> {
  const open = jobs ? await historyJobs(jobs, clientKey) : [];
  const busy = new Set(open.map((j) => j.repoUuid));
  const views: HistoryView[] = open.map((j) => ({ repoUuid: j.repoUuid, repository: names.get(j.repoUuid) ?? j.repoUuid, state: j.state, commit: null, branch: null, findings: 0, reason: null, notices: [], at: j.since, inHistory: [] }));
  const finished = (await results.listScans(clientKey)).filter((s) => s.kind === 'history' && !busy.has(s.repoUuid));
  for (const summary of finished.sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
    const scan = await results.getScan(clientKey, summary.repoUuid, summary.commit, 'history');
    const findings = (scan?.findings ?? []).filter((f) => f.kind === 'secret' && f.triage === undefined);
    views.push({
      repoUuid: summary.repoUuid,
      repository: names.get(summary.repoUuid) ?? summary.repoUuid,
      state: summary.unfinished ? 'stopped' : 'done',
      commit: summary.commit || null,
      branch: summary.branch ?? null,
      findings: findings.length,
      reason: summary.unfinished ?? null,
      notices: summary.notices,
      at: summary.createdAt,
      inHistory: findings.slice(0, MAX_HISTORY_FINDINGS).flatMap((f) =>
        f.kind === 'secret' && f.history ? [{ ruleId: f.ruleId, severity: f.severity, path: f.path, line: f.line, preview: f.preview, commit: f.history.commit, authorDate: f.history.authorDate }] : [],
      ),
    });
  }
  return views;
}

function sum(entries: RepositoryCoverage[], field: 'files' | 'bytes' | 'findings'): number {
  return entries.reduce((total, e) => total + e[field], 0);
}

function eta(state: CoverageState, done: number, pending: number, now: Date): number | null {
  if (state.state !== 'running' || !state.runStartedAt || done === 0 || pending === 0) return null;
  const elapsed = (now.getTime() - Date.parse(state.runStartedAt)) / 1000;
  return Math.max(1, Math.round((elapsed / done) * pending));
}
