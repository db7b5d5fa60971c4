import { describe, expect, it } from 'vitest';
import type { CodeHost } from '../src/core/code-host.ts';
import { checkDependencies, LockfileCache, packagesOf, type LockfileParser } from '../src/core/dependency-check.ts';
import { ScanBudgetExceeded } from '../src/core/scan-pool/pool.ts';
import { dependencyContextTask, dependencySetTask, lockfileTask } from '../src/core/scan-pool/tasks.ts';
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
const parser: LockfileParser = {
  parseLockfile: async (path, content) => lockfileTask(path, content),
  parseDependencySet: async (set) => dependencySetTask(set),
  dependencyContext: async (path, content) => dependencyContextTask(path, content),
};

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

/** Advisories in npm, Go and Maven for the files a changed file is read with. */
const CONTEXT_INDEX = createMemoryIndex(
  [
    ['GHSA-ctx-npm', 'npm', 'lodash', '4.17.12'],
    ['GHSA-ctx-go', 'Go', 'golang.org/x/text', '0.3.8'],
    ['GHSA-ctx-mvn', 'Maven', 'com.fasterxml.jackson.core:jackson-databind', '2.13.4'],
  ].map(([id, ecosystem, name, fixed]) => ({
    id: id!,
    modified: '2024-01-01T00:00:00Z',
    affected: [{ package: { ecosystem: ecosystem!, name: name! }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: fixed! }] }] }],
    database_specific: { severity: 'HIGH' },
  })),
);

const npmLock = (lodash: string) => JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/lodash': { version: lodash } } });
const GO_MOD = 'module example.com/app\n\ngo 1.16\n\nrequire github.com/gin-gonic/gin v1.9.1\n';
const GO_SUM = 'github.com/gin-gonic/gin v1.9.1 h1:abc=\ngithub.com/gin-gonic/gin v1.9.1/go.mod h1:def=\ngolang.org/x/text v0.3.7 h1:ghi=\ngolang.org/x/text v0.3.7/go.mod h1:jkl=\n';
const PARENT_POM =
  '<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>parent</artifactId><version>1</version><packaging>pom</packaging>' +
  '<properties><jackson.version>2.13.0</jackson.version></properties></project>';
const CHILD_POM =
  '<project><modelVersion>4.0.0</modelVersion><parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>1</version></parent><artifactId>api</artifactId>' +
  '<dependencies><dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>${jackson.version}</version></dependency></dependencies></project>';

describe('checkDependencies reads a changed file with the files that change what it yields, as a full scan does', () => {
  const check = (byCommit: Record<string, Record<string, string>>, changed: string[]) => {
    const { client } = files(byCommit);
    return checkDependencies({
      ...input(client, new LockfileCache(parser)),
      baseCommit: null,
      files: changed.map((path) => ({ path, oldPath: null })),
      vulnIndex: CONTEXT_INDEX,
    });
  };
  const found = (result: Awaited<ReturnType<typeof check>>) => result.findings.map((f) => `${f.package}@${f.version} ${f.path}`);

  it('a package-lock.json beside an npm-shrinkwrap.json is what npm ignores: nothing from it', async () => {
    const hidden = await check({ src1: { 'app/package-lock.json': npmLock('4.17.11'), 'app/npm-shrinkwrap.json': npmLock('4.17.21') } }, ['app/package-lock.json']);
    expect(hidden.findings).toEqual([]);
    expect(hidden.packages).toEqual([]);
    const alone = await check({ src1: { 'app/package-lock.json': npmLock('4.17.11') } }, ['app/package-lock.json']);
    expect(found(alone)).toEqual(['lodash@4.17.11 app/package-lock.json']);
  });

  it('a go.mod of Go 1.16 is completed by its go.sum; a go.sum changed alone brings what it adds to the go.mod', async () => {
    const both = await check({ src1: { 'svc/go.mod': GO_MOD, 'svc/go.sum': GO_SUM } }, ['svc/go.mod', 'svc/go.sum']);
    expect(found(both)).toEqual(['golang.org/x/text@v0.3.7 svc/go.sum']);
    const sumOnly = await check({ src1: { 'svc/go.mod': GO_MOD, 'svc/go.sum': GO_SUM } }, ['svc/go.sum']);
    expect(found(sumOnly)).toEqual(['golang.org/x/text@v0.3.7 svc/go.sum']);
    // From Go 1.17 go.mod lists every module the build uses; go.sum adds nothing.
    const modern = await check({ src1: { 'svc/go.mod': GO_MOD.replace('go 1.16', 'go 1.21'), 'svc/go.sum': GO_SUM } }, ['svc/go.sum']);
    expect(modern.findings).toEqual([]);
  });

  it('a pom takes versions from its local parent (relativePath ../pom.xml by default)', async () => {
    const result = await check({ src1: { 'pom.xml': PARENT_POM, 'api/pom.xml': CHILD_POM } }, ['api/pom.xml']);
    expect(found(result)).toEqual(['com.fasterxml.jackson.core:jackson-databind@2.13.0 api/pom.xml']);
  });

  it('a requirements file is read with what it includes (-r) and its constraints (-c), relative to it and inside the repository', async () => {
    const { client, reads } = files({
      src1: {
        'py/requirements.txt': '-r base.in\n-c ../constraints.txt\n-r ../../../etc/passwd\nrequests\n',
        'py/base.in': '-r requirements.txt\npyyaml==5.1\n',
        'constraints.txt': 'requests==2.19.0\n',
      },
    });
    const result = await checkDependencies({ ...input(client, new LockfileCache(parser)), baseCommit: null, files: [{ path: 'py/requirements.txt', oldPath: null }] });
    expect(result.findings.map((f) => `${f.package}@${f.version} ${f.path}:${f.line}`)).toEqual(['requests@2.19.0 py/requirements.txt:4', 'pyyaml@5.1 py/base.in:2']);
    expect(reads).toEqual(['src1:py/requirements.txt', 'src1:py/base.in', 'src1:constraints.txt']);
  });

  it('go.mod, go.sum and pom.xml are parsed in the scan pool, never here; one over its budget is reported, not thrown', async () => {
    const calls: string[] = [];
    let overBudget = false;
    const recording: LockfileParser = {
      parseLockfile: async (path, content) => (calls.push(`file ${path}`), lockfileTask(path, content)),
      parseDependencySet: async (set) => {
        calls.push(`set ${set.map((f) => f.path).join(' ')}`);
        if (overBudget) throw new ScanBudgetExceeded('time', 'the scan exceeded its time budget of 30 s and was stopped');
        return dependencySetTask(set);
      },
      dependencyContext: async (path, content) => (calls.push(`context ${path}`), dependencyContextTask(path, content)),
    };
    const { client } = files({ src1: { 'svc/go.mod': GO_MOD, 'svc/go.sum': GO_SUM, 'pom.xml': PARENT_POM, 'api/pom.xml': CHILD_POM } });
    const run = () =>
      checkDependencies({
        ...input(client, new LockfileCache(recording)),
        baseCommit: null,
        files: [{ path: 'svc/go.mod', oldPath: null }, { path: 'api/pom.xml', oldPath: null }],
        vulnIndex: CONTEXT_INDEX,
      });
    const result = await run();
    expect(result.findings.map((f) => f.package)).toEqual(['golang.org/x/text', 'com.fasterxml.jackson.core:jackson-databind']);
    expect(calls).toEqual(['set svc/go.mod svc/go.sum', 'context api/pom.xml', 'context pom.xml', 'set api/pom.xml pom.xml']);

    overBudget = true;
    const stopped = await run();
    expect(stopped.findings).toEqual([]);
    expect(stopped.notices).toEqual([
      'svc/go.mod: the scan exceeded its time budget of 30 s and was stopped; its packages were not checked.',
      'api/pom.xml: the scan exceeded its time budget of 30 s and was stopped; its packages were not checked.',
    ]);

    // An inventory (packagesOf) reads them together in one task too, and caches it by content.
    calls.length = 0;
    overBudget = false;
    const cache = new LockfileCache(recording);
    const contents = [
      { path: 'svc/go.mod', content: GO_MOD },
      { path: 'svc/go.sum', content: GO_SUM },
      { path: 'requirements.txt', content: 'requests==2.19.0\n' },
    ];
    const inventory = await packagesOf(contents, cache);
    expect(inventory.packages.map((p) => `${p.name} ${p.path}`)).toEqual(['requests requirements.txt', 'github.com/gin-gonic/gin svc/go.mod', 'golang.org/x/text svc/go.sum']);
    await packagesOf(contents, cache);
    expect(calls).toEqual(['set svc/go.mod svc/go.sum requirements.txt']);
  });
});
