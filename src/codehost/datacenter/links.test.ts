import { describe, expect, it } from 'vitest';
import { datacenterLinks } from './links.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const REPO = { workspace: 'SEC', slug: 'payments-api' };

describe('Bitbucket Data Center page links', () => {
  const links = datacenterLinks('https://bitbucket.acme.internal/bitbucket/');

  it('link a pull request and a commit under the base URL, context path kept', () => {
    expect(links.pullRequestUrl(REPO, 12)).toBe('https://bitbucket.acme.internal/bitbucket/projects/SEC/repos/payments-api/pull-requests/12');
    expect(links.commitUrl(REPO, COMMIT)).toBe(`https://bitbucket.acme.internal/bitbucket/projects/SEC/repos/payments-api/commits/${COMMIT}`);
  });

  it('link a line of the source view: the commit as ?at=, the line as the fragment', () => {
    expect(links.sourceUrl(REPO, COMMIT, 'config/deploy.env', 4)).toBe(`https://bitbucket.acme.internal/bitbucket/projects/SEC/repos/payments-api/browse/config/deploy.env?at=${COMMIT}#4`);
    expect(links.sourceUrl(REPO, COMMIT, 'package.json', 0)).toBe(`https://bitbucket.acme.internal/bitbucket/projects/SEC/repos/payments-api/browse/package.json?at=${COMMIT}`);
  });

  it('encode each path segment: spaces, unicode, # and ? stay in the path', () => {
    const url = links.sourceUrl(REPO, COMMIT, 'docs/read me/naïve#1?.md', 9);
    expect(url).toBe(`https://bitbucket.acme.internal/bitbucket/projects/SEC/repos/payments-api/browse/docs/read%20me/na%C3%AFve%231%3F.md?at=${COMMIT}#9`);
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.pathname.split('/browse/')[1]!)).toBe('docs/read me/naïve#1?.md');
    expect(parsed.searchParams.get('at')).toBe(COMMIT);
    expect(parsed.hash).toBe('#9');
  });

  it('encode a personal project key and odd slugs, and percent signs in paths', () => {
    const personal = { workspace: '~alice', slug: 'my repo' };
    expect(links.pullRequestUrl(personal, 1)).toBe('https://bitbucket.acme.internal/bitbucket/projects/~alice/repos/my%20repo/pull-requests/1');
    expect(links.sourceUrl(personal, COMMIT, '100%/a.txt', 1)).toContain('/browse/100%25/a.txt?at=');
  });
});
