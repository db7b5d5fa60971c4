import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, sampleProject, tempDir, writeTree } from './fixtures/cli/harness.ts';
import { validateSarif } from './fixtures/cli/sarif-validator.ts';

// The real executable, as `npx gatehouse` runs it: exit status, stream separation and
// broken pipes only show up in a separate process.
const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  root = tempDir();
  sampleProject(path.join(root, 'shop'));
  writeTree(root, { 'clean/readme.md': 'nothing here\n' });
  env = { PATH: process.env.PATH, DATA_DIR: path.join(root, 'no-database') };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function gatehouse(args: string[], options: { closeStdout?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each test starts Node on the compiled CLI (dist/, built by the global setup); the timeout only guards against a hang.
describe('bin/gatehouse.js', { timeout: 60_000 }, () => {
  it('writes valid SARIF to stdout, notices to stderr, and exits 1 on findings', async () => {
    const result = await gatehouse(['scan', 'shop', '--format', 'sarif']);
    expect(result.code).toBe(1);
    const log = JSON.parse(result.stdout);
    expect(validateSarif(log)).toBe(true);
    expect(log.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['aws-access-key-id', 'slack-webhook-url']);
    expect(result.stderr).toContain('No vulnerability database');
    expect(result.stdout + result.stderr).not.toContain(AWS_KEY);
  });

  it('exits 2 on a usage error, with the message on stderr only', async () => {
    const usage = await gatehouse(['scan', '--fail-on', 'nope']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--fail-on must be one of/);
    expect(usage.stdout).toBe('');
  });

  it('ends quietly when the reader of stdout goes away (gatehouse scan | head)', async () => {
    const result = await gatehouse(['scan', 'clean', '--format', 'json'], { closeStdout: true });
    expect(result.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(result.code).toBe(0);
  });
});
