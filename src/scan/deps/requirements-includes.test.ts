import { describe, expect, it } from 'vitest';
import { DependencyFileSet } from './file-set.ts';

// pip reads `-r other.txt` as "install these too" and `-c constraints.txt` as "these versions
// for whatever is installed"; both are named relative to the file that names them.

function packagesOf(files: Record<string, string>): string[] {
  const set = new DependencyFileSet();
  for (const [path, content] of Object.entries(files)) set.add(path, content);
  return set.packages().map((p) => `${p.name}@${p.version} ${p.path}:${p.line}`);
}

describe('requirements files read with their includes and constraints', () => {
  const tree = {
    'py/requirements.txt': '-r base.in\n--constraint=constraints.txt\nrequests>=2\nflask\nDjango==4.2.1\n',
    'py/base.in': '-r ../../outside.txt\n-r /etc/passwd\n-r https://example.org/r.txt\n-r sub/deep.txt\nurllib3\n',
    'py/sub/deep.txt': '-r ../requirements.txt\ncertifi==2023.1.1\n',
    'py/constraints.txt': 'requests==2.19.0\nurllib3==1.26.0\nDjango==9.9\n',
  };

  it('names the files to read with one, relative to it, never outside the tree', () => {
    expect(DependencyFileSet.contextOf('py/requirements.txt', tree['py/requirements.txt'])).toEqual(['py/base.in', 'py/constraints.txt']);
    expect(DependencyFileSet.contextOf('py/base.in', tree['py/base.in'])).toEqual(['py/sub/deep.txt']);
    expect(DependencyFileSet.includesOf('py/sub/deep.txt', tree['py/sub/deep.txt'])).toEqual(['py/requirements.txt']);
    expect(DependencyFileSet.includesOf('package-lock.json', '{}')).toEqual([]);
  });

  it('installs the pins of included files, pins unpinned requirements from constraints, and survives a cycle', () => {
    expect(packagesOf(tree)).toEqual([
      'Django@4.2.1 py/requirements.txt:5',
      'requests@2.19.0 py/requirements.txt:3',
      'urllib3@1.26.0 py/base.in:5',
      'certifi@2023.1.1 py/sub/deep.txt:2',
    ]);
  });

  it('a file read alone still yields only its own pins; files that only an include names are not reported alone', () => {
    expect(packagesOf({ 'py/requirements.txt': tree['py/requirements.txt'] })).toEqual(['Django@4.2.1 py/requirements.txt:5']);
    expect(packagesOf({ 'py/constraints.txt': tree['py/constraints.txt'] })).toEqual([]);
  });

  it('two requirements files that include the same one report its packages once', () => {
    const files = { 'requirements.txt': '-r requirements-base.txt\n', 'requirements-dev.txt': '-r requirements-base.txt\npytest==8.0.0\n', 'requirements-base.txt': 'six==1.16.0\n' };
    expect(packagesOf(files)).toEqual(['six@1.16.0 requirements-base.txt:1', 'pytest@8.0.0 requirements-dev.txt:2']);
  });

  it('follows includes 8 deep and no further', () => {
    const chain: Record<string, string> = {};
    for (let i = 0; i < 12; i++) chain[i === 0 ? 'requirements.txt' : `r${i}.in`] = `-r r${i + 1}.in\npkg${i}==1.0.${i}\n`;
    expect(packagesOf(chain).map((p) => p.split('@')[0])).toEqual(['pkg0', 'pkg1', 'pkg2', 'pkg3', 'pkg4', 'pkg5', 'pkg6', 'pkg7', 'pkg8']);
  });
});
