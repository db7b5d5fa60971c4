import { describe, expect, it } from 'vitest';
import { createMemoryIndex, type OsvRecord } from './deps/index.ts';
import { EMPTY_REPO_CONFIG, type RepoScanConfig } from './repo-config/types.ts';
import { FileScan, scanFiles, type ScanFile } from './scan-files.ts';

// Assembled at run time so this file holds no literal credential for scanners to trip on.
const AWS_KEY = ['AKIA', 'W37WCJI3', 'MMV5AWCN'].join('');

const LODASH_ADVISORY: OsvRecord = {
  id: 'GHSA-jf85-cpcp-j695',
  aliases: ['CVE-2019-10744'],
  summary: 'Prototype Pollution in lodash',
  database_specific: { severity: 'CRITICAL' },
  affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.12' }] }] }],
};

const PACKAGE_LOCK = JSON.stringify(
  {
    name: 'app',
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', dependencies: { lodash: '^4.17.0' } },
      'node_modules/lodash': { version: '4.17.11' },
    },
  },
  null,
  2,
);

const files: ScanFile[] = [
  { path: 'config/.env', content: `# settings\nAWS_ACCESS_KEY_ID=${AWS_KEY}\n` },
  { path: 'package-lock.json', content: PACKAGE_LOCK },
  { path: 'README.md', content: 'nothing to see\n' },
];

function config(overrides: Partial<RepoScanConfig>): RepoScanConfig {
  return { ...EMPTY_REPO_CONFIG, ...overrides };
}

describe('scanFiles', () => {
  it('reports secrets and collects packages, and says when there is no database to match them against', async () => {
    const result = await scanFiles(files);
    expect(result.findings.map((f) => [f.kind, f.ruleId, f.path, f.line])).toEqual([['secret', 'aws-access-key-id', 'config/.env', 2]]);
    expect(result.packages).toEqual([expect.objectContaining({ ecosystem: 'npm', name: 'lodash', version: '4.17.11', path: 'package-lock.json' })]);
    expect(result.notices).toEqual([expect.stringMatching(/^No vulnerability database: 1 package from 1 dependency file not checked/)]);
    expect(JSON.stringify(result)).not.toContain(AWS_KEY);
  });

  it('matches packages against the index when there is one', async () => {
    const result = await scanFiles(files, { vulnIndex: createMemoryIndex([LODASH_ADVISORY]) });
    const dependency = result.findings.find((f) => f.kind === 'dependency');
    expect(dependency).toMatchObject({ advisory: 'GHSA-jf85-cpcp-j695', severity: 'critical', package: 'lodash', fixedVersion: '4.17.12', path: 'package-lock.json' });
    expect(result.notices).toEqual([]);
  });

  it('accepts an async stream of files', async () => {
    async function* stream() {
      yield* files;
    }
    expect((await scanFiles(stream())).findings).toHaveLength(1);
  });

  it('says which ecosystems the database does not cover', async () => {
    const result = await scanFiles([{ path: 'requirements.txt', content: 'django==3.2.0\n' }], { vulnIndex: createMemoryIndex([LODASH_ADVISORY]) });
    expect(result.notices).toEqual(['The vulnerability database holds no PyPI advisories: 1 PyPI package not checked.']);
  });

  it('applies the repository severity overrides and ignored fingerprints to dependency findings too', async () => {
    const index = createMemoryIndex([LODASH_ADVISORY]);
    const overridden = await scanFiles(files, { vulnIndex: index, config: config({ severityOverrides: { 'GHSA-jf85-cpcp-j695': 'low' } }) });
    expect(overridden.findings.find((f) => f.kind === 'dependency')?.severity).toBe('low');

    const fingerprint = overridden.findings.find((f) => f.kind === 'dependency')!.fingerprint;
    const ignored = await scanFiles(files, { vulnIndex: index, config: config({ ignoredFingerprints: [fingerprint] }) });
    expect(ignored.findings.map((f) => f.kind)).toEqual(['secret']);
  });

  it('skips dependency files under ignored paths', async () => {
    const scan = new FileScan({ config: config({ ignorePaths: ['package-lock.json'] }) });
    expect(scan.wants('package-lock.json')).toBe(false);
    expect(scan.wants('config/.env')).toBe(true);
    expect(new FileScan().wants('package-lock.json')).toBe(true);
    expect(new FileScan().wants('node_modules/x/index.js')).toBe(false);
  });

  it('turns an unreadable lockfile into a notice and keeps going', async () => {
    const result = await scanFiles([{ path: 'package-lock.json', content: '{ not json' }, files[0]!]);
    expect(result.findings).toHaveLength(1);
    expect(result.notices[0]).toMatch(/^package-lock\.json: .*its packages were not checked\.$/);
  });

  it('scans only the added lines of a diff, and says lockfiles in a diff are not matched', async () => {
    const result = await scanFiles([
      { path: 'app.env', addedLines: [{ line: 7, text: `KEY=${AWS_KEY}` }] },
      { path: 'package-lock.json', addedLines: [{ line: 3, text: '"version": "4.17.11",' }] },
    ]);
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([['app.env', 7]]);
    expect(result.packages).toEqual([]);
    expect(result.notices).toEqual([expect.stringContaining('not checked for vulnerable packages, because a diff does not hold the whole file: package-lock.json')]);
  });

  it('hands binary files to whole-file rules only', async () => {
    const result = await scanFiles([
      { path: 'certs/client.p12', binary: true },
      { path: 'data/blob.bin', binary: true },
    ]);
    expect(result.findings.map((f) => [f.ruleId, f.path, f.line])).toEqual([['pkcs12-file', 'certs/client.p12', 0]]);
  });
});
