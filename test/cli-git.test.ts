import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, SLACK_WEBHOOK, run, tempDir, writeTree } from './fixtures/cli/harness.ts';

// `gatehouse scan --staged` (a pre-commit hook) and `--since REF` (CI) read git's own diff
// in throwaway repositories, whatever the user's git configuration says about diffs.

let root: string;
const env = { DATA_DIR: '/nonexistent-gatehouse-data' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: '1' },
  });
}

function repo(name: string, files: Record<string, string> = {}): string {
  const dir = path.join(root, name);
  writeTree(dir, { 'README.md': 'a project\n', ...files });
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'first');
  return dir;
}

function findings(stdout: string): { ruleId: string; path: string; line: number }[] {
  return (JSON.parse(stdout) as { findings: { ruleId: string; path: string; line: number }[] }).findings.map(({ ruleId, path, line }) => ({ ruleId, path, line }));
}

beforeAll(() => {
  root = tempDir();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('gatehouse scan --staged', { timeout: 60_000 }, () => {
  it('scans what is staged, not what is only in the working tree, with new-file line numbers from the top level', async () => {
    const dir = repo('staged', { 'app/config.env': 'NAME=shop\nPORT=8080\n' });
    writeFileSync(path.join(dir, 'app/config.env'), `NAME=shop\nAWS_ACCESS_KEY_ID=${AWS_KEY}\nPORT=8080\n`);
    git(dir, 'add', 'app/config.env');
    // Changed after staging: the commit will not hold it, so the hook must not judge it.
    writeTree(dir, { 'notify.yml': `url: ${SLACK_WEBHOOK}\n` });

    const result = await run(['scan', '--staged', '--format', 'json'], { cwd: path.join(dir, 'app'), env });
    expect(result.code).toBe(1);
    expect(findings(result.stdout)).toEqual([{ ruleId: 'aws-access-key-id', path: 'app/config.env', line: 2 }]);
    expect(result.stdout + result.stderr).not.toContain(AWS_KEY);
  });

  it('exits 0 with a notice when nothing is staged', async () => {
    const dir = repo('nothing-staged');
    const result = await run(['scan', '--staged'], { cwd: dir, env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Nothing is staged.');
  });

  it('works before the first commit', async () => {
    const dir = path.join(root, 'unborn');
    writeTree(dir, { '.env': `AWS_ACCESS_KEY_ID=${AWS_KEY}\n` });
    git(dir, 'init', '-q');
    git(dir, 'add', '.env');
    const result = await run(['scan', '--staged', '--format', 'json'], { cwd: dir, env });
    expect(result.code).toBe(1);
    expect(findings(result.stdout)).toEqual([{ ruleId: 'aws-access-key-id', path: '.env', line: 1 }]);
  });

  it('reads a plain diff whatever the repository configures (no prefixes, colour, external diff, relative paths)', async () => {
    const dir = repo('configured', { 'sub/keep.txt': 'x\n' });
    for (const setting of ['diff.noprefix=true', 'color.ui=always', 'diff.external=false', 'diff.relative=true']) {
      git(dir, 'config', ...(setting.split('=') as [string, string]));
    }
    writeTree(dir, { 'sub/.env': `AWS_ACCESS_KEY_ID=${AWS_KEY}\n` });
    git(dir, 'add', '-A');
    const result = await run(['scan', '--staged', '--format', 'json'], { cwd: path.join(dir, 'sub'), env });
    expect(result.stderr).toBe('');
    expect(findings(result.stdout)).toEqual([{ ruleId: 'aws-access-key-id', path: 'sub/.env', line: 1 }]);
  });

  it('exits 2 outside a git repository', async () => {
    const dir = path.join(root, 'not-a-repo');
    writeTree(dir, { 'a.txt': 'x\n' });
    const result = await run(['scan', '--staged'], { cwd: dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not inside a git repository/);
    expect(result.stdout).toBe('');
  });
});

describe('gatehouse scan --since REF', { timeout: 60_000 }, () => {
  it("reports what the branch adds since it left REF, not the reverse of REF's own later changes", async () => {
    const dir = repo('since', { 'old.env': `AWS_ACCESS_KEY_ID=${AWS_KEY}\n` });
    git(dir, 'checkout', '-qb', 'feature');
    writeTree(dir, { 'deploy/notify.yml': `notify:\n  url: ${SLACK_WEBHOOK}\n` });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'feature');
    // Meanwhile main removes the old secret; a two-dot diff against main would show it as added back.
    git(dir, 'checkout', '-q', 'main');
    writeFileSync(path.join(dir, 'old.env'), 'AWS_ACCESS_KEY_ID=\n');
    git(dir, 'commit', '-qam', 'rotate');
    git(dir, 'checkout', '-q', 'feature');

    const result = await run(['scan', '--since', 'main', '--format', 'json', '--fail-on', 'medium'], { cwd: dir, env });
    expect(findings(result.stdout)).toEqual([{ ruleId: 'slack-webhook-url', path: 'deploy/notify.yml', line: 2 }]);
    expect(result.code).toBe(1);
  });

  it.each([
    [['--since', 'no-such-branch'], /--since no-such-branch: not a commit/],
    [['--since=--output=/tmp/x'], /--since needs a commit/],
    [['--since', 'main', 'src'], /only one of paths, --diff, --staged and --since/],
  ])('exits 2 for %j', async (args, message) => {
    const dir = path.join(root, 'since');
    const result = await run(['scan', ...args], { cwd: dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
