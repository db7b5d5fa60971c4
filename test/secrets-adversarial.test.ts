// Pathological input for the whole scanner: every rule at once, on text built to make
// keyword pre-filters fire everywhere and regexes backtrack. Only a hang guard (the
// vitest timeout); the assertion is that each scan returns.
import { describe, expect, it } from 'vitest';
import { SecretScanner } from '../src/scan/secrets/engine.ts';
import { RULES } from '../src/scan/secrets/rules/index.ts';

const MB = 1 << 20;
const HANG_GUARD_MS = 120_000;
const scanner = new SecretScanner({ rules: RULES });

const fill = (unit: string, size = MB) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

function pseudoRandom(size: number, alphabet: string): string {
  let x = 0x9e3779b9;
  let out = '';
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const keywords = [...new Set(RULES.flatMap((r) => r.keywords))];

const inputs: [string, () => string][] = [
  ['a 1 MB line of base64', () => pseudoRandom(MB, BASE64)],
  ['a 1 MB line of one letter', () => fill('a')],
  ['"password=" repeated on one line', () => fill('password=')],
  ['"password = " lines', () => fill('password = \n')],
  ['"AKIA" repeated', () => fill('AKIA')],
  ['"-----BEGIN" repeated without an END', () => fill('-----BEGIN ')],
  ['a PEM header followed by 1 MB of base64 lines and no END', () => `-----BEGIN RSA PRIVATE KEY-----\n${pseudoRandom(MB, BASE64).replace(/(.{64})/g, '$1\n')}`],
  ['100k double quotes', () => '"'.repeat(100_000)],
  ['100k single quotes and equals signs', () => fill(`'=`, 200_000)],
  ['URI-like credentials repeated', () => fill('postgres://user:pass@')],
  ['every keyword of every rule, back to back', () => fill(keywords.join(' '))],
  ['every keyword followed by an assignment of random text', () => fill(keywords.map((k) => `${k}=${pseudoRandom(24, BASE64)}\n`).join(''))],
  ['every keyword followed by a long token on one line', () => fill(keywords.map((k) => `${k}_${pseudoRandom(300, BASE64)} `).join(''))],
];

describe('whole scanner on adversarial input', () => {
  it('has its full rule set', () => {
    expect(RULES.length).toBeGreaterThan(0);
    expect(keywords.length).toBeGreaterThan(0);
  });

  it.each(inputs)('returns on %s', (_name, make) => {
    const text = make();
    const findings = scanner.scanText('adversarial.txt', text);
    expect(Array.isArray(findings)).toBe(true);
    const lines = scanner.scanLines('adversarial.txt', text.split('\n').map((t, i) => ({ line: i + 1, text: t })));
    expect(lines.length).toBe(findings.length);
  }, HANG_GUARD_MS);
});
