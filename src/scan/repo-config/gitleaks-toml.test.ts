import { describe, expect, it } from 'vitest';
import { SecretScanner } from '../secrets/engine.ts';
import { loadRepoConfig } from './index.ts';
import { parseGitleaksToml } from './gitleaks-toml.ts';

const TOML = String.raw`
title = "acme"

[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''(?i)\b(?P<tok>acme_[[:alnum:]]{20})\b'''
secretGroup = 1
keywords = ["ACME_"]
entropy = 3.0
  [[rules.allowlists]]
  regexes = ['''^acme_test''']

[[rules]]
id = "internal-host-creds"
regex = '''https://[a-z]+:([^@\s]{8,40})@internal\.example'''
keywords = ["internal.example"]

[[rules]]
id = "keystore-file"
path = '''(?i)\.jks$'''

[[rules]]
id = "unicode"
regex = '''\p{Greek}+'''

[[rules]]
id = "backreference"
regex = '''(a)\1'''

[[rules]]
id = "bad-group"
regex = '''acme'''
secretGroup = 2

[[rules]]
description = "no id"
regex = "x"

[[rules]]
id = "some-builtin"
  [rules.allowlist]
  paths = ['''^fixtures/''']

[allowlist]
description = "global"
paths = ['''(?i)^docs/.*\.MD$''']
regexes = ['''^dummy''']
commits = ["abc"]
`;

describe('parseGitleaksToml', () => {
  it('translates rules and reports the ones it cannot use without failing the rest', () => {
    const result = parseGitleaksToml(TOML);
    expect(result.rules.map((r) => r.id)).toEqual(['acme-token', 'internal-host-creds', 'keystore-file', 'unicode']);
    // RE2 patterns are kept as written: they run on an RE2 engine.
    expect(result.rules[0]).toMatchObject({ regex: String.raw`(?i)\b(?P<tok>acme_[[:alnum:]]{20})\b`, keywords: ['acme_'], secretGroup: 1, entropy: 3, severity: 'high', description: 'ACME token' });
    expect(result.rules[1]).toMatchObject({ description: 'internal-host-creds', secretGroup: 'first' });
    expect(result.disabledRules).toEqual(['generic-api-key']);
    expect(result.problems).toEqual([
      expect.stringMatching(/allowlists\[0\]: commits are not used/),
      expect.stringMatching(/rules\[4\] \(backreference\): regex: .*invalid escape sequence.*skipped/),
      expect.stringMatching(/rules\[5\] \(bad-group\): secretGroup 2 but the regex has 0 groups/),
      expect.stringMatching(/rules\[6\]\.id: /),
    ]);
    expect(result.allowlists).toEqual([
      expect.objectContaining({ description: 'global', regexes: ['^dummy'] }),
      expect.objectContaining({ paths: ['^fixtures/'], ruleIds: ['some-builtin'] }),
    ]);
  });

  it('reports invalid TOML and wrong types as problems', () => {
    expect(parseGitleaksToml('[[rules]\nid=').problems[0]).toMatch(/^\.gitleaks\.toml: not valid TOML/);
    expect(parseGitleaksToml('rules = "x"').problems).toEqual([expect.stringMatching(/^\.gitleaks\.toml\.rules: /)]);
  });

  it('drives the scanner: translated regexes, allow-lists, path rules and first-group secrets', () => {
    const { config } = loadRepoConfig({ gitleaksToml: TOML });
    const scanner = new SecretScanner({ rules: [], config });
    const text = ['x = ACME_Zq8RkT2mWv9LpX4nB7cY', 'y = acme_testQ7zR2xK9mW4pL8vN', 'url = https://svc:Pq9zLm2XwR@internal.example/api', 'γράμμα'].join('\n');
    const findings = scanner.scanText('src/app.py', text);
    expect(findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([
      ['acme-token', 1, 5],
      ['internal-host-creds', 3, 19],
      ['unicode', 4, 1],
    ]);
    expect(scanner.scanText('keys/server.JKS', '')).toMatchObject([{ ruleId: 'keystore-file', line: 0 }]);
    expect(scanner.shouldSkipPath('docs/readme.md')).toBe(true);
    expect(scanner.scanText('src/a.py', 'x = ACME_dummyqqqqqqqqqqqqqqq')).toEqual([]);
  });
});
