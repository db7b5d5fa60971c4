// Every built-in rule's examples, run through one scanner holding the whole rule set:
// the combination (shared keyword automaton, dedupe between rules, global allow-lists)
// must not lose what each rule finds on its own, and must not leak what it finds.
import { describe, expect, it } from 'vitest';
import { SecretScanner } from './engine.ts';
import type { SecretRule } from './rule.ts';
import { RULES } from './rules/index.ts';

const PATH = 'config/settings.conf';
const scanner = new SecretScanner({ rules: RULES });
const isPathRule = (rule: SecretRule) => rule.regex === '' && rule.path !== undefined;

/** The secrets the rule itself extracts from an example, by regex alone. */
function secretsOf(rule: SecretRule, example: string): string[] {
  const regex = new RegExp(rule.regex, `g${(rule.flags ?? '').replace('g', '')}`);
  return [...example.matchAll(regex)].map((m) => m[rule.secretGroup ?? 0]).filter((s): s is string => !!s);
}

describe('built-in rules inside the full scanner', () => {
  it('has rules to run', () => {
    expect(RULES.length).toBeGreaterThan(0);
  });

  describe.each(RULES.filter((r) => !isPathRule(r)).map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    it.each(rule.examples.truePositives)('is still found, located and masked in %s', (example) => {
      const findings = scanner.scanText(PATH, example);
      expect(findings.length).toBeGreaterThan(0);
      const own = findings.filter((f) => f.ruleId === rule.id);
      if (!rule.id.startsWith('generic')) expect(own.length, `other rules won: ${findings.map((f) => f.ruleId)}`).toBeGreaterThan(0);

      const json = JSON.stringify(findings);
      const lines = example.split('\n');
      for (const secret of secretsOf(rule, example)) {
        if (secret.length >= 8) expect(json).not.toContain(secret);
      }
      for (const f of findings) {
        expect(f.fingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(f.secretHash).toMatch(/^[0-9a-f]{64}$/);
        expect(f.line).toBeGreaterThanOrEqual(1);
        expect(f.line).toBeLessThanOrEqual(lines.length);
        expect(f.column).toBeGreaterThanOrEqual(1);
        expect(f.column).toBeLessThanOrEqual(lines[f.line - 1]!.length);
      }
    });
  });

  describe.each(RULES.filter(isPathRule).map((r) => [r.id, r] as const))('%s (whole file)', (_id, rule) => {
    it.each(rule.examples.truePositives)('reports %s on line 0', (path) => {
      expect(scanner.shouldSkipPath(path)).toBe(false);
      // The first bytes of a DER PKCS#12 file (SEQUENCE, then INTEGER 3), then binary.
      expect(scanner.scanText(path, '\x30\x82\x0a\x1b\x02\x01\x03\x30\0binary').filter((f) => f.ruleId === rule.id)).toMatchObject([{ line: 0, column: 0 }]);
    });
  });
});
