import { describe, expect, it } from 'vitest';
import { compareVersions, type Ecosystem } from '../src/scan/deps/index.ts';

/** Each list is strictly ascending; every pair in it is checked both ways. */
function expectAscending(ecosystem: Ecosystem, versions: string[]): void {
  for (let i = 0; i < versions.length; i++) {
    for (let j = i + 1; j < versions.length; j++) {
      const a = versions[i] ?? '';
      const b = versions[j] ?? '';
      expect(compareVersions(ecosystem, a, b), `${ecosystem}: ${a} < ${b}`).toBe(-1);
      expect(compareVersions(ecosystem, b, a), `${ecosystem}: ${b} > ${a}`).toBe(1);
    }
  }
}

function expectEqual(ecosystem: Ecosystem, pairs: [string, string][]): void {
  for (const [a, b] of pairs) expect(compareVersions(ecosystem, a, b), `${ecosystem}: ${a} = ${b}`).toBe(0);
}

describe('compareVersions', () => {
  it('npm and crates.io: semver precedence, prerelease identifiers, build metadata ignored', () => {
    for (const eco of ['npm', 'crates.io'] as const) {
      expectAscending(eco, ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.9.0', '1.10.0', '10.0.0']);
      expectEqual(eco, [['1.0.0+build.5', '1.0.0'], ['1.2.3', '1.2.3']]);
    }
  });

  it('Go: v prefix, pseudo-versions as prereleases, +incompatible', () => {
    expectAscending('Go', [
      'v0.0.0-20191109021931-daa7c04131f5',
      'v0.0.0-20200622213623-75b288015ac9',
      'v0.1.0',
      'v1.2.3',
      'v1.2.4-0.20191109021931-daa7c04131f5',
      'v1.2.4',
      'v2.0.0+incompatible',
      'v3.2.0+incompatible',
    ]);
    expectEqual('Go', [['v1.2.3', '1.2.3'], ['v2.0.0+incompatible', 'v2.0.0']]);
  });

  it('PyPI: PEP 440 dev/pre/post releases, epochs, normalised spellings, local versions', () => {
    expectAscending('PyPI', ['1.0.dev0', '1.0a1', '1.0a2', '1.0b1', '1.0rc1', '1.0', '1.0+local.1', '1.0.post1', '1.1.dev1', '1.1', '1.10', '2.0', '1!0.1']);
    expectEqual('PyPI', [['1.0', '1.0.0'], ['1.0alpha1', '1.0a1'], ['1.0-RC1', '1.0rc1'], ['2020.12.5', '2020.12.05']]);
  });

  it('RubyGems: letter segments are prereleases, trailing zeros insignificant', () => {
    expectAscending('RubyGems', ['1.0.0.a', '1.0.0.b', '1.0.0.pre', '1.0.0.rc1', '1.0.0', '1.0.1', '1.9', '1.10', '6.1.3']);
    expectEqual('RubyGems', [['1.0', '1.0.0'], ['2', '2.0.0']]);
  });

  it('Maven: qualifier order, aliases, padding and the digit/letter boundary', () => {
    expectAscending('Maven', [
      '1.0-alpha-1',
      '1.0-alpha-2',
      '1.0-beta',
      '1.0-milestone-1',
      '1.0-rc1',
      '1.0-SNAPSHOT',
      '1.0',
      '1.0-sp1',
      '1.0-xyz',
      '1-1',
      '1.0.1',
      '1.1',
      '2.9.10',
      '2.9.10.1',
      '2.10',
      '29.0-android',
      '29.0-jre',
    ]);
    expectEqual('Maven', [
      ['1.0', '1'],
      ['1.0.0', '1'],
      ['1.0-ga', '1.0'],
      ['1.0-final', '1.0'],
      ['5.3.2.RELEASE', '5.3.2'],
      ['1.0-cr1', '1.0-rc1'],
      ['1.0a1', '1.0-alpha-1'],
      ['1.0.0-Beta', '1.0-beta'],
    ]);
  });

  it('Packagist: v prefix, four parts, stability suffixes', () => {
    expectAscending('Packagist', ['1.0.0-dev', '1.0.0-alpha1', '1.0.0-beta2', '1.0.0-beta.10', '1.0.0-RC1', '1.0.0', '1.0.0-p1', '1.0.0.1', '1.0.1', '5.2.1', 'v5.10.0']);
    expectEqual('Packagist', [['v1.2.3', '1.2.3'], ['1.2', '1.2.0.0'], ['1.0.0-RC1', '1.0.0-rc.1']]);
  });

  it('never throws on versions an ecosystem rejects, and stays antisymmetric', () => {
    const odd = ['', 'latest', 'x.y.z', '1..2', '01.002', '🙂', 'v', '1.0.0-'];
    for (const eco of ['npm', 'crates.io', 'Go', 'PyPI', 'RubyGems', 'Maven', 'Packagist'] as const) {
      for (const a of odd) {
        for (const b of [...odd, '1.0.0']) {
          const ab = compareVersions(eco, a, b);
          expect([-1, 0, 1]).toContain(ab);
          expect(compareVersions(eco, b, a), `${eco} ${a} ${b}`).toBe(-ab || 0);
        }
      }
    }
  });
});
