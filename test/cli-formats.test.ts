import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, LODASH_ADVISORY, run, useMirroredProject, writeTree } from './fixtures/cli/harness.ts';
import { validateSarif } from './fixtures/cli/sarif-validator.ts';

// Every --format the CLI offers, on the same project: one scan, four readers.

const project = useMirroredProject([LODASH_ADVISORY]);

beforeAll(async () => {
  expect((await run(['db', 'update', '--ecosystems', 'npm'], { cwd: project.root, env: project.env })).code).toBe(0);
});

describe('gatehouse scan --format', { timeout: 60_000 }, () => {
  it('cyclonedx: a valid CycloneDX 1.6 SBOM of the packages read, with their known vulnerabilities', async () => {
    const result = await run(['scan', 'shop', '--format', 'cyclonedx'], { cwd: project.root, env: project.env });
    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(result.stdout)).toBeNull();
    const bom = JSON.parse(result.stdout) as {
      components: { purl: string; 'bom-ref': string }[];
      vulnerabilities: { id: string; source: { name: string }; ratings: { severity: string }[]; recommendation?: string; affects: { ref: string }[] }[];
    };
    expect(bom.components.map((c) => c.purl).sort()).toEqual(['pkg:npm/debug@2.6.9', 'pkg:npm/express@4.18.2', 'pkg:npm/lodash@4.17.11']);
    expect(bom.vulnerabilities).toEqual([
      expect.objectContaining({
        id: 'GHSA-jf85-cpcp-j695',
        source: expect.objectContaining({ name: 'OSV' }),
        ratings: [{ severity: 'critical' }],
        recommendation: expect.stringContaining('4.17.12'),
        affects: [{ ref: 'pkg:npm/lodash@4.17.11' }],
      }),
    ]);
    // Secrets have no place in an SBOM: said on stderr, still counted by the exit status.
    expect(result.stderr).toMatch(/2 secret finding\(s\) are not part of a CycloneDX SBOM/);
    expect(result.stdout).not.toContain(AWS_KEY);
    expect(result.code).toBe(1);
  });

  it('text, json and sarif report the same findings', async () => {
    const json = await run(['scan', 'shop', '--format', 'json'], { cwd: project.root, env: project.env });
    const sarif = await run(['scan', 'shop', '--format', 'sarif'], { cwd: project.root, env: project.env });
    const text = await run(['scan', 'shop'], { cwd: project.root, env: project.env });
    const ids = (JSON.parse(json.stdout) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId).sort();
    const log = JSON.parse(sarif.stdout);
    expect(validateSarif(log)).toBe(true);
    expect((log.runs[0].results as { ruleId: string }[]).map((r) => r.ruleId).sort()).toEqual(ids);
    for (const id of ids) expect(text.stdout).toContain(id);
    expect([json.code, sarif.code, text.code]).toEqual([1, 1, 1]);
  });

  it('cyclonedx of a tree without lockfiles is an SBOM with no components', async () => {
    writeTree(project.root, { 'plain/readme.md': 'hello\n' });
    const result = await run(['scan', 'plain', '--format', 'cyclonedx'], { cwd: project.root, env: project.env });
    expect(result.code).toBe(0);
    const bom = JSON.parse(result.stdout) as { bomFormat: string; components?: unknown[] };
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.components ?? []).toEqual([]);
  });
});
