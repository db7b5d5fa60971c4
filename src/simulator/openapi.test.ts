import { describe, expect, it } from 'vitest';
import { OpenApiChecker } from './openapi.ts';
import { loadDatacenterChecker } from './datacenter/openapi-dialect.ts';

const checker = OpenApiChecker.load();
const check = (method: string, rawPath: string, query = '', body?: unknown) =>
  checker.check({ method, rawPath, query: new URLSearchParams(query), body, contentType: body === undefined ? undefined : 'application/json' });

describe('OpenApiChecker', () => {
  it('prefers literal segments over parameters', () => {
    const result = check('POST', '/repositories/ws/r/commit/abc/statuses/build', '', { key: 'k', state: 'FAILED' });
    expect(result.ok && result.match.template).toBe('/repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build');
  });

  it('lets path and spec parameters span slashes, as Bitbucket URLs do', () => {
    const src = check('GET', '/repositories/ws/r/src/abc/a/b.txt');
    expect(src.ok && src.match.params.path).toBe('a/b.txt');
    const diff = check('GET', '/repositories/ws/r/diff/ws/r:aaa%0Dbbb', 'from_pullrequest_id=3&topic=true');
    expect(diff.ok && diff.match.params.spec).toBe('ws/r:aaa\rbbb');
  });

  it('takes the root directory listing src/{commit}/ (trailing slash, empty path) and max_depth', () => {
    const root = check('GET', '/repositories/ws/r/src/abc/', 'max_depth=3&pagelen=100');
    expect(root.ok && root.match.params.path).toBe('');
    expect(check('GET', '/repositories/ws/r/src/abc/', 'max_depth=deep').ok).toBe(false);
    expect(check('GET', '/repositories/ws/r/src//a.txt').ok).toBe(false);
  });

  it('checks path and query parameter types and enums', () => {
    expect(check('GET', '/repositories/ws/r/pullrequests/x1').ok).toBe(false);
    expect(check('GET', '/repositories/ws', 'role=boss').ok).toBe(false);
    expect(check('GET', '/repositories/ws', 'role=member&pagelen=20&page=2').ok).toBe(true);
    expect(check('GET', '/repositories/ws/r/diff/a..b', 'context=many').ok).toBe(false);
  });

  it('validates JSON bodies with $refs resolved, and refuses bodies where none is defined', () => {
    expect(check('POST', '/repositories/ws/r/commit/c/statuses/build', '', { key: 'k' }).ok).toBe(false);
    expect(check('POST', '/repositories/ws/r/commit/c/statuses/build', '', { key: 'k', state: 'DONE' }).ok).toBe(false);
    expect(check('POST', '/repositories/ws/r/pullrequests/1/comments', '', { content: { raw: 'x' }, inline: { to: 0, path: 'a' } }).ok).toBe(false);
    expect(check('GET', '/repositories/ws/r', '', { a: 1 }).ok).toBe(false);
  });

  it('accepts request bodies without "type", which the description wrongly requires', () => {
    expect(check('PUT', '/repositories/ws/r/commit/c/reports/r1', '', { title: 't', report_type: 'SECURITY', data: [{ title: 'n', type: 'NUMBER', value: 1 }] }).ok).toBe(true);
  });
});

describe('OpenApiChecker with the Data Center description', () => {
  const dc = loadDatacenterChecker();
  const repo = '/api/latest/projects/SEC/repos/web';

  it('matches a parameter with literal text around it ({pullRequestId}.diff) before the bare parameter', () => {
    const diff = dc.match('GET', `${repo}/pull-requests/7.diff`);
    expect(diff.match).toMatchObject({ template: '/api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests/{pullRequestId}.diff', params: { pullRequestId: '7' } });
    expect(dc.match('GET', `${repo}/pull-requests/7`).match?.template).toBe('/api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests/{pullRequestId}');
  });

  it('checks answers against the documented responses', () => {
    const { match } = dc.match('GET', `${repo}/pull-requests/7/comments/1`);
    expect(dc.checkResponse(match!, 200, 'application/json', { id: 1, version: 0, text: 'x' })).toBeUndefined();
    expect(dc.checkResponse(match!, 200, 'application/json', { id: 'one' })).toMatch(/does not match its schema/);
    expect(dc.checkResponse(match!, 418, 'application/json', {})).toMatch(/not one of its documented responses/);
  });
});
