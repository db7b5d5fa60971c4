import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { describe, expect, it } from 'vitest';
import { buildSbom } from '../src/scan/sbom/cyclonedx.ts';
import { purlOf } from '../src/scan/sbom/purl.ts';
import type { PackageRef } from '../src/scan/types.ts';

const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

interface CdxDoc {
  specVersion: string;
  metadata: { timestamp: string; tools: { components: { name: string; version: string }[] }; component: { name: string; version?: string; 'bom-ref': string } };
  components: { name: string; group?: string; version: string; purl: string; 'bom-ref': string; properties?: { name: string; value: string }[] }[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

function pkg(ecosystem: PackageRef['ecosystem'], name: string, version: string, extra: Partial<PackageRef> = {}): PackageRef {
  return { ecosystem, name, version, path: 'lockfile', line: 1, ...extra };
}

async function build(packages: PackageRef[]): Promise<CdxDoc> {
  const json = await buildSbom(packages, { name: 'shop', version: '2.1.0', timestamp: new Date('2026-01-02T03:04:05Z') });
  expect(await validator.validate(json)).toBeNull();
  return JSON.parse(json) as CdxDoc;
}

describe('purlOf', () => {
  it.each([
    ['npm', '@scope/name', '1.0.0', 'pkg:npm/%40scope/name@1.0.0'],
    ['npm', 'lodash', '4.17.21', 'pkg:npm/lodash@4.17.21'],
    ['PyPI', 'Django_REST', '3.1', 'pkg:pypi/django-rest@3.1'],
    ['Go', 'github.com/gin-gonic/gin', 'v1.9.1', 'pkg:golang/github.com/gin-gonic/gin@v1.9.1'],
    ['crates.io', 'serde', '1.0.190', 'pkg:cargo/serde@1.0.190'],
    ['RubyGems', 'rails', '7.1.0', 'pkg:gem/rails@7.1.0'],
    ['Packagist', 'symfony/console', 'v6.4.0', 'pkg:composer/symfony/console@v6.4.0'],
    ['Maven', 'org.apache.logging.log4j:log4j-core', '2.14.1', 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'],
    ['Pub', 'http', '1.2.0', 'pkg:pub/http@1.2.0'],
    ['Hex', 'phoenix', '1.7.10', 'pkg:hex/phoenix@1.7.10'],
    ['NuGet', 'Newtonsoft.Json', '13.0.3', 'pkg:nuget/Newtonsoft.Json@13.0.3'],
    ['SwiftURL', 'github.com/apple/swift-nio', '2.62.0', 'pkg:swift/github.com/apple/swift-nio@2.62.0'],
  ] as const)('%s %s@%s -> %s', (ecosystem, name, version, expected) => {
    expect(purlOf({ ecosystem, name, version })).toBe(expected);
  });

  it('says where a package from outside the registry came from with purl-spec qualifiers', () => {
    const qualifiers = (source: PackageRef['source']): unknown => {
      const purl = PackageURL.fromString(purlOf({ ecosystem: 'npm', name: 'util', version: '2.4.0', source }));
      expect(purl).toMatchObject({ type: 'npm', name: 'util', version: '2.4.0' });
      return purl.qualifiers;
    };
    expect(qualifiers({ kind: 'vcs', location: 'https://github.com/acme/util.git', revision: '7fd1a60b' })).toEqual({ vcs_url: 'git+https://github.com/acme/util.git@7fd1a60b' });
    expect(qualifiers({ kind: 'vcs', location: 'git+ssh://git@github.com/acme/util.git' })).toEqual({ vcs_url: 'git+ssh://git@github.com/acme/util.git' });
    expect(qualifiers({ kind: 'url', location: 'https://example.com/util-2.4.0.tgz' })).toEqual({ download_url: 'https://example.com/util-2.4.0.tgz' });
    expect(qualifiers({ kind: 'path', location: 'packages/util' })).toEqual({ repository_url: 'file:packages/util' });
    expect(qualifiers(undefined)).toBeUndefined();
  });
});

describe('buildSbom', () => {
  it('the validator rejects a broken document (so a passing validation means something)', async () => {
    expect(await validator.validate(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: 'nope' }))).not.toBeNull();
  });

  it('writes valid CycloneDX 1.6 with metadata, tool and root component', async () => {
    const doc = await build([pkg('npm', 'lodash', '4.17.21')]);
    expect(doc.specVersion).toBe('1.6');
    expect(doc.metadata.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(doc.metadata.tools.components).toEqual([expect.objectContaining({ name: 'Gatehouse', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })]);
    expect(doc.metadata.component).toMatchObject({ name: 'shop', version: '2.1.0' });
  });

  it('gives every component a purl, a bom-ref and group/name split by ecosystem convention', async () => {
    const doc = await build([
      pkg('npm', '@babel/core', '7.23.0'),
      pkg('Maven', 'com.google.guava:guava', '32.1.2-jre'),
      pkg('Go', 'golang.org/x/net', 'v0.17.0'),
    ]);
    const byPurl = new Map(doc.components.map((c) => [c.purl, c]));
    expect(byPurl.get('pkg:npm/%40babel/core@7.23.0')).toMatchObject({ group: '@babel', name: 'core', 'bom-ref': 'pkg:npm/%40babel/core@7.23.0' });
    expect(byPurl.get('pkg:maven/com.google.guava/guava@32.1.2-jre')).toMatchObject({ group: 'com.google.guava', name: 'guava' });
    expect(byPurl.get('pkg:golang/golang.org/x/net@v0.17.0')).toMatchObject({ name: 'golang.org/x/net' });
    expect(byPurl.get('pkg:golang/golang.org/x/net@v0.17.0')?.group).toBeUndefined();
  });

  it('merges a package listed by several lockfiles into one component that names both files', async () => {
    const doc = await build([
      pkg('npm', 'ms', '2.1.3', { path: 'web/package-lock.json' }),
      pkg('npm', 'ms', '2.1.3', { path: 'api/yarn.lock' }),
      pkg('npm', 'ms', '2.0.0', { path: 'api/yarn.lock' }),
    ]);
    expect(doc.components.map((c) => c.purl).sort()).toEqual(['pkg:npm/ms@2.0.0', 'pkg:npm/ms@2.1.3']);
    const merged = doc.components.find((c) => c.version === '2.1.3');
    expect(merged?.properties?.map((p) => p.value)).toEqual(['api/yarn.lock', 'web/package-lock.json']);
  });

  it('writes the lockfile graph, hangs direct packages off the root and drops edges to unknown packages', async () => {
    const doc = await build([
      pkg('npm', 'express', '4.18.2', { direct: true, dependsOn: ['debug@2.6.9', 'fsevents@2.3.3'] }),
      pkg('npm', 'debug', '2.6.9', { direct: false, dependsOn: ['ms@2.0.0'] }),
      pkg('npm', 'ms', '2.0.0', { direct: false }),
    ]);
    const graph = Object.fromEntries(doc.dependencies.map((d) => [d.ref, d.dependsOn ?? []]));
    expect(graph['root-component']).toEqual(['pkg:npm/express@4.18.2']);
    expect(graph['pkg:npm/express@4.18.2']).toEqual(['pkg:npm/debug@2.6.9']);
    expect(graph['pkg:npm/debug@2.6.9']).toEqual(['pkg:npm/ms@2.0.0']);
    expect(graph['pkg:npm/ms@2.0.0']).toEqual([]);
  });

  it('without directness information, the root depends on the packages nothing else depends on', async () => {
    const doc = await build([
      pkg('crates.io', 'tokio', '1.33.0', { dependsOn: ['bytes@1.5.0'] }),
      pkg('crates.io', 'bytes', '1.5.0'),
      pkg('PyPI', 'requests', '2.31.0'),
    ]);
    const root = doc.dependencies.find((d) => d.ref === 'root-component');
    expect(root?.dependsOn).toEqual(['pkg:cargo/tokio@1.33.0', 'pkg:pypi/requests@2.31.0']);
  });

  it('lists git and path packages under their qualified purls and keeps the graph edges to them', async () => {
    const local = { kind: 'path', location: 'libs/local-lib' } as const;
    const doc = await build([
      pkg('npm', 'local-lib', '0.1.0', { source: local, direct: true, dependsOn: ['is-odd@3.0.1'] }),
      pkg('npm', 'is-odd', '3.0.1', { direct: false, dependsOn: [] }),
      pkg('npm', 'app-shell', '1.0.0', { direct: true, dependsOn: ['local-lib@0.1.0'] }),
    ]);
    const localPurl = 'pkg:npm/local-lib@0.1.0?repository_url=file%3Alibs%2Flocal-lib';
    expect(doc.components.map((c) => c.purl).sort()).toEqual(['pkg:npm/app-shell@1.0.0', 'pkg:npm/is-odd@3.0.1', localPurl]);
    const edges = new Map(doc.dependencies.map((d) => [d.ref, d.dependsOn ?? []]));
    expect(edges.get('pkg:npm/app-shell@1.0.0')).toEqual([localPurl]);
    expect(edges.get(localPurl)).toEqual(['pkg:npm/is-odd@3.0.1']);
  });

  it('writes a valid document for a project without packages', async () => {
    const doc = await build([]);
    expect(doc.components ?? []).toEqual([]);
  });
});
