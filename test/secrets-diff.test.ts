// A real `git diff` through the diff parser and the secret engine: only added lines are
// scanned, reported at their new-file line numbers, and a removed secret is not reported.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUnifiedDiffSync } from '../src/scan/diff.ts';
import { SecretScanner } from '../src/scan/secrets/engine.ts';

const OLD_KEY = 'AKIAZ7VQ3M5N2P4R6T8W';
const NEW_KEY = 'AKIAQ2W3E4R5T6Y7U2I3';
const STRIPE = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`;

describe('diff scanning', () => {
  const repo = mkdtempSync(path.join(tmpdir(), 'gatehouse-secrets-diff-'));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });

  it('reports secrets on added lines only, at new-file line numbers', () => {
    git('init', '-q');
    const lines = Array.from({ length: 30 }, (_, i) => `setting_${i} = ${i}`);
    writeFileSync(path.join(repo, 'app.ini'), [...lines.slice(0, 10), `old_key = ${OLD_KEY}`, ...lines.slice(10)].join('\r\n') + '\r\n');
    git('add', '.');
    git('commit', '-q', '-m', 'base');

    const changed = [...lines.slice(0, 10), ...lines.slice(10, 25), `aws_access_key_id = ${NEW_KEY}`, ...lines.slice(25)];
    writeFileSync(path.join(repo, 'app.ini'), changed.join('\r\n') + '\r\n');
    writeFileSync(path.join(repo, 'billing.env'), `# billing\nSTRIPE_KEY=${STRIPE}  # gatehouse:allow\nSTRIPE_KEY_2=${STRIPE.replace('4eC3', '9xQ2')}\n`);
    git('add', '.');
    const diff = git('diff', '--cached');

    const scanner = new SecretScanner();
    const findings = [...parseUnifiedDiffSync(diff)].flatMap((file) => scanner.scanLines(file.newPath!, file.addedLines));
    expect(findings.map((f) => [f.path, f.line, f.ruleId.split('-')[0]])).toEqual([
      ['app.ini', 26, 'aws'],
      ['billing.env', 3, 'stripe'],
    ]);
    const json = JSON.stringify(findings);
    for (const secret of [OLD_KEY, NEW_KEY, STRIPE]) expect(json).not.toContain(secret);
  });
});
