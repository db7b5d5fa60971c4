import type { CoverageView } from '../../core/coverage/progress.ts';
import type { ApiTokenRecord } from '../../store/coverage-types.ts';

/**
 * The settings page's "Coverage" and "API tokens" sections as first rendered. The page
 * then keeps the coverage figures current itself (static/ui/settings.js polls
 * GET /api/coverage and writes the same fields), so the wording here and there must match.
 */

export const STATE_LABEL: Record<CoverageView['state'], string> = {
  idle: 'Not started',
  discovering: 'Discovering repositories',
  running: 'Backfilling',
  paused: 'Paused',
  done: 'Done',
};

export interface CoverageSection {
  state: CoverageView['state'];
  stateLabel: string;
  autoBackfill: boolean;
  done: number;
  total: number;
  percent: number;
  known: number;
  files: number;
  megabytes: string;
  findings: number;
  failed: number;
  skipped: number;
  eta: string;
  lastDiscoveryAt: string | null;
  errors: CoverageView['errors'];
}

export function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** "about 3 min", "about 2 h 5 min"; '' when there is no estimate. */
export function etaText(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 60) return 'less than a minute';
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `about ${minutes} min` : `about ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function coverageSection(view: CoverageView): CoverageSection {
  const { done, total } = view.repositories;
  return {
    state: view.state,
    stateLabel: STATE_LABEL[view.state],
    autoBackfill: view.autoBackfill,
    done,
    total,
    percent: total === 0 ? 0 : Math.floor((done / total) * 100),
    known: view.repositories.known,
    files: view.files,
    megabytes: megabytes(view.bytes),
    findings: view.findings,
    failed: view.repositories.failed,
    skipped: view.repositories.skipped,
    eta: etaText(view.etaSeconds),
    lastDiscoveryAt: view.lastDiscoveryAt,
    errors: view.errors,
  };
}

export interface TokenRow {
  id: string;
  name: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export function tokenRows(tokens: ApiTokenRecord[]): TokenRow[] {
  return tokens
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map(({ id, name, createdBy, createdAt, lastUsedAt }) => ({ id, name, createdBy, createdAt, lastUsedAt }));
}
