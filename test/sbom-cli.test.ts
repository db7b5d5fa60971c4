import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, PACKAGE_LOCK, run, sampleProject, tempDir, writeTree } from './fixtures/cli/harness.ts';

const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
let root: string;

interface Bom {
  metadata: { component: { name: string } };
  components?: { purl: string }[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
}

beforeAll(() => {
  root = tempDir();
  sampleProject(path.join(root, 'shop'));
  // A second lockfile pinning one of the same packages: the SBOM lists it once.
  writeTree(root, {
    'shop/web/package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/lodash': { version: '4.17.11' } } }),
    'shop/api/requirements.txt': 'Django==4.2.7\n',
    'shop/node_modules/ignored/package-lock.json': PACKAGE_LOCK,
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('gatehouse sbom', () => {
  it('writes a valid CycloneDX 1.6 document of every lockfile under the directory to stdout', async () => {
    const result = await run(['sbom', 'shop'], { cwd: root });
    expect(result.code).toBe(0);
    expect(await validator.validate(result.stdout)).toBeNull();
    const bom = JSON.parse(result.stdout) as Bom;
    expect(bom.metadata.component.name).toBe('shop');
    expect(bom.components?.map((c) => c.purl).sort()).toEqual([
      'pkg:npm/debug@2.6.9',
      'pkg:npm/express@4.18.2',
      'pkg:npm/lodash@4.17.11',
      'pkg:pypi/django@4.2.7',
    ]);
    const graph = new Map(bom.dependencies?.map((d) => [d.ref, d.dependsOn ?? []]));
    expect(graph.get('pkg:npm/express@4.18.2')).toEqual(['pkg:npm/debug@2.6.9']);
    expect(result.stdout).not.toContain(AWS_KEY);
  });

  it('writes to --output and says so on stderr', async () => {
    const result = await run(['sbom', 'shop', '--output', 'bom.json'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/wrote an SBOM of 4 packages to bom.json/);
    expect(await validator.validate(readFileSync(path.join(root, 'bom.json'), 'utf8'))).toBeNull();
  });

  it('accepts a single lockfile', async () => {
    const result = await run(['sbom', 'shop/api/requirements.txt'], { cwd: root });
    const bom = JSON.parse(result.stdout) as Bom;
    expect(bom.components?.map((c) => c.purl)).toEqual(['pkg:pypi/django@4.2.7']);
    expect(bom.metadata.component.name).toBe('api');
  });

  it('reads a UTF-16 requirements.txt (as PowerShell writes it) instead of skipping it as binary, and tells skipped lockfile lines', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Flask==2.0.1\r\nJinja2==3.0.1\r\n', 'utf16le')]);
    writeFileSync(path.join(root, 'win-requirements.txt'), utf16);
    const single = await run(['sbom', 'win-requirements.txt'], { cwd: root });
    expect((JSON.parse(single.stdout) as Bom).components?.map((c) => c.purl).sort()).toEqual(['pkg:pypi/flask@2.0.1', 'pkg:pypi/jinja2@3.0.1']);
    writeTree(root, { 'gradle-app/gradle.lockfile': 'org.yaml:snakeyaml:1.26=runtimeClasspath\n<<<<<<< HEAD\n' });
    const gradle = await run(['sbom', 'gradle-app/gradle.lockfile'], { cwd: root });
    expect((JSON.parse(gradle.stdout) as Bom).components?.map((c) => c.purl)).toEqual(['pkg:maven/org.yaml/snakeyaml@1.26']);
    expect(gradle.stderr).toContain('gradle.lockfile: line 2 is not "group:artifact:version=configurations" and skipped');
  });

  it.each([
    [['sbom'], /exactly one PATH/],
    [['sbom', 'a', 'b'], /exactly one PATH/],
    [['sbom', 'missing'], /missing: no such file or directory/],
    [['sbom', 'shop/.env'], /not a lockfile or manifest/],
    [['sbom', 'shop', '--output', 'no/such/dir/bom.json'], /--output no\/such\/dir\/bom.json: cannot be written \(ENOENT\)/],
  ])('%j exits 2', async (argv, message) => {
    const result = await run(argv, { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
