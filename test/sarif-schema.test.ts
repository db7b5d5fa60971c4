import type { Log } from 'sarif';
import { describe, expect, it } from 'vitest';
import { formatSarif } from '../src/scan/report/sarif.ts';
import type { ScanReport } from '../src/scan/report/report.ts';
import { PLANTED_SECRET, dependencyFinding, secretFinding } from './fixtures/cli/sample-findings.ts';
import { validateSarif as validate } from './fixtures/cli/sarif-validator.ts';

function sarifOf(report: ScanReport): Log {
  const log = JSON.parse(formatSarif(report)) as Log;
  const valid = validate(log);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
  return log;
}

const report: ScanReport = {
  findings: [
    secretFinding(),
    secretFinding({ line: 30, column: 3, fingerprint: 'second' }),
    secretFinding({ ruleId: 'pkcs12-file', description: 'PKCS#12 file', line: 0, column: 0, path: 'certs/my cert.p12' }),
    dependencyFinding(),
    dependencyFinding({ severity: 'low', ruleId: 'GHSA-29mw-wpgm-hmr9', advisory: 'GHSA-29mw-wpgm-hmr9', fixedVersion: undefined, url: undefined }),
  ],
  notices: ['No vulnerability database in ./data; run `gatehouse db update`.'],
};

describe('SARIF output', () => {
  it('the schema rejects a malformed log (so passing it means something)', () => {
    expect(validate({ version: '2.1.0', runs: [{ tool: {} }] })).toBe(false);
  });

  it('is valid SARIF 2.1.0, with and without results', () => {
    sarifOf(report);
    sarifOf({ findings: [], notices: [] });
  });

  it('declares each rule once and points every result at its rule', () => {
    const run = sarifOf(report).runs[0]!;
    expect(run.tool.driver.name).toBe('Gatehouse');
    const rules = run.tool.driver.rules ?? [];
    expect(rules.map((r) => r.id)).toEqual(['pkcs12-file', 'aws-access-key-id', 'GHSA-jf85-cpcp-j695', 'GHSA-29mw-wpgm-hmr9']);
    for (const result of run.results ?? []) expect(rules[result.ruleIndex!]?.id).toBe(result.ruleId);
    expect(rules[2]).toMatchObject({ helpUri: 'https://osv.dev/vulnerability/GHSA-jf85-cpcp-j695', properties: { 'security-severity': '9.5' } });
  });

  it('maps severity to level, keeps it as a property, and carries the fingerprint', () => {
    const results = sarifOf(report).runs[0]!.results ?? [];
    expect(results.map((r) => [r.ruleId, r.level, r.properties?.severity])).toEqual([
      ['pkcs12-file', 'error', 'high'],
      ['aws-access-key-id', 'error', 'high'],
      ['aws-access-key-id', 'error', 'high'],
      ['GHSA-jf85-cpcp-j695', 'error', 'critical'],
      ['GHSA-29mw-wpgm-hmr9', 'note', 'low'],
    ]);
    expect(results[1]?.partialFingerprints).toEqual({ 'gatehouse/v1': 'aws-access-key-id:config/settings.py:3f1c9a' });
  });

  it('gives line and column as a region, and no region for a whole-file finding', () => {
    const results = sarifOf(report).runs[0]!.results ?? [];
    const whole = results[0]!.locations![0]!.physicalLocation!;
    expect(whole.artifactLocation?.uri).toBe('certs/my%20cert.p12');
    expect(whole.region).toBeUndefined();
    expect(results[1]!.locations![0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'config/settings.py' },
      region: { startLine: 12, startColumn: 15 },
    });
  });

  it('reports notices as tool notifications and never contains the secret or its hash', () => {
    const text = formatSarif(report);
    const log = JSON.parse(text) as Log;
    expect(log.runs[0]!.invocations![0]!.toolExecutionNotifications![0]!.message.text).toContain('No vulnerability database');
    expect(text).not.toContain(PLANTED_SECRET);
    expect(text).not.toContain(secretFinding().secretHash);
  });
});
