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

/** Event order for evaluation: introduced "0" first, then by version in the range's own order. */
export function sortEvents(ecosystem: Ecosystem, range: IndexedRange): OsvEvent[] {
  const compare = comparatorFor(ecosystem, range);
  const position = (e: OsvEvent): number => (e.introduced === '0' ? -1 : 0);
  return range.events
    .filter((e) => eventVersion(e) !== undefined)
    .sort((a, b) => position(a) - position(b) || compare(eventVersion(a) ?? '', eventVersion(b) ?? ''));
}

/**
 * The OSV evaluation: walk the range's events in version order (the index stores them
 * sorted, see sortEvents); `introduced` opens an affected span, `fixed` closes it at that
 * version, `last_affected` closes it after that version. `limit` events cap the whole range.
 */
export function inRange(version: string, ecosystem: Ecosystem, range: IndexedRange): boolean {
  const compare = comparatorFor(ecosystem, range);
  let affected = false;
  let limited = false;
  let belowLimit = false;
  for (const e of range.events) {
    if (e.introduced !== undefined) {
      if (e.introduced === '0' || compare(version, e.introduced) >= 0) affected = true;
    } else if (e.fixed !== undefined) {
      if (compare(version, e.fixed) >= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if (compare(version, e.last_affected) > 0) affected = false;
    } else if (e.limit !== undefined && e.limit !== '*') {
      limited = true;
      if (compare(version, e.limit) < 0) belowLimit = true;
    }
  }
  return affected && (!limited || belowLimit);
}

export function isAffected(version: string, ecosystem: Ecosystem, affected: IndexedAffected): boolean {
  if (affected.versions.includes(version)) return true;
  // OSV writes Go versions without the `v` that go.mod keeps.
  if (ecosystem === 'Go' && version.startsWith('v') && affected.versions.includes(version.slice(1))) return true;
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
