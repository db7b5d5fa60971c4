import { describe, expect, it } from 'vitest';
import { parseGatehouseYml } from './gatehouse-yml.ts';

describe('parseGatehouseYml', () => {
  it('reads disables, rules, ignore paths and severity overrides', () => {
    const result = parseGatehouseYml(`
ignorePaths: ["test/fixtures/**"]
secrets:
  disable: [generic-password]
  ignorePaths: ["docs/**"]
  severity:
    slack-webhook-url: medium
  rules:
    - id: acme-api-key
      description: ACME API key
      keywords: [ACME_]
      regex: '\\b(acme_[a-f0-9]{32})\\b'
      secretGroup: 1
      allowlist:
        stopwords: [sample]
`);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({
      disabledRules: ['generic-password'],
      ignorePaths: ['test/fixtures/**', 'docs/**'],
      severityOverrides: { 'slack-webhook-url': 'medium' },
      rules: [{ id: 'acme-api-key', severity: 'high', keywords: ['acme_'], regex: '\\b(acme_[a-f0-9]{32})\\b', secretGroup: 1, allowlists: [{ stopwords: ['sample'] }] }],
    });
  });

  it('keeps good rules and explains bad ones', () => {
    const result = parseGatehouseYml(`
secrets:
  rules:
    - id: good-one
      description: fine
      regex: 'good_[0-9]{8}'
    - id: Bad_Id
      description: x
      regex: 'x'
    - id: no-pattern
      description: neither regex nor path
    - id: lookahead
      description: needs backtracking
      regex: 'key(?=[0-9]{8})'
    - id: broken
      description: broken
      regex: '(unclosed'
    - id: extra
      description: unknown key
      regex: 'x'
      colour: blue
`);
    expect(result.rules.map((r) => r.id)).toEqual(['good-one']);
    expect(result.problems).toEqual([
      expect.stringMatching(/^\.gatehouse\.yml\.secrets\.rules\[1\]\.id: must be kebab-case/),
      expect.stringMatching(/^\.gatehouse\.yml\.secrets\.rules\[2\]: a rule needs a regex, a path, or both/),
      expect.stringMatching(/^\.gatehouse\.yml\.secrets\.rules\[3\] \(lookahead\): .*unsupported Perl syntax.*rule skipped/),
      expect.stringMatching(/^\.gatehouse\.yml\.secrets\.rules\[4\] \(broken\): .*rule skipped/),
      expect.stringMatching(/^\.gatehouse\.yml\.secrets\.rules\[5\]: .*colour/),
    ]);
  });

  it('reports YAML syntax errors, unknown keys, bad severities and bad globs', () => {
    expect(parseGatehouseYml('secrets: [').problems[0]).toMatch(/^\.gatehouse\.yml: not valid YAML/);
    expect(parseGatehouseYml('secret:\n  disable: []').problems[0]).toMatch(/^\.gatehouse\.yml: .*secret/);
    expect(parseGatehouseYml('secrets:\n  severity: { x: urgent }').problems[0]).toMatch(/^\.gatehouse\.yml\.secrets\.severity\.x: /);
    const globs = parseGatehouseYml('ignorePaths: ["ok/**", "bad/{a,b"]');
    expect(globs.ignorePaths).toEqual(['ok/**']);
    expect(globs.problems).toEqual([expect.stringMatching(/ignorePaths\[1\]: unbalanced/)]);
    expect(parseGatehouseYml('').problems).toEqual([]);
  });
});
