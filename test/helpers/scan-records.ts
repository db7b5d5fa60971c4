import type { SecretFinding } from '../../src/scan/types.ts';
import type { ScanRecord, StoredFinding } from '../../src/store/results-types.ts';

/** A stored, new, critical AWS key finding (masked, as the store holds it); override what a test is about. */
export function secretFinding(overrides: Partial<SecretFinding & { isNew: boolean }> = {}): StoredFinding {
  return {
    kind: 'secret',
    ruleId: 'aws-access-key-id',
    severity: 'critical',
    path: 'src/config.js',
    line: 3,
    column: 1,
    fingerprint: 'fp000001',
    message: 'AWS access key id',
    description: 'AWS access key id',
    preview: 'AKIA************BN2W',
    secretHash: 'a'.repeat(64),
    isNew: true,
    ...overrides,
  };
}

/** A failed pull-request scan holding `findings`, all counted as new. */
export function pullRequestScan(findings: StoredFinding[], overrides: Partial<ScanRecord> = {}): ScanRecord {
  return {
    clientKey: 'c',
    repoUuid: '{r}',
    commit: 'f'.repeat(40),
    kind: 'pull_request',
    prId: 1,
    result: 'FAILED',
    counts: { critical: 0, high: 0, medium: 0, low: 0, new: findings.length, existing: 0, triaged: 0 },
    durationMs: 1,
    skipped: [],
    notices: [],
    createdAt: new Date(0).toISOString(),
    findings,
    ...overrides,
  };
}
