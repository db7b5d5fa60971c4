import type { Ecosystem } from '../../types.ts';
import { compareComposer } from './composer.ts';
import { compareMaven } from './maven.ts';
import { comparePypi } from './pypi.ts';
import { compareRubygems } from './rubygems.ts';
import { compareGo, compareSemver } from './semver.ts';

const COMPARATORS: Record<Ecosystem, (a: string, b: string) => number> = {
  npm: compareSemver,
  'crates.io': compareSemver,
  Go: compareGo,
  PyPI: comparePypi,
  RubyGems: compareRubygems,
  Maven: compareMaven,
  Packagist: compareComposer,
  // Dart, Elixir and Swift packages are versioned with Semantic Versioning.
  Pub: compareSemver,
  Hex: compareSemver,
  SwiftURL: compareSemver,
  // NuGet: SemVer 2.0 plus a legacy fourth number (`4.0.0.1`), which the natural fallback orders.
  NuGet: compareSemver,
};

/** Negative when a sorts before b in the ecosystem's own version order, 0 when equal, positive after. */
export function compareVersions(ecosystem: Ecosystem, a: string, b: string): number {
  return Math.sign(COMPARATORS[ecosystem](a, b));
}
