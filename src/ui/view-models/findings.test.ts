import { describe, expect, it } from 'vitest';
import { advisoryHref, compareFindings, findingView, groupBySeverity, safeHref, sourceLink } from './findings.ts';
import { cloudLinks } from '../../codehost/cloud/links.ts';
import { datacenterLinks } from '../../codehost/datacenter/links.ts';
import type { StoredFinding } from '../../store/results-types.ts';

const links = { host: cloudLinks('https://bitbucket.org'), repoFullName: 'acme/web', commit: 'abcdef0123456789' };

function secret(path: string, line: number, severity: StoredFinding['severity']): StoredFinding {
  return { kind: 'secret', ruleId: 'r', severity, path, line, column: 1, fingerprint: `fp-${path}-${line}`, message: 'm', description: 'd', preview: 'p***', secretHash: 'h', isNew: true };
}

describe('links', () => {
  it('only http(s) URLs become links', () => {
    expect(safeHref('https://osv.dev/x')).toBe('https://osv.dev/x');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example', '/relative', 'JaVaScRiPt:alert(1)', '', undefined]) expect(safeHref(bad)).toBeNull();
  });

  it('builds the source view link with each path segment encoded', () => {
    expect(sourceLink(links, 'src/a b/#x?.js', 7)).toBe('https://bitbucket.org/acme/web/src/abcdef0123456789/src/a%20b/%23x%3F.js#lines-7');
    expect(sourceLink(links, 'package.json', 0)).toBe('https://bitbucket.org/acme/web/src/abcdef0123456789/package.json');
    expect(sourceLink({ ...links, commit: 'main' }, 'a.js', 1)).toBeNull();
  });

  it('links through the code host it is given, and not at all without one or outside http(s)', () => {
    const dc = { ...links, host: datacenterLinks('http://bitbucket.acme.internal/bitbucket'), repoFullName: 'SEC/web' };
    expect(sourceLink(dc, 'src/a b.js', 3)).toBe('http://bitbucket.acme.internal/bitbucket/projects/SEC/repos/web/browse/src/a%20b.js?at=abcdef0123456789#3');
    expect(sourceLink({ ...links, host: null }, 'a.js', 1)).toBeNull();
    expect(sourceLink({ ...links, host: cloudLinks('') }, 'a.js', 1)).toBeNull();
    expect(sourceLink({ ...links, host: cloudLinks('javascript:alert(1)//') }, 'a.js', 1)).toBeNull();
    expect(sourceLink({ ...links, repoFullName: 'acme' }, 'a.js', 1)).toBeNull();
  });

  it('links an advisory by its URL, else by a plain id on osv.dev, else not at all', () => {
    expect(advisoryHref('GHSA-1', 'https://github.com/advisories/GHSA-1')).toBe('https://github.com/advisories/GHSA-1');
    expect(advisoryHref('GHSA-1', 'javascript:x')).toBe('https://osv.dev/vulnerability/GHSA-1');
    expect(advisoryHref('<b>', undefined)).toBeNull();
  });
});

describe('ordering', () => {
  it('groups worst first and sorts by kind, path and line within a group', () => {
    const views = [secret('b.js', 1, 'low'), secret('b.js', 9, 'critical'), secret('a.js', 3, 'critical'), secret('a.js', 2, 'critical')].map((f, i) => findingView(f, undefined, links, i));
    const groups = groupBySeverity(views);
    expect(groups.map((g) => g.severity)).toEqual(['critical', 'low']);
    expect(groups[0]!.findings.map((f) => `${f.path}:${f.line}`)).toEqual(['a.js:2', 'a.js:3', 'b.js:9']);
    expect(compareFindings(views[0]!, views[1]!)).toBeGreaterThan(0);
  });

  it('shows the current triage mark, not the one stored with the scan', () => {
    const stored = { ...secret('a.js', 1, 'high'), triage: { status: 'ignored' as const, by: 'x', at: 't', reason: 'old' } };
    expect(findingView(stored, undefined, links, 0).triage).toBeNull();
    const mark = { clientKey: 'c', repoUuid: 'r', fingerprint: stored.fingerprint, status: 'false_positive' as const, by: 'y', at: 't2', reason: 'new' };
    expect(findingView(stored, mark, links, 0).triage).toEqual({ status: 'false_positive', label: 'False positive', reason: 'new', by: 'y', at: 't2' });
  });
});
