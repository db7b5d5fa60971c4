import { describe, expect, it } from 'vitest';
import type { CodeHost } from '../src/core/code-host.ts';
import { checkDependencies, LockfileCache, type LockfileParser } from '../src/core/dependency-check.ts';
import { lockfileTask } from '../src/core/scan-pool/tasks.ts';
import { createMemoryIndex } from '../src/scan/deps/index.ts';
import { EMPTY_REPO_CONFIG } from '../src/scan/repo-config/index.ts';

const INDEX = createMemoryIndex([
  {
    id: 'GHSA-test-0001',
    modified: '2024-01-01T00:00:00Z',
    summary: 'prototype pollution',
    affected: [{ package: { ecosystem: 'PyPI', name: 'pyyaml' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.4' }] }] }],
    database_specific: { severity: 'CRITICAL' },
  },
  {
    id: 'GHSA-test-0002',
    modified: '2024-01-01T00:00:00Z',
    summary: 'request smuggling',
    affected: [{ package: { ecosystem: 'PyPI', name: 'requests' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.31.0' }] }] }],
    database_specific: { severity: 'MODERATE' },
  },
]);

/** Serves file contents per commit and counts reads. */
function files(byCommit: Record<string, Record<string, string>>) {
  const reads: string[] = [];
  const host = {
    async getFile(_repo: unknown, commit: string, path: string) {
      reads.push(`${commit}:${path}`);
      return byCommit[commit]?.[path] ?? null;
    },
  } as unknown as CodeHost;
  return { client: host, reads };
}

/** What a scan thread does, run here (scan-pool.test.ts covers the threads). */
const parser: LockfileParser = { parseLockfile: async (path, content) => lockfileTask(path, content) };

const input = (host: CodeHost, cache: LockfileCache, source = 'src1') => ({
  target: { host, workspace: 'w', slug: 's' },
  sourceCommit: source,
  baseCommit: 'dst',
  files: [{ path: 'requirements.txt', oldPath: 'requirements.txt' }],
  vulnIndex: INDEX,
  config: EMPTY_REPO_CONFIG,
  cache,
});

describe('checkDependencies', () => {
  it('marks vulnerabilities already at the destination as existing and the others as new', async () => {
    const { client } = files({ src1: { 'requirements.txt': 'requests==2.19.0\npyyaml==5.1\n' }, dst: { 'requirements.txt': 'requests==2.20.0\n' } });
    const result = await checkDependencies(input(client, new LockfileCache(parser)));
    expect(result.findings.map((f) => [f.package, f.version, f.isNew, f.line])).toEqual([
      ['requests', '2.19.0', false, 1],
      ['pyyaml', '5.1', true, 2],
    ]);
    expect(result.packages.map((p) => p.name)).toEqual(['requests', 'pyyaml']);
  });

  it('does not parse or match a lockfile whose content it has seen before', async () => {
    const content = 'requests==2.19.0\n';
    const { client, reads } = files({ src1: { 'requirements.txt': content }, src2: { 'requirements.txt': content }, dst: { 'requirements.txt': content } });
    const cache = new LockfileCache(parser);
    const first = await checkDependencies(input(client, cache, 'src1'));
    const second = await checkDependencies(input(client, cache, 'src2'));
    expect(first.cached).toBe(1); // the destination has the same content as the source
    expect(second.cached).toBe(2);
    expect(second.findings).toEqual(first.findings);
    expect(reads).toHaveLength(4);
  });

  it('says so when a lockfile cannot be read, or when there is no database', async () => {
    const { client } = files({ src1: { 'requirements.txt': 'requests==2.19.0\n' }, dst: {} });
    const none = await checkDependencies({ ...input(client, new LockfileCache(parser)), vulnIndex: null });
    expect(none.findings).toEqual([]);
    expect(none.notices).toEqual(['No vulnerability database: 1 changed dependency file(s) not checked for known vulnerabilities.']);
    const broken = files({ src1: { 'package-lock.json': '{ not json' } });
    const bad = await checkDependencies({ ...input(broken.client, new LockfileCache(parser)), files: [{ path: 'package-lock.json', oldPath: null }] });
    expect(bad.notices[0]).toMatch(/package-lock\.json.*not checked/);
  });

  it('keeps the cache bounded, least recently used out first', () => {
    const cache = new LockfileCache(parser, { maxEntries: 2 });
    cache.set('a', { packages: [], findings: [] });
    cache.set('b', { packages: [], findings: [] });
    cache.get('a');
    cache.set('c', { packages: [], findings: [] });
    expect([cache.get('a') !== undefined, cache.get('b') !== undefined, cache.get('c') !== undefined]).toEqual([true, false, true]);
  });
});
