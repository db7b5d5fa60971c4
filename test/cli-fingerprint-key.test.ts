import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretScanner } from '../src/scan/secrets/engine.ts';
import { AWS_KEY, run, tempDir, writeTree } from './fixtures/cli/harness.ts';

// Issue 10 item 10, command line: with GATEHOUSE_FINGERPRINT_KEY the printed fingerprints are
// keyed, so a SARIF file or CI log no longer lets anyone test guesses of the secret offline.

let root: string;
let env: NodeJS.ProcessEnv;
const file = `aws_access_key_id = ${AWS_KEY}\n`;
/** What anyone can compute from a guess: the unkeyed fingerprint. */
const [guess] = new SecretScanner().scanText('creds.ini', file);

beforeAll(() => {
  root = tempDir();
  writeTree(root, { 'app/creds.ini': file });
  env = { DATA_DIR: path.join(root, 'no-database') };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function fingerprints(extra: NodeJS.ProcessEnv): Promise<string[]> {
  const result = await run(['scan', 'app', '--format', 'json'], { cwd: root, env: { ...env, ...extra } });
  return (JSON.parse(result.stdout) as { findings: { fingerprint: string }[] }).findings.map((f) => f.fingerprint);
}

describe('gatehouse scan with GATEHOUSE_FINGERPRINT_KEY', () => {
  it('prints keyed fingerprints (stable under one key, different under another), never the unkeyed one', async () => {
    expect(await fingerprints({})).toEqual([guess!.fingerprint]);
    const keyed = await fingerprints({ GATEHOUSE_FINGERPRINT_KEY: 'team-private-text' });
    expect(keyed).toHaveLength(1);
    expect(keyed[0]).not.toBe(guess!.fingerprint);
    expect(await fingerprints({ GATEHOUSE_FINGERPRINT_KEY: 'team-private-text' })).toEqual(keyed);
    expect(await fingerprints({ GATEHOUSE_FINGERPRINT_KEY: 'another-text' })).not.toEqual(keyed);

    // The printed (keyed) fingerprint works in .gitleaksignore.
    writeTree(root, { 'app/.gitleaksignore': `${keyed[0]}\n` });
    expect(await fingerprints({ GATEHOUSE_FINGERPRINT_KEY: 'team-private-text' })).toEqual([]);
  });

  it('--help says what the unkeyed fingerprint reveals and how to key it', async () => {
    const help = await run(['scan', '--help'], { cwd: root, env });
    expect(help.stdout).toContain('GATEHOUSE_FINGERPRINT_KEY');
    expect(help.stdout).toMatch(/test guesses of a weak secret/);
  });
});
