import { globMatcher } from '../scan/repo-config/glob-matcher.ts';
import type { Policy } from '../store/results-types.ts';

/**
 * Policy globs are matched by globMatcher, never a RegExp: they come from an installation's
 * admin, and a backtracking pattern would stall the worker that every installation shares.
 */
export function pathFilter(policy: Pick<Policy, 'ignoredPaths'>): (path: string) => boolean {
  const ignored = policy.ignoredPaths.map(globMatcher);
  return (path) => !ignored.some((re) => re.test(path));
}
