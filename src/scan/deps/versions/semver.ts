import semver from 'semver';
import { compareNatural } from './natural.ts';

/** npm and crates.io: Semantic Versioning 2.0 (build metadata ignored). */
export function compareSemver(a: string, b: string): number {
  const va = semver.parse(a, { loose: true });
  const vb = semver.parse(b, { loose: true });
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
