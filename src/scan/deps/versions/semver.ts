import semver, { type SemVer } from 'semver';
import { compareNatural } from './natural.ts';

/**
 * Matching compares the same few thousand version strings over and over (every advisory's
 * events against every installed version), and parsing dominates a semver comparison, so
 * parsed versions are kept; the cache is dropped whole when it grows past its bound.
 */
const parsed = new Map<string, SemVer | null>();
const CACHE_LIMIT = 50_000;

function parse(version: string): SemVer | null {
  let hit = parsed.get(version);
  if (hit === undefined) {
    if (parsed.size >= CACHE_LIMIT) parsed.clear();
    hit = semver.parse(version, { loose: true });
    parsed.set(version, hit);
  }
  return hit;
}

/** npm and crates.io: Semantic Versioning 2.0 (build metadata ignored). */
export function compareSemver(a: string, b: string): number {
  const va = parse(a);
  const vb = parse(b);
  if (va && vb) return va.compare(vb);
  return compareNatural(a, b);
}

/**
 * Go modules: semver with a `v` prefix. Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`)
 * are prereleases and `+incompatible` is build metadata, so plain semver orders both correctly.
 */
export function compareGo(a: string, b: string): number {
  return compareSemver(a.replace(/^v/, ''), b.replace(/^v/, ''));
}
