import { describe, expect, it } from 'vitest';
import { cloudLinks } from './links.ts';

// Code Insights refuses a report whose `link` is not a URI; a repository that Forge names by
// `{workspace-uuid}/{repo-uuid}` must still give one.
describe('Bitbucket Cloud page links', () => {
  const links = cloudLinks('https://bitbucket.org/');

  it('encode a repository named by UUIDs in braces', () => {
    const repo = { workspace: '{4c16a397-8e48-479c-8ca2-442e46c90570}', slug: '{15a31549-1cff-45dc-9d0d-310114c5038b}' };
    expect(links.pullRequestUrl(repo, 3)).toBe('https://bitbucket.org/%7B4c16a397-8e48-479c-8ca2-442e46c90570%7D/%7B15a31549-1cff-45dc-9d0d-310114c5038b%7D/pull-requests/3');
    expect(links.commitUrl(repo, 'a'.repeat(40))).toMatch(/^https:\/\/bitbucket\.org\/%7B[0-9a-f-]+%7D\/%7B[0-9a-f-]+%7D\/commits\/a{40}$/);
  });

  it('leave slugs as they are', () => {
    expect(links.pullRequestUrl({ workspace: 'acme', slug: 'payments-api' }, 1)).toBe('https://bitbucket.org/acme/payments-api/pull-requests/1');
  });

  it('link a line of the source view at a commit, each path segment encoded', () => {
    const repo = { workspace: 'acme', slug: 'web' };
    expect(links.sourceUrl(repo, 'abcdef0', 'src/a b/#x?.js', 7)).toBe('https://bitbucket.org/acme/web/src/abcdef0/src/a%20b/%23x%3F.js#lines-7');
    expect(links.sourceUrl(repo, 'abcdef0', 'package.json', 0)).toBe('https://bitbucket.org/acme/web/src/abcdef0/package.json');
  });
});
