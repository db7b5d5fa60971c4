import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, policyPatchSchema } from '../src/core/policy.ts';
import { globToRegExp } from './helpers/glob-reference.ts';
import { evaluateInWorker } from './helpers/hang-guard.ts';
import { globMatcher } from '../src/scan/repo-config/glob-matcher.ts';
import type { Policy } from '../src/store/results-types.ts';

/**
 * Policy globs come from one installation's admin and run in the worker every tenant shares.
 * Compiled to a backtracking RegExp, `*a*a*a*a*a*a*a*a*a*a*b` against a name of a few dozen
 * `a`s blocks the event loop for minutes: every other tenant's webhooks and pages wait.
 * The guard below is a hang guard, not a timing assertion.
 */

const EVIL_GLOB = '*a*a*a*a*a*a*a*a*a*a*a*a*b';
const LONG_NAME = 'a'.repeat(4_000);
/** Generous: the safe matcher needs milliseconds; the backtracking one would need far longer than a day. */
const HANG_GUARD_MS = 30_000;

const policyWith = (over: Partial<Policy>): Policy => ({ ...structuredClone(DEFAULT_POLICY), ...over });

/** Runs `expression` (with `environmentOf`, `pathFilter`, `policy` and `name` in scope) in a worker thread under the hang guard. */
async function inWorker(policy: Policy, name: string, expression: string): Promise<unknown> {
  return evaluateInWorker({ [new URL('../src/core/policy.ts', import.meta.url).href]: ['environmentOf', 'pathFilter'] }, expression, { policy, name }, HANG_GUARD_MS);
}

describe('policy globs cannot stall the shared worker', () => {
  it('ignoredPaths: a pathological glob against a long path answers', { timeout: 60_000 }, async () => {
    const policy = policyWith({ ignoredPaths: [EVIL_GLOB] });
    expect(await inWorker(policy, `src/${LONG_NAME}`, '[pathFilter(policy)(name), pathFilter(policy)("src/" + "a".repeat(12) + "b")]')).toEqual([true, false]);
  });

  it('environments: a pathological branch glob against a long branch name answers', { timeout: 60_000 }, async () => {
    const policy = policyWith({ environments: [{ branch: EVIL_GLOB, environment: 'prod' }] });
    expect(await inWorker(policy, LONG_NAME, '[environmentOf(policy, name), environmentOf(policy, "a".repeat(12) + "b")]')).toEqual([null, 'prod']);
  });

  it('refuses globs whose braces multiply beyond the cap', () => {
    const bomb = '{a,b}'.repeat(12);
    expect(policyPatchSchema.safeParse({ ignoredPaths: [bomb] }).success).toBe(false);
  });
});

describe('globMatcher agrees with globToRegExp', () => {
  const globs = ['*.pem', '/docs/*.md', 'test/**/fixtures/**', 'src/*.ts', 'file?.txt', '*.{yml,yaml}', '[ab].txt', '[!ab].txt', 'fixtures/', 'a.b', '{main,master}', '/release/*', 'a/**', '**/x', 'x/**/y/*.{js,ts}', '{a,{b,c}d}e', '*.[ch]', 'a[', './lib/**', '**'];
  const paths = ['a/b/key.pem', 'key.pem.txt', 'docs/a.md', 'x/docs/a.md', 'test/a/b/fixtures/x.json', 'test/fixtures/x.json', 'src/a/b.ts', 'src/b.ts', 'file1.txt', 'ci/x.yaml', 'b.txt', 'c.txt', 'fixtures/deep/file', 'axb', 'a.b', 'main', 'master', 'feature/main', 'release/1.0', 'release/1.0/x', 'a', 'a/b/c', 'q/x', 'x', 'x/y/z.ts', 'x/a/b/y/z.js', 'ae', 'bde', 'cde', 'de', 'm.c', 'm.h', 'a[', 'lib/a/b', ''];
  it('on every pair of a sample of globs and paths', () => {
    for (const glob of globs) {
      const re = globToRegExp(glob);
      const matcher = globMatcher(glob);
      for (const path of paths) expect([glob, path, matcher.test(path)]).toEqual([glob, path, re.test(path)]);
    }
  });
});
