import { describe, expect, it } from 'vitest';
import type { BitbucketClient } from '../../bitbucket/client.ts';
import { cloudCodeHost } from '../../codehost/cloud/code-host.ts';
import { findDependencyFiles } from './dependency-files.ts';

/** A tree as the src listing answers it, one directory per request. */
function targetOver(tree: Record<string, string[]>) {
  const listed: string[] = [];
  const client = {
    async *paginate(path: string) {
      const dir = decodeURIComponent(path.replace(/^\/repositories\/ws\/repo\/src\/c0ffee\//, '').replace(/\/$/, ''));
      listed.push(dir);
      for (const name of tree[dir] ?? []) {
        const full = dir ? `${dir}/${name.replace(/\/$/, '')}` : name.replace(/\/$/, '');
        yield { path: full, type: name.endsWith('/') ? 'commit_directory' : 'commit_file' };
      }
    },
  } as unknown as BitbucketClient;
  return { target: { host: cloudCodeHost(client, 'https://bitbucket.org', { workspace: async () => 'ws', gitAuthorization: async () => 'Bearer unused' }), workspace: 'ws', slug: 'repo' }, listed };
}

const tree = {
  '': ['a/', 'node_modules/', 'package-lock.json', 'README.md'],
  a: ['b/', 'requirements.txt', 'vendor/'],
  'a/b': ['go.mod'],
  'a/vendor': ['go.mod'],
  node_modules: ['x/'],
};

describe('findDependencyFiles', () => {
  it('walks breadth first, never lists skipped directories, keeps only dependency files the policy includes', async () => {
    const { target, listed } = targetOver(tree);
    const found = await findDependencyFiles(target, 'c0ffee', (p) => p !== 'a/requirements.txt');
    expect(found).toEqual({ paths: ['package-lock.json', 'a/b/go.mod'], notices: [] });
    expect(listed).toEqual(['', 'a', 'a/b']);
  });

  it('stops at its limits and says how much it did not list', async () => {
    const byDirs = await findDependencyFiles(targetOver(tree).target, 'c0ffee', () => true, { maxEntries: 100, maxDirectories: 2 });
    expect(byDirs.paths).toEqual(['package-lock.json', 'a/requirements.txt']);
    expect(byDirs.notices).toEqual([expect.stringContaining('after 2 directories; dependency files in 1 or more directories')]);
    const byEntries = await findDependencyFiles(targetOver(tree).target, 'c0ffee', () => true, { maxEntries: 3, maxDirectories: 100 });
    expect(byEntries.paths).toEqual(['package-lock.json']);
    expect(byEntries.notices).toEqual([expect.stringContaining('after 3 files and directories')]);
  });
});
