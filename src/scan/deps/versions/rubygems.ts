import { eq, gt, valid } from '@renovatebot/ruby-semver';
import { compareNatural } from './natural.ts';

/** RubyGems: Gem::Version ordering, where any letter segment marks a prerelease (`1.0.0.pre < 1.0.0`). */
export function compareRubygems(a: string, b: string): number {
  if (valid(a) && valid(b)) return eq(a, b) ? 0 : gt(a, b) ? 1 : -1;
  return compareNatural(a, b);
}
