import { describe, expect, it } from 'vitest';
import { EMPTY_REPO_CONFIG, type RepoScanConfig } from '../repo-config/types.ts';
import { SecretScanner } from './engine.ts';
import { sha256Hex } from './fingerprint.ts';
import type { SecretRule } from './rule.ts';

const none = { truePositives: [], falsePositives: [] };
const RULES: SecretRule[] = [
  {
    id: 'test-aws-key',
    description: 'AWS access key ID',
    severity: 'critical',
    keywords: ['akia'],
    regex: '\\b(AKIA[0-9A-Z]{16})\\b',
    secretGroup: 1,
    examples: none,
  },
  {
    id: 'test-stripe',
    description: 'Stripe live secret key',
    severity: 'critical',
    keywords: ['sk_live_'],
    regex: 'sk_live_[0-9a-zA-Z]{24,99}',
    examples: none,
  },
  {
    id: 'generic-password',
    description: 'Password assignment',
    severity: 'high',
    keywords: ['password'],
    regex: `password\\s*[:=]\\s*["']?([^\\s"']{8,64})`,
    flags: 'i',
    secretGroup: 1,
    entropy: 3,
    allowlist: { stopwords: ['notasecret'] },
    examples: none,
  },
  {
    id: 'test-private-key',
    description: 'Private key',
    severity: 'critical',
    keywords: ['-----begin'],
    regex: '-----BEGIN[ A-Z]{0,30}PRIVATE KEY-----[\\s\\S]{64,8000}?-----END[ A-Z]{0,30}PRIVATE KEY-----',
    examples: none,
  },
  {
    id: 'test-pkcs12',
    description: 'PKCS#12 file',
    severity: 'high',
    keywords: [],
    regex: '',
    path: '\\.(?:p12|pfx)$',
    examples: none,
  },
];

const AWS = 'AKIAZ2XQ4P7LMN3R5T6W';
const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9';
const PASSWORD = 'T8#kq2!Zr9vLw3';
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA7bq98nF6ZfNHmC0cNZbH8r1Yk0Qc7uJ2sRtGeVb9wXoPq3LmK',
  'a8Zp2Q9xN7vB4cT1yU6iO3eW5rS0dF2gH4jK7lM9nQ1wE3rT5yU7iO9pA2sD4fG6',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

const scanner = (config: Partial<RepoScanConfig> = {}) =>
  new SecretScanner({ rules: RULES, config: { ...EMPTY_REPO_CONFIG, ...config } });

describe('SecretScanner.scanText', () => {
  it('reports a secret with line, column, masked preview, hash and fingerprint, never the secret', () => {
    const text = `const a = 1;\nconst key = "${AWS}";\n`;
    const findings = scanner().scanText('src/app.ts', text);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f).toMatchObject({
      kind: 'secret',
      ruleId: 'test-aws-key',
      severity: 'critical',
      path: 'src/app.ts',
      line: 2,
      column: 14,
      preview: 'AK****************6W',
      secretHash: sha256Hex(AWS),
      fingerprint: sha256Hex(`test-aws-key:src/app.ts:${sha256Hex(AWS)}`),
      description: 'AWS access key ID',
    });
    expect(f!.message).toContain('src/app.ts:2');
    expect(JSON.stringify(findings)).not.toContain(AWS);
  });

  it('keeps the fingerprint when the secret moves to another line', () => {
    const s = scanner();
    const before = s.scanText('a.env', `KEY=${AWS}\n`);
    const after = s.scanText('a.env', `# moved\n\nKEY=${AWS}\n`);
    expect(after[0]!.line).toBe(3);
    expect(after[0]!.fingerprint).toBe(before[0]!.fingerprint);
    expect(s.scanText('b.env', `KEY=${AWS}\n`)[0]!.fingerprint).not.toBe(before[0]!.fingerprint);
  });

  it('runs a rule only where one of its keywords occurs, case-insensitively', () => {
    const rule: SecretRule = { ...RULES[0]!, id: 'needs-keyword', keywords: ['vault'], regex: 'tok_[a-z0-9]{12}', secretGroup: 0 };
    const s = new SecretScanner({ rules: [rule] });
    expect(s.scanText('a.txt', 'tok_a1b2c3d4e5f6\n')).toEqual([]);
    expect(s.scanText('a.txt', 'VAULT tok_a1b2c3d4e5f6\n')).toHaveLength(1);
    // the keyword must be on the same line for a single-line rule
    expect(s.scanText('a.txt', 'vault\ntok_a1b2c3d4e5f6\n')).toEqual([]);
  });

  it('skips placeholders and documented example keys', () => {
    const s = scanner();
    for (const value of ['${DB_PASSWORD}', '$DB_PASSWORD', '{{ .Values.password }}', '<your-password>', 'changeme123', 'xxxxxxxxxxxx']) {
      expect(s.scanText('config.yml', `password: "${value}"\n`), value).toEqual([]);
    }
    expect(s.scanText('README.md', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n')).toEqual([]);
  });

  it('applies the entropy threshold and per-rule stopwords', () => {
    const s = scanner();
    expect(s.scanText('a.ini', 'password = aaaaaaaaab\n')).toEqual([]);
    expect(s.scanText('a.ini', 'password = Xy7notasecretQ2\n')).toEqual([]);
    expect(s.scanText('a.ini', `password = ${PASSWORD}\n`)).toHaveLength(1);
  });

  it('honours gatehouse:allow and gitleaks:allow on the same line only', () => {
    const s = scanner();
    expect(s.scanText('a.py', `key = "${AWS}"  # gatehouse:allow\n`)).toEqual([]);
    expect(s.scanText('a.go', `key := "${AWS}" // gitleaks:allow\n`)).toEqual([]);
    expect(s.scanText('a.py', `# gatehouse:allow\nkey = "${AWS}"\n`)).toHaveLength(1);
  });

  it('keeps the specific rule when a generic one flags the same secret', () => {
    const findings = scanner().scanText('a.env', `PASSWORD=${STRIPE}\n`);
    expect(findings.map((f) => f.ruleId)).toEqual(['test-stripe']);
  });

  it('reports a multi-line secret at the start of its match', () => {
    const rule: SecretRule = { ...RULES[3]!, id: 'pem-body', regex: `${RULES[3]!.regex.replace('[\\s\\S]{64,8000}?', '\\s*([\\s\\S]{64,8000}?)')}`, secretGroup: 1 };
    const findings = new SecretScanner({ rules: [rule] }).scanText('k.pem', `x\n  ${PEM}\n`);
    expect(findings).toMatchObject([{ ruleId: 'pem-body', line: 2, column: 3 }]);
  });

  it('finds a multi-line PEM key and reports the line it starts on', () => {
    const text = `# deploy key\n${PEM}\nafter\n`;
    const findings = scanner().scanText('deploy/id_rsa', text);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ ruleId: 'test-private-key', line: 2, column: 1 });
    expect(JSON.stringify(findings)).not.toContain('MIIEow');
  });

  it('finds a PEM key whose keyword line is far into a big file, once', () => {
    const filler = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    const text = `${filler}\n${PEM}\n${filler}\n${PEM.replace('MIIE', 'MIIF')}\n`;
    const findings = scanner().scanText('keys.txt', text);
    expect(findings.map((f) => f.line)).toEqual([501, 1005]);
  });

  it('strips CRLF and finds several secrets on one line', () => {
    const text = `a=${AWS}\r\nb=${AWS.replace('Z2', 'Y3')} c=${STRIPE}\r\n`;
    const findings = scanner().scanText('win.ini', text);
    expect(findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([
      ['test-aws-key', 1, 3],
      ['test-aws-key', 2, 3],
      ['test-stripe', 2, 26],
    ]);
  });

  it('reports a whole-file rule on line 0 and skips content of binary files', () => {
    const s = scanner();
    expect(s.shouldSkipPath('certs/client.p12')).toBe(false);
    const [f] = s.scanText('certs/client.p12', '\0\x01binary');
    expect(f).toMatchObject({ ruleId: 'test-pkcs12', line: 0, column: 0, secretHash: sha256Hex('certs/client.p12') });
    expect(s.scanText('blob.dat', `\0\0${AWS}`)).toEqual([]);
  });

  it('skips lockfiles, vendored trees, minified and binary files', () => {
    const s = scanner();
    for (const p of ['package-lock.json', 'web/yarn.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'go.sum', 'node_modules/x/index.js', 'vendor/a.go', 'third_party/b.c', 'dist/app.min.js', 'img/logo.png']) {
      expect(s.shouldSkipPath(p), p).toBe(true);
      expect(s.scanText(p, `k=${AWS}\n`), p).toEqual([]);
    }
    expect(s.shouldSkipPath('src/vendors.ts')).toBe(false);
  });
});

describe('SecretScanner.scanLines', () => {
  it('uses the given line numbers and joins consecutive lines for multi-line rules', () => {
    const pemLines = PEM.split('\n').map((text, i) => ({ line: 40 + i, text }));
    const findings = scanner().scanLines('id_rsa', [{ line: 3, text: `k=${AWS}` }, ...pemLines, { line: 90, text: `s=${STRIPE}` }]);
    expect(findings.map((f) => [f.ruleId, f.line])).toEqual([
      ['test-aws-key', 3],
      ['test-private-key', 40],
      ['test-stripe', 90],
    ]);
  });

  it('does not join lines that are not adjacent', () => {
    const lines = PEM.split('\n').map((text, i) => ({ line: 10 + i * 2, text }));
    expect(scanner().scanLines('id_rsa', lines)).toEqual([]);
  });
});

describe('SecretScanner with repository configuration', () => {
  it('disables rules, overrides severity and adds custom rules', () => {
    const s = scanner({
      disabledRules: ['test-stripe'],
      severityOverrides: { 'test-aws-key': 'low' },
      customRules: [{ id: 'acme-token', description: 'ACME token', severity: 'medium', keywords: ['acme_'], regex: 'acme_[a-f0-9]{16}', allowlists: [] }],
    });
    const findings = s.scanText('a.txt', `${AWS}\n${STRIPE}\nacme_0123456789abcdef\n`);
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([
      ['test-aws-key', 'low'],
      ['acme-token', 'medium'],
    ]);
    expect(s.ruleIds).not.toContain('test-stripe');
  });

  it('ignores paths by glob and findings by fingerprint in either form', () => {
    const text = `a=${AWS}\nb=${STRIPE}\n`;
    const all = scanner().scanText('src/x.ts', text);
    const s = scanner({ ignorePaths: ['test/**'], ignoredFingerprints: [all[0]!.fingerprint, 'src/x.ts:test-stripe:2'] });
    expect(s.shouldSkipPath('test/fixtures/a.ts')).toBe(true);
    expect(s.scanText('src/x.ts', text)).toEqual([]);
    expect(s.scanText('src/x.ts', `\n${text}`).map((f) => f.ruleId)).toEqual(['test-stripe']);
  });

  it('applies global allow-lists with their target and condition', () => {
    const text = `a=${AWS}\n`;
    expect(scanner({ allowlists: [{ regexes: ['^AKIAZ2'] }] }).scanText('x', text)).toEqual([]);
    expect(scanner({ allowlists: [{ regexes: ['^a='], regexTarget: 'line' }] }).scanText('x', text)).toEqual([]);
    expect(scanner({ allowlists: [{ paths: ['^docs/'] }] }).shouldSkipPath('docs/a.md')).toBe(true);
    const and = scanner({ allowlists: [{ paths: ['^docs/'], regexes: ['^AKIAZ2'], condition: 'and' }] });
    expect(and.scanText('docs/a.md', text)).toEqual([]);
    expect(and.scanText('src/a.md', text)).toHaveLength(1);
  });

  it('reports a built-in rule with an invalid regex, naming it, when the rule first runs', () => {
    // Built-in rules compile on their first keyword hit (every one runs in rules.test.ts).
    const broken = { ...RULES[0]!, id: 'broken', regex: '(' };
    const s = new SecretScanner({ rules: [broken] });
    expect(s.scanText('a.txt', 'nothing to see\n')).toEqual([]);
    expect(() => s.scanText('a.txt', `x ${broken.keywords[0]} y\n`)).toThrow(/broken.*invalid regex/);
  });

  it('rejects a repository rule with an invalid regex at once, naming it', () => {
    const customRules = [{ id: 'acme-broken', description: 'ACME', severity: 'medium' as const, keywords: ['acme_'], regex: '(', allowlists: [] }];
    expect(() => scanner({ customRules })).toThrow(/acme-broken.*invalid regex/);
  });
});
