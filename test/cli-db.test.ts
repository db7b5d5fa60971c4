import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LODASH_ADVISORY, run, useMirroredProject } from './fixtures/cli/harness.ts';

const project = useMirroredProject([LODASH_ADVISORY]);

describe('gatehouse db update, then scan', () => {
  it('downloads the database from OSV_MIRROR_URL and prints what changed', async () => {
    const result = await run(['db', 'update', '--ecosystems', 'npm'], { cwd: project.root, env: project.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^npm +full +1 added, 0 updated, 0 withdrawn \(1 advisories\)$/m);
    expect(result.stdout).toMatch(/database version \S+ is active/);
  });

  it('reports vulnerable packages from the lockfile with the CONTRACT fields', async () => {
    const result = await run(['scan', 'shop', '--format', 'json'], { cwd: project.root, env: project.env });
    const { findings, notices } = JSON.parse(result.stdout) as { findings: Record<string, unknown>[]; notices: string[] };
    expect(findings.find((f) => f.kind === 'dependency')).toMatchObject({
      ruleId: 'GHSA-jf85-cpcp-j695',
      severity: 'critical',
      path: 'package-lock.json',
      line: expect.any(Number),
      fingerprint: expect.any(String),
      message: expect.stringContaining('lodash 4.17.11'),
      ecosystem: 'npm',
      package: 'lodash',
      version: '4.17.11',
      advisory: 'GHSA-jf85-cpcp-j695',
      fixedVersion: '4.17.12',
    });
    expect(notices.join('\n')).not.toContain('No vulnerability database');
    expect(result.code).toBe(1);
  });

  it('a second update applies the delta and says nothing changed', async () => {
    const result = await run(['db', 'update', '--ecosystems', 'NPM'], { cwd: project.root, env: project.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^npm +unchanged +up to date/m);
    expect(result.stdout).toMatch(/already current/);
  });

  it.each([
    [['db', 'update', '--ecosystems', 'cobol'], { OSV_MIRROR_URL: 'http://127.0.0.1:1' }, 2, /unknown ecosystem "cobol"/],
    [['db', 'update'], { OSV_MIRROR_URL: 'ftp://mirror' }, 2, /OSV_MIRROR_URL: expected an absolute http\(s\) URL/],
    [['db', 'frob'], {}, 2, /unknown subcommand "frob"/],
    [['db', 'update', 'extra'], {}, 2, /Unexpected argument 'extra'/],
  ])('%j fails with status %i', async (argv, extraEnv, code, message) => {
    const result = await run(argv, { cwd: project.root, env: { DATA_DIR: path.join(project.root, 'other-data'), ...extraEnv } });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('exits 1 and keeps the old database when the mirror fails', async () => {
    const result = await run(['db', 'update', '--ecosystems', 'PyPI'], { cwd: project.root, env: project.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/db update failed: .*HTTP 404.*still in use/);
    const scan = await run(['scan', 'shop', '--format', 'json'], { cwd: project.root, env: project.env });
    expect(scan.stdout).toContain('GHSA-jf85-cpcp-j695');
  });
});
