import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryIndex, cvss3BaseScore, matchPackages, type OsvRecord, type PackageRef } from '../src/scan/deps/index.ts';
import { approximateCvss4 } from '../src/scan/deps/osv/severity.ts';

function pkg(ecosystem: PackageRef['ecosystem'], name: string, version: string, extra: Partial<PackageRef> = {}): PackageRef {
  return { ecosystem, name, version, path: 'package-lock.json', line: 7, ...extra };
}

function advisory(id: string, ecosystem: string, name: string, events: Record<string, string>[], extra: Partial<OsvRecord> = {}, type = 'ECOSYSTEM'): OsvRecord {
  return {
    id,
    modified: '2024-01-01T00:00:00Z',
    summary: `${id} summary`,
    affected: [{ package: { ecosystem, name }, ranges: [{ type, events }] }],
    ...extra,
  };
}

function affectedVersions(record: OsvRecord, ecosystem: PackageRef['ecosystem'], name: string, versions: string[]): string[] {
  const db = createMemoryIndex([record]);
  return versions.filter((v) => matchPackages(db, [pkg(ecosystem, name, v)]).length > 0);
}

describe('OSV range evaluation', () => {
  it('introduced "0" with fixed: everything before the fix', () => {
    const rec = advisory('GHSA-aaaa-bbbb-cccc', 'npm', 'lodash', [{ introduced: '0' }, { fixed: '4.17.21' }], {}, 'SEMVER');
    expect(affectedVersions(rec, 'npm', 'lodash', ['0.1.0', '4.17.20', '4.17.21-rc.1', '4.17.21', '5.0.0'])).toEqual(['0.1.0', '4.17.20', '4.17.21-rc.1']);
  });

  it('several introduced/fixed spans in one range, events given out of order', () => {
    const rec = advisory('GHSA-1', 'npm', 'qs', [{ fixed: '6.2.4' }, { introduced: '6.3.0' }, { introduced: '6.0.0' }, { fixed: '6.3.3' }]);
    expect(affectedVersions(rec, 'npm', 'qs', ['5.9.9', '6.0.0', '6.2.3', '6.2.4', '6.2.9', '6.3.0', '6.3.2', '6.3.3', '6.9.0'])).toEqual(['6.0.0', '6.2.3', '6.3.0', '6.3.2']);
  });

  it('last_affected is inclusive; no upper bound means all later versions', () => {
    const last = advisory('GHSA-2', 'PyPI', 'django', [{ introduced: '3.0' }, { last_affected: '3.2.4' }]);
    expect(affectedVersions(last, 'PyPI', 'Django', ['2.2', '3.0', '3.2.4', '3.2.5'])).toEqual(['3.0', '3.2.4']);
    const open = advisory('GHSA-3', 'PyPI', 'django', [{ introduced: '3.0' }]);
    expect(affectedVersions(open, 'PyPI', 'django', ['2.9', '3.0', '99.0'])).toEqual(['3.0', '99.0']);
  });

  it('Go: go.mod versions keep their v, OSV ranges and lists drop it', () => {
    const ranged = advisory('GO-2022-0493', 'Go', 'golang.org/x/sys', [{ introduced: '0' }, { fixed: '0.0.0-20220412211240-33da011f77ad' }], {}, 'SEMVER');
    expect(affectedVersions(ranged, 'Go', 'golang.org/x/sys', ['v0.0.0-20200116001909-b77594299b42', 'v0.0.0-20220412211240-33da011f77ad', 'v0.1.0'])).toEqual(['v0.0.0-20200116001909-b77594299b42']);
    const listed: OsvRecord = { id: 'GO-2023-1', affected: [{ package: { ecosystem: 'Go', name: 'example.com/m' }, versions: ['1.2.3'] }] };
    expect(affectedVersions(listed, 'Go', 'example.com/m', ['v1.2.3', 'v1.2.4'])).toEqual(['v1.2.3']);
  });

  it('limit caps the range', () => {
    const rec = advisory('GHSA-4', 'Go', 'golang.org/x/net', [{ introduced: '0' }, { limit: '0.7.0' }], {}, 'SEMVER');
    expect(affectedVersions(rec, 'Go', 'golang.org/x/net', ['v0.6.0', 'v0.7.0', 'v0.17.0'])).toEqual(['v0.6.0']);
  });

  it('explicit versions lists, GIT ranges ignored, ecosystem-specific ordering', () => {
    const rec: OsvRecord = {
      id: 'MAL-2024-1',
      affected: [
        { package: { ecosystem: 'npm', name: 'evil-pkg' }, versions: ['1.0.1', '1.0.3'], ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] },
      ],
    };
    expect(affectedVersions(rec, 'npm', 'evil-pkg', ['1.0.0', '1.0.1', '1.0.2', '1.0.3'])).toEqual(['1.0.1', '1.0.3']);
    const maven = advisory('GHSA-jfh8-c2jp-5v3q', 'Maven', 'org.apache.logging.log4j:log4j-core', [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }]);
    expect(affectedVersions(maven, 'Maven', 'org.apache.logging.log4j:log4j-core', ['2.0-alpha1', '2.0-beta9', '2.0', '2.14.1', '2.15.0'])).toEqual(['2.0-beta9', '2.0', '2.14.1']);
  });

  it('withdrawn records and other ecosystems never match', () => {
    const withdrawn = advisory('GHSA-5', 'npm', 'lodash', [{ introduced: '0' }], { withdrawn: '2024-02-01T00:00:00Z' });
    expect(affectedVersions(withdrawn, 'npm', 'lodash', ['1.0.0'])).toEqual([]);
    const pypi = advisory('PYSEC-1', 'PyPI', 'lodash', [{ introduced: '0' }]);
    expect(affectedVersions(pypi, 'npm', 'lodash', ['1.0.0'])).toEqual([]);
  });

  it('never matches a package from git, an archive or a path: advisories name registry releases', () => {
    const db = createMemoryIndex([advisory('GHSA-src', 'npm', 'left-pad', [{ introduced: '0' }])]);
    expect(matchPackages(db, [pkg('npm', 'left-pad', '1.3.0')])).toHaveLength(1);
    for (const source of [
      { kind: 'vcs', location: 'https://github.com/stevemao/left-pad', revision: '5fb96e3a' },
      { kind: 'url', location: 'https://example.com/left-pad-1.3.0.tgz' },
      { kind: 'path', location: 'vendor/left-pad' },
    ] as const) {
      expect(matchPackages(db, [pkg('npm', 'left-pad', '1.3.0', { source })]), source.kind).toEqual([]);
    }
  });

  it('new ecosystems: NuGet names fold case, SwiftURL names are repository URLs without scheme or .git', () => {
    const nuget = advisory('GHSA-nu', 'NuGet', 'Newtonsoft.Json', [{ introduced: '0' }, { fixed: '13.0.1' }]);
    expect(affectedVersions(nuget, 'NuGet', 'newtonsoft.json', ['12.0.3', '13.0.1'])).toEqual(['12.0.3']);
    const swift = advisory('GHSA-sw', 'SwiftURL', 'github.com/vapor/vapor', [{ introduced: '0' }, { fixed: '4.84.2' }]);
    expect(affectedVersions(swift, 'SwiftURL', 'https://github.com/Vapor/vapor.git', ['4.84.1', '4.84.2'])).toEqual(['4.84.1']);
    const hex = advisory('GHSA-hx', 'Hex', 'plug', [{ introduced: '1.3.0' }, { fixed: '1.3.2' }]);
    expect(affectedVersions(hex, 'Hex', 'plug', ['1.2.9', '1.3.1', '1.3.2'])).toEqual(['1.3.1']);
    const pub = advisory('GHSA-pb', 'Pub', 'http', [{ introduced: '0' }, { fixed: '0.13.3' }]);
    expect(affectedVersions(pub, 'Pub', 'http', ['0.13.2', '0.13.3', '1.0.0'])).toEqual(['0.13.2']);
  });

  it('normalises names per ecosystem: PEP 503 for PyPI, case for Packagist, exact for npm', () => {
    const py = advisory('PYSEC-2', 'PyPI', 'PyYAML', [{ introduced: '0' }, { fixed: '5.4' }]);
    expect(affectedVersions(py, 'PyPI', 'pyyaml', ['5.3.1'])).toEqual(['5.3.1']);
    expect(affectedVersions(py, 'PyPI', 'py_yaml', ['5.3.1'])).toEqual([]);
    const zope = advisory('PYSEC-3', 'PyPI', 'zope.interface', [{ introduced: '0' }]);
    expect(affectedVersions(zope, 'PyPI', 'Zope_Interface', ['1.0'])).toEqual(['1.0']);
    const php = advisory('GHSA-6', 'Packagist', 'symfony/http-kernel', [{ introduced: '5.0.0' }, { fixed: '5.2.2' }]);
    expect(affectedVersions(php, 'Packagist', 'Symfony/Http-Kernel', ['5.2.1'])).toEqual(['5.2.1']);
    const npm = advisory('GHSA-7', 'npm', 'JSONStream', [{ introduced: '0' }]);
    expect(affectedVersions(npm, 'npm', 'jsonstream', ['1.0.0'])).toEqual([]);
  });
});

describe('findings', () => {
  const ghsa: OsvRecord = {
    id: 'GHSA-r9p9-mrjm-926w',
    aliases: ['CVE-2021-23337'],
    summary: 'Command Injection in lodash',
    modified: '2024-01-01T00:00:00Z',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [
      { package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] },
      { package: { ecosystem: 'npm', name: 'lodash-es' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] },
    ],
  };
  const osvOwn: OsvRecord = {
    id: 'OSV-2021-999',
    aliases: ['CVE-2021-23337'],
    summary: 'lodash template injection',
    database_specific: { severity: 'CRITICAL' },
    affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '4.0.0' }, { fixed: '4.17.21' }] }] }],
  };
  const reopened = advisory('GHSA-reop-ened-0000', 'npm', 'lodash', [{ introduced: '4.0.0' }, { fixed: '4.17.20' }, { introduced: '4.17.20' }, { fixed: '4.17.22' }], {}, 'SEMVER');

  it('merges records that alias each other into one finding with the GHSA as its id', () => {
    const db = createMemoryIndex([osvOwn, ghsa]);
    const findings = matchPackages(db, [pkg('npm', 'lodash', '4.17.15')]);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f).toMatchObject({
      kind: 'dependency',
      ruleId: 'GHSA-r9p9-mrjm-926w',
      advisory: 'GHSA-r9p9-mrjm-926w',
      aliases: ['CVE-2021-23337', 'OSV-2021-999'],
      summary: 'Command Injection in lodash',
      // The worst rating among merged records wins.
      severity: 'critical',
      fixedVersion: '4.17.21',
      ecosystem: 'npm',
      package: 'lodash',
      version: '4.17.15',
      path: 'package-lock.json',
      line: 7,
      url: 'https://osv.dev/vulnerability/GHSA-r9p9-mrjm-926w',
    });
    expect(f?.message).toBe('lodash 4.17.15 is affected by GHSA-r9p9-mrjm-926w (CVE-2021-23337, OSV-2021-999): Command Injection in lodash; upgrade to 4.17.21 or later.');
    expect(f?.fingerprint).toBe(createHash('sha256').update(['npm', 'lodash', '4.17.15', 'GHSA-r9p9-mrjm-926w', 'package-lock.json'].join('\u0000')).digest('hex'));
  });

  it('suggests the lowest fix above the installed version that is not itself affected, and says when there is none', () => {
    const db = createMemoryIndex([reopened]);
    expect(matchPackages(db, [pkg('npm', 'lodash', '4.17.20')])[0]?.fixedVersion).toBe('4.17.22');
    // 4.17.20 fixes the first span but opens the next, so it is not worth suggesting.
    expect(matchPackages(db, [pkg('npm', 'lodash', '4.1.0')])[0]?.fixedVersion).toBe('4.17.22');
    const unfixed = createMemoryIndex([advisory('GHSA-8', 'npm', 'left-pad', [{ introduced: '0' }])]);
    const [f] = matchPackages(unfixed, [pkg('npm', 'left-pad', '1.3.0')]);
    expect(f?.fixedVersion).toBeUndefined();
    expect(f?.message).toMatch(/no fixed version is known\.$/);
  });

  it('one finding per package, advisory and file: the first line of repeated entries; separate files stay separate', () => {
    const db = createMemoryIndex([ghsa]);
    const findings = matchPackages(db, [
      pkg('npm', 'lodash', '4.17.15', { line: 90 }),
      pkg('npm', 'lodash', '4.17.15', { line: 12 }),
      pkg('npm', 'lodash', '4.17.15', { path: 'web/package-lock.json', line: 3 }),
      pkg('npm', 'lodash', '4.17.21', { line: 40 }),
    ]);
    expect(findings.map((f) => [f.path, f.line])).toEqual([['package-lock.json', 12], ['web/package-lock.json', 3]]);
    expect(new Set(findings.map((f) => f.fingerprint)).size).toBe(2);
  });

  it('severity: CVSS v3 scored, then the database rating, then v4, else medium', () => {
    const rated = (extra: Partial<OsvRecord>): string | undefined =>
      matchPackages(createMemoryIndex([advisory('GHSA-9', 'npm', 'x', [{ introduced: '0' }], extra)]), [pkg('npm', 'x', '1.0.0')])[0]?.severity;
    expect(rated({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N' }], database_specific: { severity: 'CRITICAL' } })).toBe('medium');
    expect(rated({ database_specific: { severity: 'MODERATE' } })).toBe('medium');
    expect(rated({ database_specific: { severity: 'HIGH' } })).toBe('high');
    expect(rated({ severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }], database_specific: { severity: 'LOW' } })).toBe('low');
    expect(rated({ severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }] })).toBe('critical');
    expect(rated({})).toBe('medium');
    expect(rated({ severity: [{ type: 'CVSS_V3', score: 'garbage' }] })).toBe('medium');
  });

  it('returns nothing for packages the index has no advisories for', () => {
    expect(matchPackages(createMemoryIndex([ghsa]), [pkg('npm', 'express', '4.17.1'), pkg('PyPI', 'lodash', '1.0')])).toEqual([]);
  });
});

describe('CVSS v3 base score', () => {
  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
    ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.9],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
    ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
  ])('%s → %d', (vector, score) => {
    expect(cvss3BaseScore(vector)).toBe(score);
  });

  it('rejects incomplete or foreign vectors', () => {
    for (const v of ['CVSS:3.1/AV:N/AC:L', 'CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P', 'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H']) {
      expect(cvss3BaseScore(v), v).toBeUndefined();
    }
  });

  it('reads CVSS v4 vectors coarsely', () => {
    expect(approximateCvss4('CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe('high');
    expect(approximateCvss4('CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe('medium');
    expect(approximateCvss4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe('low');
    expect(approximateCvss4('CVSS:3.1/AV:N')).toBeUndefined();
  });
});

describe('lockfile to findings', () => {
  it('reports each vulnerable package at its own entry line, across ecosystems', async () => {
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { parseLockfile } = await import('../src/scan/deps/index.ts');
    const dir = path.join(import.meta.dirname, 'fixtures/lockfiles');
    const read = (f: string) => parseLockfile(f, readFileSync(path.join(dir, f), 'utf8'));
    const db = createMemoryIndex([
      advisory('GHSA-p6mc-m468-83gw', 'npm', 'lodash', [{ introduced: '0' }, { fixed: '4.17.19' }], { database_specific: { severity: 'HIGH' } }, 'SEMVER'),
      advisory('GHSA-hrpp-h998-j3pp', 'npm', 'qs', [{ introduced: '6.5.0' }, { fixed: '6.5.3' }], {}, 'SEMVER'),
      advisory('GHSA-68xg-gqqm-vgj8', 'PyPI', 'Django', [{ introduced: '3.2' }, { fixed: '3.2.5' }]),
      advisory('GHSA-vvpx-j8f3-3w6h', 'Go', 'golang.org/x/net', [{ introduced: '0' }, { fixed: '0.7.0' }], {}, 'SEMVER'),
      advisory('GHSA-jfh8-c2jp-5v3q', 'Maven', 'org.apache.logging.log4j:log4j-core', [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }], { database_specific: { severity: 'CRITICAL' } }),
    ]);
    const packages = [...read('npm-v3/package-lock.json'), ...read('python/requirements.txt'), ...read('go/go.mod'), ...read('maven/pom.xml')];
    const findings = matchPackages(db, packages);
    const lines = (f: string) => readFileSync(path.join(dir, f), 'utf8').split('\n');
    expect(findings.map((f) => [f.path, f.package, f.version, f.advisory, f.severity, f.fixedVersion])).toEqual([
      ['npm-v3/package-lock.json', 'lodash', '4.17.15', 'GHSA-p6mc-m468-83gw', 'high', '4.17.19'],
      ['npm-v3/package-lock.json', 'qs', '6.5.2', 'GHSA-hrpp-h998-j3pp', 'medium', '6.5.3'],
      ['python/requirements.txt', 'Django', '3.2.4', 'GHSA-68xg-gqqm-vgj8', 'medium', '3.2.5'],
      ['maven/pom.xml', 'org.apache.logging.log4j:log4j-core', '2.14.1', 'GHSA-jfh8-c2jp-5v3q', 'critical', '2.15.0'],
    ]);
    // The go.mod's x/net v0.7.0 is replaced by v0.17.0, which is not affected.
    for (const f of findings) expect(lines(f.path)[f.line - 1], `${f.package} line`).toContain(f.package.split(':').pop());
  });
});
