import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run demo -- --datacenter` as a process: one command, the local Data Center and the app,
// a leaking pull request that fails, then its fix that passes with the same comment edited.
const DEMO = path.resolve('src/simulator/demo.ts');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error', DEMO_TIMEOUT_SECONDS: '90' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo -- --datacenter (process)', () => {
  it('registers the instance, shows the leaking pull request red, then its fix green with the same comment edited, and exits 0', async () => {
    const { code, stdout, stderr } = await run(['--datacenter']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Registered\s+instance \w+ "Local Data Center": token checked, webhook installed on project PAY/);
    expect(stdout).toMatch(/Published on \w{12}:\n\s+Code Insights report\s+Gatehouse security: FAIL/);
    expect(stdout).toMatch(/HIGH\s+config\/deploy\.env:3 /);
    expect(stdout).toMatch(/Build status\s+FAILED: .* on refs\/heads\/feature\/nightly-export/);
    expect(stdout).toMatch(/After the fix on \w{12}:\n\s+Code Insights report\s+Gatehouse security: PASS/);
    expect(stdout).toMatch(/Build status\s+SUCCESSFUL/);
    expect(stdout).toContain('the same comment #1, edited in place');
  }, 150_000);

  it('refuses --forge together with --datacenter (exit 2)', async () => {
    const { code, stderr } = await run(['--forge', '--datacenter']);
    expect(code).toBe(2);
    expect(stderr).toContain('choose one');
  }, 60_000);
});
