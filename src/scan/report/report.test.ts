import { describe, expect, it } from 'vitest';
import { dependencyFinding, secretFinding } from '../../../test/fixtures/cli/sample-findings.ts';
import { formatJson, formatReport, formatText } from './index.ts';

describe('formatJson', () => {
  it('writes the CONTRACT shape, sorted by path and line, with notices', () => {
    const out = JSON.parse(
      formatJson({
        findings: [secretFinding({ path: 'b.env', line: 3 }), dependencyFinding(), secretFinding({ path: 'b.env', line: 1 })],
        notices: ['no vulnerability database'],
      }),
    );
    expect(Object.keys(out)).toEqual(['findings', 'notices']);
    expect(out.notices).toEqual(['no vulnerability database']);
    expect(out.findings.map((f: { path: string; line: number }) => `${f.path}:${f.line}`)).toEqual(['b.env:1', 'b.env:3', 'package-lock.json:42']);
    expect(out.findings[0]).toEqual({
      kind: 'secret',
      ruleId: 'aws-access-key-id',
      severity: 'high',
      path: 'b.env',
      line: 1,
      fingerprint: 'aws-access-key-id:config/settings.py:3f1c9a',
      message: 'AWS access key ID found (AKIA************TZ7X)',
      column: 15,
      description: 'AWS access key ID',
      preview: 'AKIA************TZ7X',
    });
    expect(out.findings[2]).toMatchObject({
      kind: 'dependency',
      ecosystem: 'npm',
      package: 'lodash',
      version: '4.17.11',
      advisory: 'GHSA-jf85-cpcp-j695',
      fixedVersion: '4.17.12',
    });
  });

  it('leaves out the secret hash and a fixed version that does not exist', () => {
    const text = formatJson({ findings: [secretFinding(), dependencyFinding({ fixedVersion: undefined })], notices: [] });
    expect(text).not.toContain('secretHash');
    expect(text).not.toContain(secretFinding().secretHash);
    expect(JSON.parse(text).findings[1]).not.toHaveProperty('fixedVersion');
  });

  it('writes an empty list when there is nothing to report', () => {
    expect(JSON.parse(formatJson({ findings: [], notices: [] }))).toEqual({ findings: [], notices: [] });
  });
});

describe('formatText', () => {
  const report = { findings: [dependencyFinding(), secretFinding(), secretFinding({ line: 0, column: 0, ruleId: 'pkcs12-file' })], notices: [] };

  it('groups findings under their file and ends with a summary', () => {
    const text = formatText(report, { color: false });
    expect(text).toBe(
      [
        'config/settings.py',
        '  file     HIGH      pkcs12-file  AWS access key ID: AKIA************TZ7X',
        '  12:15    HIGH      aws-access-key-id  AWS access key ID: AKIA************TZ7X',
        '',
        'package-lock.json',
        '  42       CRITICAL  GHSA-jf85-cpcp-j695  lodash 4.17.11: Prototype Pollution in lodash; fixed in 4.17.12',
        '',
        '3 findings (1 critical, 2 high) in 2 files.',
        '',
      ].join('\n'),
    );
  });

  it('uses ANSI colours only when asked to', () => {
    expect(formatText(report, { color: false })).not.toContain('\x1b[');
    expect(formatText(report, { color: true })).toContain('\x1b[1;31mCRITICAL');
  });

  it('says so when there are no findings', () => {
    expect(formatText({ findings: [], notices: [] }, { color: false })).toBe('No findings.\n');
  });

  it('neutralises terminal escape sequences hidden in a file name', () => {
    const text = formatText({ findings: [secretFinding({ path: 'evil\x1b]0;pwned\x07.env' })], notices: [] }, { color: false });
    expect(text).not.toContain('\x1b');
    expect(text).toContain('evil?]0;pwned?.env');
  });
});

describe('formatReport', () => {
  it('dispatches on the format name', () => {
    const report = { findings: [secretFinding()], notices: [] };
    expect(JSON.parse(formatReport('json', report))).toHaveProperty('findings');
    expect(JSON.parse(formatReport('sarif', report))).toHaveProperty('version', '2.1.0');
    expect(formatReport('text', report)).toContain('config/settings.py');
  });
});
