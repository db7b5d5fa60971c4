import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, SLACK_WEBHOOK, run, tempDir, writeTree } from './fixtures/cli/harness.ts';

// A baseline lets a project adopt Gatehouse with findings it has accepted: only new ones fail.

let root: string;
const env = { DATA_DIR: '/nonexistent-gatehouse-data' };

beforeAll(() => {
  root = tempDir();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function ruleIds(stdout: string): string[] {
  return (JSON.parse(stdout) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId);
}

describe('gatehouse scan --baseline', { timeout: 60_000 }, () => {
  it('records the current findings, then fails only on findings that are not in it', async () => {
    const project = writeTree(path.join(root, 'project'), { '.env': `AWS_ACCESS_KEY_ID=${AWS_KEY}\n`, 'src/app.js': 'export {};\n' });

    const created = await run(['scan', 'project', '--baseline', 'baseline.json', '--update-baseline'], { cwd: root, env });
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/recorded 1 finding\(s\) as accepted \(1 new\)/);
    const stored = readFileSync(path.join(root, 'baseline.json'), 'utf8');
    const baseline = JSON.parse(stored) as { gatehouseBaseline: number; findings: Record<string, string>[] };
    expect(baseline.gatehouseBaseline).toBe(1);
    expect(baseline.findings).toEqual([{ fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), ruleId: 'aws-access-key-id', path: '.env' }]);
    // Fingerprints only: neither the secret nor its masked preview is written.
    expect(stored).not.toContain(AWS_KEY);
    expect(stored).not.toContain(AWS_KEY.slice(0, 4));

    const accepted = await run(['scan', 'project', '--baseline', 'baseline.json', '--format', 'json'], { cwd: root, env });
    expect(accepted.code).toBe(0);
    expect(ruleIds(accepted.stdout)).toEqual([]);
    expect(accepted.stderr).toMatch(/1 accepted finding\(s\) not reported/);

    // Code above the accepted secret moves it to another line: still the same finding.
    writeFileSync(path.join(project, '.env'), `# moved\n\nAWS_ACCESS_KEY_ID=${AWS_KEY}\n`);
    writeTree(project, { 'deploy/notify.yml': `url: ${SLACK_WEBHOOK}\n` });
    const fresh = await run(['scan', 'project', '--baseline', 'baseline.json', '--format', 'json', '--fail-on', 'medium'], { cwd: root, env });
    expect(fresh.code).toBe(1);
    expect(ruleIds(fresh.stdout)).toEqual(['slack-webhook-url']);

    // Updating accepts the new finding too.
    const updated = await run(['scan', 'project', '--baseline', 'baseline.json', '--update-baseline'], { cwd: root, env });
    expect(updated.code).toBe(0);
    expect(updated.stderr).toMatch(/recorded 2 finding\(s\) as accepted \(1 new\)/);
    expect((await run(['scan', 'project', '--baseline', 'baseline.json', '--fail-on', 'low'], { cwd: root, env })).code).toBe(0);
  });

  it.each([
    [['--baseline', 'missing.json'], /--baseline missing.json: no such file \(create it with --update-baseline\)/],
    [['--baseline', 'not-json.json'], /--baseline not-json.json: not JSON/],
    [['--baseline', 'other.json'], /--baseline other.json: not a Gatehouse baseline/],
    [['--update-baseline'], /--update-baseline needs --baseline FILE/],
  ])('exits 2 for %j', async (args, message) => {
    writeTree(root, { 'not-json.json': '{ nope', 'other.json': '{"findings": "all"}', 'clean/readme.md': 'hello\n' });
    const result = await run(['scan', 'clean', ...args], { cwd: root, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
