import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExhaustedError, CallBudget } from '../src/core/budget.ts';
import { applyPolicyPatch, DEFAULT_POLICY, environmentOf, pathFilter, policyPatchSchema, resultOf } from '../src/core/policy.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import type { ScanRecord, StoredFinding } from '../src/store/results-types.ts';

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

describe('JournalResultsStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const scan = (commit: string, findings: StoredFinding[]): ScanRecord => ({
    clientKey: 'c', repoUuid: '{r}', commit, kind: 'pull_request', prId: 3, result: 'PASSED',
    counts: { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: '2026-01-01T00:00:00.000Z', findings,
  });

  it('keeps the latest value per key across a reopen, bodies read back from disk', async () => {
    const first = new JournalResultsStore({ dataDir: dir });
    await first.open();
    await first.putPolicy('c', { ...DEFAULT_POLICY, threshold: 'low' });
    await first.putScan(scan('a'.repeat(40), [finding('high', true)]));
    await first.putScan(scan('a'.repeat(40), [finding('low', false)]));
    await first.putTriage({ clientKey: 'c', repoUuid: '{r}', fingerprint: 'f1', status: 'ignored', by: 'u', at: 't', reason: 'x' });
    await first.putTriage({ clientKey: 'c', repoUuid: '{r}', fingerprint: 'f2', status: 'false_positive', by: 'u', at: 't', reason: 'y' });
    expect(await first.clearTriage('c', '{r}', 'f1')).toBe(true);
    expect(await first.clearTriage('c', '{r}', 'nope')).toBe(false);
    await first.close();

    const again = new JournalResultsStore({ dataDir: dir });
    await again.open();
    expect((await again.getPolicy('c'))?.threshold).toBe('low');
    expect(await again.getPolicy('other')).toBeUndefined();
    expect((await again.getScan('c', '{r}', 'a'.repeat(40), 'pull_request', 3))?.findings).toEqual([finding('low', false)]);
    expect(await again.getScan('c', '{r}', 'a'.repeat(40), 'push')).toBeUndefined();
    expect((await again.listTriage('c')).map((m) => m.fingerprint)).toEqual(['f2']);
    expect(await again.listTriage('someone-else')).toEqual([]);
    await again.close();
  });

  it('costs one appended record per write, not a rewrite of everything stored', async () => {
    const store = new JournalResultsStore({ dataDir: dir });
    await store.open();
    const { stat } = await import('node:fs/promises');
    const size = async () => (await stat(path.join(dir, 'results', '0000000001.jsonl'))).size;
    await store.putScan(scan('b'.repeat(40), [finding('high', true)]));
    const one = await size();
    for (let i = 0; i < 50; i++) await store.putScan(scan(i.toString(16).padStart(40, '0'), [finding('high', true)]));
    const before = await size();
    await store.putScan(scan('c'.repeat(40), [finding('high', true)]));
    expect((await size()) - before).toBe(one);
    await store.close();
  });
});
