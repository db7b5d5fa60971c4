import { ECOSYSTEMS, type Ecosystem } from '../../types.ts';
import { sortEvents } from './affected.ts';
import { normalizePackageName } from './names.ts';
import { recordSeverity } from './severity.ts';
import type { IndexedAdvisory, IndexedAffected, IndexedRange, OsvEvent, OsvRecord } from './types.ts';

export function isEcosystem(value: string): value is Ecosystem {
  return (ECOSYSTEMS as readonly string[]).includes(value);
}

/**
 * Cuts an OSV record down to what matching needs, split by the packages of one ecosystem
 * it names. Returns an empty map for withdrawn records and records with nothing matchable.
 */
export function indexRecord(record: OsvRecord, ecosystem: Ecosystem): Map<string, IndexedAdvisory> {
  const out = new Map<string, IndexedAdvisory>();
  if (record.withdrawn || typeof record.id !== 'string') return out;
  let severity: IndexedAdvisory['severity'] | undefined;
  for (const affected of record.affected ?? []) {
    const pkg = affected.package;
    // OSV may qualify an ecosystem (`Debian:12`); the ones Gatehouse reads are never qualified.
    if (!pkg?.name || pkg.ecosystem !== ecosystem) continue;
    const ranges: IndexedRange[] = [];
    for (const range of affected.ranges ?? []) {
      if ((range.type === 'SEMVER' || range.type === 'ECOSYSTEM') && Array.isArray(range.events) && range.events.length > 0) {
        const cleaned: IndexedRange = { type: range.type, events: range.events.map(cleanEvent).filter((e) => Object.keys(e).length > 0) };
        // Sorted once here so that matching, which runs far more often, never sorts.
        ranges.push({ type: range.type, events: sortEvents(ecosystem, cleaned) });
      }
    }
    const versions = (affected.versions ?? []).filter((v): v is string => typeof v === 'string');
    if (ranges.length === 0 && versions.length === 0) continue;
    const entry: IndexedAffected = { ranges, versions };
    const key = normalizePackageName(ecosystem, pkg.name);
    const existing = out.get(key);
    if (existing) {
      existing.affected.push(entry);
      continue;
    }
    severity ??= recordSeverity(record);
    out.set(key, {
      id: record.id,
      aliases: (record.aliases ?? []).filter((a) => typeof a === 'string' && a !== record.id),
      summary: summaryOf(record),
      severity,
      modified: record.modified ?? '',
      affected: [entry],
    });
  }
  return out;
}

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

/** Keeps the one string-valued event field; records from the wild occasionally carry extras. */
function cleanEvent(event: OsvEvent): OsvEvent {
  const out: OsvEvent = {};
  for (const key of EVENT_KEYS) {
    const value: unknown = event[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

function summaryOf(record: OsvRecord): string {
  if (record.summary?.trim()) return record.summary.trim();
  const firstLine = (record.details ?? '').trim().split(/\r?\n/)[0] ?? '';
  return firstLine.length > 200 ? `${firstLine.slice(0, 197)}...` : firstLine;
}
