import { createHash } from 'node:crypto';
import type { DependencyFinding, SecretFinding, Severity } from '../../src/scan/types.ts';
import type { ScanRecord, StoredFinding } from '../../src/store/results-types.ts';

/** Findings and scans as the pipeline stores them, for page tests and the render benchmark. */

function hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

export function secretFinding(overrides: Partial<SecretFinding> & { isNew?: boolean } = {}): StoredFinding {
  const path = overrides.path ?? 'src/config.js';
  const { isNew = true, ...rest } = overrides;
  return {
    kind: 'secret',
    ruleId: 'aws-access-key-id',
    severity: 'critical',
    path,
    line: 3,
    column: 12,
    fingerprint: hex(`secret:${path}:${overrides.line ?? 3}:${overrides.ruleId ?? 'aws'}`),
    message: 'AWS access key id',
    description: 'AWS access key ID',
    preview: 'AKIA************MPLE',
    secretHash: hex(`value:${path}`),
    ...rest,
    isNew,
  };
}

export function dependencyFinding(overrides: Partial<DependencyFinding> & { isNew?: boolean } = {}): StoredFinding {
  const { isNew = true, ...rest } = overrides;
  const pkg = overrides.package ?? 'lodash';
  return {
    kind: 'dependency',
    ruleId: 'GHSA-35jh-r3h4-6jhm',
    severity: 'high',
    path: 'package-lock.json',
    line: 40,
    fingerprint: hex(`dep:${pkg}:${overrides.version ?? '4.17.20'}:${overrides.advisory ?? 'GHSA-35jh-r3h4-6jhm'}`),
    message: 'lodash 4.17.20 is vulnerable',
    ecosystem: 'npm',
    package: pkg,
    version: '4.17.20',
    advisory: 'GHSA-35jh-r3h4-6jhm',
    aliases: ['CVE-2021-23337'],
    summary: 'Command injection in lodash',
    fixedVersion: '4.17.21',
    url: 'https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm',
    ...rest,
    isNew,
  };
}

/** `count` findings with a spread of kinds, severities and new/existing, deterministic. */
export function manyFindings(count: number): StoredFinding[] {
  const severities: Severity[] = ['critical', 'high', 'medium', 'low'];
  return Array.from({ length: count }, (_, i) =>
    i % 3 === 0
      ? dependencyFinding({ package: `pkg-${i}`, version: `1.0.${i}`, advisory: `GHSA-${i}`, severity: severities[i % 4]!, isNew: i % 5 !== 0 })
      : secretFinding({ path: `src/module-${i}/config.js`, line: i + 1, severity: severities[i % 4]!, isNew: i % 5 !== 0 }),
  );
}

export function scanOf(findings: StoredFinding[], meta: Pick<ScanRecord, 'clientKey' | 'repoUuid' | 'commit' | 'kind' | 'prId'> & Partial<ScanRecord>): ScanRecord {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 };
  for (const f of findings) {
    counts[f.severity]++;
    if (f.isNew) counts.new++;
    else counts.existing++;
  }
  return {
    result: findings.some((f) => f.isNew && (f.severity === 'critical' || f.severity === 'high')) ? 'FAILED' : 'PASSED',
    counts,
    durationMs: 840,
    skipped: [],
    notices: [],
    createdAt: '2026-03-01T11:58:00.000Z',
    findings,
    ...meta,
  };
}
