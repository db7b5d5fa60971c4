import type { Severity } from '../../types.ts';
import { cvss3BaseScore, severityFromScore } from './cvss.ts';
import type { OsvRecord, OsvSeverity } from './types.ts';

const DATABASE_LEVELS: Record<string, Severity> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MODERATE: 'medium',
  MEDIUM: 'medium',
  LOW: 'low',
};

function databaseSeverity(specific: Record<string, unknown> | undefined): Severity | undefined {
  const value = specific?.severity;
  return typeof value === 'string' ? DATABASE_LEVELS[value.trim().toUpperCase()] : undefined;
}

/**
 * A coarse reading of a CVSS v4 vector, used only when the record carries no v3 vector and
 * no severity of its own: the v4 score needs FIRST's lookup tables of macro-vectors, which
 * would be a large piece of data to carry for the few records that have v4 alone.
 */
export function approximateCvss4(vector: string): Severity | undefined {
  if (!vector.startsWith('CVSS:4.0/')) return undefined;
  const m = new Map(vector.split('/').slice(1).map((p) => p.split(':') as [string, string]));
  const vulnerable = ['VC', 'VI', 'VA'].map((k) => m.get(k));
  const subsequent = ['SC', 'SI', 'SA'].map((k) => m.get(k));
  const highImpact = vulnerable.includes('H');
  const anyImpact = highImpact || vulnerable.includes('L') || subsequent.includes('H') || subsequent.includes('L');
  if (!anyImpact) return 'low';
  const remote = m.get('AV') === 'N';
  const easy = m.get('AC') === 'L' && m.get('AT') === 'N' && m.get('PR') === 'N' && m.get('UI') === 'N';
  if (highImpact && remote && easy) return 'critical';
  if (highImpact && (remote || m.get('AV') === 'A')) return 'high';
  return 'medium';
}

function vectors(record: OsvRecord): OsvSeverity[] {
  return [...(record.severity ?? []), ...(record.affected ?? []).flatMap((a) => a.severity ?? [])];
}

/**
 * Order of trust: a CVSS v3 vector scored here; then the database's own rating (GitHub's
 * LOW/MODERATE/HIGH/CRITICAL); then an approximate reading of a v4 vector; else medium.
 */
export function recordSeverity(record: OsvRecord): Severity {
  let best: number | undefined;
  for (const s of vectors(record)) {
    if (s.type !== 'CVSS_V3' || typeof s.score !== 'string') continue;
    const score = cvss3BaseScore(s.score);
    if (score !== undefined && (best === undefined || score > best)) best = score;
  }
  if (best !== undefined) return severityFromScore(best);
  const own = databaseSeverity(record.database_specific) ?? (record.affected ?? []).map((a) => databaseSeverity(a.database_specific)).find(Boolean);
  if (own) return own;
  for (const s of vectors(record)) {
    if (s.type === 'CVSS_V4' && typeof s.score === 'string') {
      const approx = approximateCvss4(s.score);
      if (approx) return approx;
    }
  }
  return 'medium';
}
