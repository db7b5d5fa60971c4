import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, SLACK_WEBHOOK, run, sampleProject, tempDir, writeTree, type RunResult } from './fixtures/cli/harness.ts';

interface JsonFinding {
  kind: string;
  ruleId: string;
  severity: string;
  path: string;
  line: number;
  fingerprint: string;
  message: string;
  preview?: string;
}

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  root = tempDir();
  sampleProject(path.join(root, 'shop'));
  writeTree(root, { 'medium-only/notify.yml': `url: ${SLACK_WEBHOOK}\n`, 'clean/readme.md': 'nothing here\n' });
  env = { DATA_DIR: path.join(root, 'no-database') };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectNoSecret(result: RunResult): void {
  for (const secret of [AWS_KEY, SLACK_WEBHOOK.split('/').pop()!]) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

function findingsOf(result: RunResult): JsonFinding[] {
  return (JSON.parse(result.stdout) as { findings: JsonFinding[] }).findings;
}

describe('gatehouse scan --format json', () => {
  it('reports findings with paths relative to the one directory scanned, and exits 1 at the default threshold', async () => {
    const result = await run(['scan', 'shop', '--format', 'json'], { cwd: root, env });
    expect(result.code).toBe(1);
    const findings = findingsOf(result);
    expect(findings.map((f) => [f.kind, f.ruleId, f.severity, f.path, f.line])).toEqual([
      ['secret', 'aws-access-key-id', 'critical', '.env', 2],
      ['secret', 'slack-webhook-url', 'medium', 'deploy/notify.yml', 2],
    ]);
    for (const finding of findings) {
      expect(finding).toEqual(expect.objectContaining({ fingerprint: expect.any(String), message: expect.any(String), preview: expect.any(String) }));
    }
    expectNoSecret(result);
  });

  it('says on stderr and in the document that there is no vulnerability database, and still reports secrets', async () => {
    const result = await run(['scan', 'shop', '--format', 'json'], { cwd: root, env });
    const document = JSON.parse(result.stdout) as { notices: string[] };
    expect(document.notices).toEqual(
      expect.arrayContaining([expect.stringContaining('No vulnerability database'), expect.stringMatching(/3 packages from 1 dependency file not checked/)]),
    );
    expect(result.stderr).toContain('No vulnerability database');
    expect(findingsOf(result)).toHaveLength(2);
  });

  it('shows file arguments as given, without a leading ./, and scans a file named twice once', async () => {
    const result = await run(['scan', './shop/.env', 'shop/.env', 'shop/deploy/notify.yml', '--format', 'json'], { cwd: root, env });
    expect(findingsOf(result).map((f) => f.path)).toEqual(['shop/.env', 'shop/deploy/notify.yml']);
  });

  it('keeps several directories apart by prefixing the directory as given', async () => {
    const result = await run(['scan', 'shop', './medium-only', '--format', 'json'], { cwd: root, env });
    expect(findingsOf(result).map((f) => f.path)).toEqual(['medium-only/notify.yml', 'shop/.env', 'shop/deploy/notify.yml']);
  });

  it('scans the current directory when no path is given', async () => {
    const result = await run(['scan', '--format', 'json'], { cwd: path.join(root, 'medium-only'), env });
    expect(findingsOf(result).map((f) => f.path)).toEqual(['notify.yml']);
  });

  it.each([
    ['medium-only', 'high', 0],
    ['medium-only', 'medium', 1],
    ['medium-only', 'low', 1],
    ['medium-only', 'critical', 0],
    ['shop', 'critical', 1],
    ['shop', 'CRITICAL', 1],
    ['clean', 'low', 0],
  ])('%s with --fail-on %s exits %i', async (dir, failOn, expected) => {
    const result = await run(['scan', dir, '--format', 'json', '--fail-on', failOn], { cwd: root, env });
    expect(result.code).toBe(expected);
  });

  it('honours the repository settings in the scanned directory', async () => {
    const dir = writeTree(path.join(root, 'configured'), {
      '.env': `AWS_ACCESS_KEY_ID=${AWS_KEY}\n`,
      'docs/notify.yml': `url: ${SLACK_WEBHOOK}\n`,
      '.gatehouse.yml': 'ignorePaths: ["docs/**"]\nsecrets:\n  severity: { aws-access-key-id: low }\n',
    });
    const result = await run(['scan', dir, '--format', 'json'], { cwd: root, env });
    expect(findingsOf(result).map((f) => [f.path, f.severity])).toEqual([['.env', 'low']]);
    expect(result.code).toBe(0);
  });

  it('reports a binary PKCS#12 file as a whole-file finding (line 0) without reading tokens out of it', async () => {
    const dir = writeTree(path.join(root, 'binary'), { 'certs/client.p12': Buffer.concat([Buffer.from([0x30, 0x82, 0x00, 0x00]), Buffer.from(AWS_KEY)]) });
    const result = await run(['scan', dir, '--format', 'json'], { cwd: root, env });
    expect(findingsOf(result).map((f) => [f.ruleId, f.path, f.line])).toEqual([['pkcs12-file', 'certs/client.p12', 0]]);
  });

  it('reports problems in the repository settings as notices and scans anyway', async () => {
    const dir = writeTree(path.join(root, 'misconfigured'), { '.env': `AWS_ACCESS_KEY_ID=${AWS_KEY}\n`, '.gatehouse.yml': 'secrets: [oops\n' });
    const result = await run(['scan', dir, '--format', 'json'], { cwd: root, env });
    expect(result.stderr).toContain('.gatehouse.yml');
    expect(findingsOf(result)).toHaveLength(1);
  });
});

describe('gatehouse scan --diff', () => {
  const diff = (key: string, webhook: string) => `diff --git a/config/app.env b/config/app.env
index 1111111..2222222 100644
--- a/config/app.env
+++ b/config/app.env
@@ -10,3 +10,4 @@
 KEEP=1
-OLD=gone
+AWS_ACCESS_KEY_ID=${key}
+OTHER=2
 END=1
diff --git a/old.env b/old.env
deleted file mode 100644
index 3333333..0000000
--- a/old.env
+++ /dev/null
@@ -1 +0,0 @@
-KEY=${key}
diff --git a/a.yml b/deploy/b.yml
similarity index 90%
rename from a.yml
rename to deploy/b.yml
index 4444444..5555555 100644
--- a/a.yml
+++ b/deploy/b.yml
@@ -1,1 +1,2 @@
 notify:
+  url: ${webhook}
`;

  it('reports only added lines, at new-file line numbers, under the new path without b/', async () => {
    writeTree(root, { 'change.diff': diff(AWS_KEY, SLACK_WEBHOOK) });
    const result = await run(['scan', '--diff', 'change.diff', '--format', 'json'], { cwd: root, env });
    expect(findingsOf(result).map((f) => [f.path, f.line, f.ruleId])).toEqual([
      ['config/app.env', 11, 'aws-access-key-id'],
      ['deploy/b.yml', 2, 'slack-webhook-url'],
    ]);
    expect(result.code).toBe(1);
    expectNoSecret(result);
  });

  it('says so when the diff holds no file changes', async () => {
    writeTree(root, { 'empty.diff': 'just some text\n' });
    const result = await run(['scan', '--diff', 'empty.diff', '--format', 'json'], { cwd: root, env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).notices).toContain('--diff empty.diff holds no file changes.');
  });

  it('rejects a diff that ends inside a hunk', async () => {
    writeTree(root, { 'cut.diff': 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n+a\n' });
    const result = await run(['scan', '--diff', 'cut.diff'], { cwd: root, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--diff cut.diff: not a unified diff/);
  });

  it('reads the diff from standard input with --diff -', async () => {
    const result = await run(['scan', '--diff', '-', '--format', 'json', '--fail-on', 'critical'], { cwd: root, env, stdin: diff(AWS_KEY, SLACK_WEBHOOK) });
    expect(findingsOf(result)).toHaveLength(2);
    expect(result.code).toBe(1);
  });
});

describe('usage and input errors exit 2 with a message on stderr and nothing on stdout', () => {
  it.each([
    [['scan', '--bogus'], /Unknown option '--bogus'/],
    [['scan', 'shop', '--fail-on', 'severe'], /--fail-on must be one of critical, high, medium, low/],
    [['scan', 'shop', '--format', 'xml'], /--format must be one of text, json, sarif/],
    [['scan', 'does-not-exist'], /does-not-exist: no such file or directory/],
    [['scan', '--diff', 'missing.diff'], /--diff missing.diff: cannot be read \(ENOENT\)/],
    [['scan', '--diff', 'shop'], /--diff shop: cannot be read \(EISDIR\)/],
    [['scan', 'shop', '--diff', 'change.diff'], /only one of paths, --diff/],
    [['scan', '--format'], /argument missing/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j', async (argv, message) => {
    const result = await run(argv, { cwd: root, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

describe('text output', () => {
  it('is grouped by file, without colour when stdout is not a terminal', async () => {
    const result = await run(['scan', 'shop'], { cwd: root, env });
    expect(result.stdout).toMatch(/^\.env\n {2}2:\d+ +CRITICAL {2}aws-access-key-id/);
    expect(result.stdout).toContain('2 findings (1 critical, 1 medium) in 2 files.');
    expect(result.stdout).not.toContain('\x1b[');
    expectNoSecret(result);
  });

  it('is coloured on a terminal unless NO_COLOR is set, and shows progress on a terminal stderr only', async () => {
    const coloured = await run(['scan', 'shop'], { cwd: root, env, tty: true });
    expect(coloured.stdout).toContain('\x1b[1;31mCRITICAL');
    expect(coloured.stderr).toMatch(/Scanning: \d+ files?, [\d.]+ MB/);
    expect(coloured.stderr).toContain('\r\x1b[2K');

    const plain = await run(['scan', 'shop'], { cwd: root, env: { ...env, NO_COLOR: '1' }, tty: true });
    expect(plain.stdout).not.toContain('\x1b[');

    const piped = await run(['scan', 'shop'], { cwd: root, env });
    expect(piped.stderr).not.toContain('Scanning');
  });
});

describe('--help', () => {
  it.each([[['--help']], [['help']], [[]], [['scan', '--help']], [['scan', '-h', '--bogus']], [['db', '--help']], [['db', 'update', '--help']], [['sbom', '--help']]])(
    '%j prints usage and exits 0',
    async (argv) => {
      const result = await run(argv, { cwd: root, env });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: gatehouse/);
    },
  );
});
