import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError, CallBudget } from '../src/core/budget.ts';
import { applyPolicyPatch, DEFAULT_POLICY, environmentOf, pathFilter, policyPatchSchema, resultOf } from '../src/core/policy.ts';
import type { StoredFinding } from '../src/store/results-types.ts';

const finding = (severity: StoredFinding['severity'], isNew: boolean, triaged = false): StoredFinding => ({
  kind: 'secret', ruleId: 'r', severity, path: 'a', line: 1, fingerprint: `f-${severity}-${isNew}`, message: 'm', description: 'd', preview: 'p***', secretHash: 'h', column: 1, isNew,
  ...(triaged ? { triage: { status: 'ignored' as const, by: 'u', at: '2026-01-01T00:00:00Z', reason: 'why' } } : {}),
});

describe('policy', () => {
  it('fails on new, untriaged findings at or above the threshold only', () => {
    expect(resultOf(DEFAULT_POLICY, [finding('critical', false), finding('medium', true)])).toBe('PASSED');
    expect(resultOf(DEFAULT_POLICY, [finding('high', true)])).toBe('FAILED');
    expect(resultOf(DEFAULT_POLICY, [finding('critical', true, true)])).toBe('PASSED');
    expect(resultOf({ ...DEFAULT_POLICY, threshold: 'medium' }, [finding('medium', true)])).toBe('FAILED');
  });

  it('maps branches to environments by whole-name globs, first match wins', () => {
    const policy = applyPolicyPatch(DEFAULT_POLICY, { environments: [{ branch: 'main', environment: 'production' }, { branch: 'release/*', environment: 'staging' }] });
    expect(environmentOf(policy, 'main')).toBe('production');
    expect(environmentOf(policy, 'feature/main')).toBeNull();
    expect(environmentOf(policy, 'release/1.2')).toBe('staging');
    expect(environmentOf(DEFAULT_POLICY, 'master')).toBe('production');
  });

  it('ignores paths by glob and validates patches with readable errors', () => {
    const keep = pathFilter(applyPolicyPatch(DEFAULT_POLICY, { ignoredPaths: ['test/fixtures/**', '*.min.js'] }));
    expect([keep('test/fixtures/a/b.json'), keep('web/app.min.js'), keep('src/app.js')]).toEqual([false, false, true]);
    expect(policyPatchSchema.safeParse({ threshold: 'severe' }).success).toBe(false);
    expect(policyPatchSchema.safeParse({ unknown: true }).success).toBe(false);
    expect(policyPatchSchema.safeParse({ scanners: { secrets: false } }).success).toBe(true);
    expect(applyPolicyPatch(DEFAULT_POLICY, { scanners: { secrets: false } }).scanners).toEqual({ secrets: false, dependencies: true });
  });
});

describe('CallBudget', () => {
  it('allows a burst, then refills at the hourly rate, per installation', () => {
    let now = 0;
    const budget = new CallBudget({ burst: 2, perHour: 3_600, now: () => now });
    budget.take('a');
    budget.take('a');
    expect(() => budget.take('a')).toThrow(BudgetExhaustedError);
    budget.take('b');
    expect(() => budget.take('a')).toThrow(expect.objectContaining({ retryAfterMs: 1_000 }));
    now += 1_000;
    budget.take('a');
    expect(budget.remaining('a')).toBe(0);
  });
});

describe('WORKER_CONCURRENCY', () => {
  it('defaults to 4 and refuses what is not a whole number from 1 to 64', async () => {
    const { loadConfig } = await import('../src/config.ts');
    const base = { DATA_DIR: '/tmp/gatehouse-config-test', ENCRYPTION_KEY: 'a'.repeat(64) };
    const ok = loadConfig(base);
    expect(ok.ok && ok.config.workerConcurrency).toBe(4);
    const set = loadConfig({ ...base, WORKER_CONCURRENCY: '12' });
    expect(set.ok && set.config.workerConcurrency).toBe(12);
    for (const bad of ['0', '65', '2.5', 'many']) {
      const result = loadConfig({ ...base, WORKER_CONCURRENCY: bad });
      expect(result.ok ? [] : result.problems, bad).toEqual([`WORKER_CONCURRENCY: expected a whole number of jobs between 1 and 64 (got "${bad}")`]);
    }
  });
});
