import type { Ecosystem } from '../../types.ts';
import { compareVersions } from '../versions/index.ts';
import { compareSemver } from '../versions/semver.ts';
import type { IndexedAffected, IndexedRange, OsvEvent } from './types.ts';

type Compare = (a: string, b: string) => number;

function comparatorFor(ecosystem: Ecosystem, range: IndexedRange): Compare {
  // SEMVER ranges are plain semver by definition (Go's drop the `v`); ECOSYSTEM ones use the registry's order.
  if (range.type === 'SEMVER') return (a, b) => compareSemver(a.replace(/^v/, ''), b.replace(/^v/, ''));
  return (a, b) => compareVersions(ecosystem, a, b);
}

function eventVersion(event: OsvEvent): string | undefined {
  return event.introduced ?? event.fixed ?? event.last_affected ?? event.limit;
}

/**
 * The OSV evaluation: walk the range's events in version order; `introduced` opens an
 * affected span, `fixed` closes it at that version, `last_affected` closes it after that
 * version. `limit` events cap the whole range.
 */
export function inRange(version: string, ecosystem: Ecosystem, range: IndexedRange): boolean {
  const compare = comparatorFor(ecosystem, range);
  const events = range.events.filter((e) => eventVersion(e) !== undefined);
  const position = (e: OsvEvent): number => (e.introduced === '0' ? -1 : 0);
  const sorted = [...events].sort((a, b) => {
    const pa = position(a);
    const pb = position(b);
    if (pa !== pb) return pa - pb;
    return compare(eventVersion(a) ?? '', eventVersion(b) ?? '');
  });
  let affected = false;
  for (const e of sorted) {
    if (e.introduced !== undefined) {
      if (e.introduced === '0' || compare(version, e.introduced) >= 0) affected = true;
    } else if (e.fixed !== undefined) {
      if (compare(version, e.fixed) >= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if (compare(version, e.last_affected) > 0) affected = false;
    }
  }
  const limits = events.flatMap((e) => (e.limit !== undefined && e.limit !== '*' ? [e.limit] : []));
  if (affected && limits.length > 0) affected = limits.some((l) => compare(version, l) < 0);
  return affected;
}

export function isAffected(version: string, ecosystem: Ecosystem, affected: IndexedAffected): boolean {
  if (affected.versions.includes(version)) return true;
  return affected.ranges.some((r) => inRange(version, ecosystem, r));
}

/** `fixed` versions later than the installed one, for suggesting an upgrade. */
export function fixesAbove(version: string, ecosystem: Ecosystem, affected: IndexedAffected): string[] {
  const out: string[] = [];
  for (const range of affected.ranges) {
    const compare = comparatorFor(ecosystem, range);
    for (const e of range.events) if (e.fixed !== undefined && compare(e.fixed, version) > 0) out.push(e.fixed);
  }
  return out;
}
