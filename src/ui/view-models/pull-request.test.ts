import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../core/policy.ts';
import type { ScanRecord, StoredFinding, TriageMark } from '../../store/results-types.ts';
import { verdictOf } from './pull-request.ts';

function finding(severity: StoredFinding['severity'], isNew = true, fingerprint = `fp-${severity}`): StoredFinding {
  return { kind: 'secret', ruleId: 'r', severity, path: 'a', line: 1, column: 1, fingerprint, message: 'm', description: 'd', preview: 'p', secretHash: 'h', isNew };
}

function scan(result: 'PASSED' | 'FAILED', findings: StoredFinding[]): ScanRecord {
  return {
    clientKey: 'c', repoUuid: 'r', commit: 'abc', kind: 'pull_request', prId: 1, result, durationMs: 1, skipped: [], notices: [], createdAt: 't', findings,
    counts: { critical: 0, high: 0, medium: 0, low: 0, new: findings.length, existing: 0, triaged: 0 },
  };
}

const mark = (fingerprint: string): TriageMark => ({ clientKey: 'c', repoUuid: 'r', fingerprint, status: 'ignored', by: 'u', at: 't', reason: 'x' });

describe('verdict', () => {
  it('says scanning while a job waits, and "not scanned" otherwise', () => {
    expect(verdictOf(undefined, true, DEFAULT_POLICY, new Map()).state).toBe('scanning');
    expect(verdictOf(undefined, false, DEFAULT_POLICY, new Map()).state).toBe('not_scanned');
  });

  it("gives the policy's reason: blocking new findings at or above the threshold", () => {
    const v = verdictOf(scan('FAILED', [finding('critical'), finding('high'), finding('medium'), finding('critical', false, 'old')]), false, DEFAULT_POLICY, new Map());
    expect(v).toMatchObject({ state: 'failed', staleNote: null });
    expect(v.reason).toBe('Failed: 2 new findings at severity high or above are not triaged (policy threshold: high).');
  });

  it('notes when triage since the scan means the next scan will pass', () => {
    const v = verdictOf(scan('FAILED', [finding('critical')]), false, DEFAULT_POLICY, new Map([['fp-critical', mark('fp-critical')]]));
    expect(v.staleNote).toMatch(/next scan of this pull request will pass/);
  });

  it('notes when a stricter policy since the scan means the next scan will fail', () => {
    const v = verdictOf(scan('PASSED', [finding('medium')]), false, { ...DEFAULT_POLICY, threshold: 'medium' }, new Map());
    expect(v.state).toBe('passed');
    expect(v.staleNote).toBe('Under the current policy 1 new finding would block: the next scan of this pull request will fail.');
  });
});
