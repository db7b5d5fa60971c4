import { describe, expect, it } from 'vitest';
import { renderComment } from '../src/core/comment.ts';
import { DEFAULT_POLICY } from '../src/core/policy.ts';
import { buildAnnotations, buildReport } from '../src/core/publish.ts';
import type { ScanRecord, StoredFinding } from '../src/store/results-types.ts';
import { pullRequestScan, secretFinding } from './helpers/scan-records.ts';

/**
 * File names are chosen by whoever pushes to the pull request, and the Gatehouse comment is
 * posted under the app's name: a crafted name must not turn into a link, a heading or a
 * verdict line of its own in that comment.
 */

const LINK_NAME = 'docs/[Approved by the security team](www.evil.example).png';
const FAKE_VERDICT = '**Gatehouse: no findings. Safe to merge.**';

function finding(path: string, preview = 'AKIA************BN2W'): StoredFinding {
  return secretFinding({ path, preview });
}

function scan(findings: StoredFinding[], skipped: string[]): ScanRecord {
  return pullRequestScan(findings, { skipped, counts: { critical: findings.length, high: 0, medium: 0, low: 0, new: findings.length, existing: 0, triaged: 0 } });
}

const render = (s: ScanRecord) => renderComment({ scan: s, policy: DEFAULT_POLICY, previousResult: null, link: 'https://gatehouse.example/report' });

describe('PR comment markdown injection', () => {
  it('escapes link syntax in the names of skipped files', () => {
    const text = render(scan([], [`1 binary files (only their names were checked): ${LINK_NAME}`]));
    expect(text).not.toMatch(/(^|[^\\])\[Approved by the security team/);
  });

  it('keeps a line break in a file name from starting a line of its own', () => {
    const evil = `src/a.js\n\n${FAKE_VERDICT}\n`;
    const text = render(scan([finding(evil)], [`1 binary files (only their names were checked): x.png\n\n${FAKE_VERDICT}`]));
    expect(text.split('\n').filter((line) => line.includes('Safe to merge')).every((line) => !line.startsWith('**'))).toBe(true);
    expect(text.split('\n').some((line) => line === FAKE_VERDICT)).toBe(false);
  });

  it('keeps a backtick in a masked preview from closing its code span', () => {
    const text = render(scan([finding('src/a.js', 'ab`[x](www.evil.example)`****yz')], []));
    const line = text.split('\n').find((l) => l.includes('AWS access key id')) ?? '';
    // Whatever is left outside code spans is rendered as markdown.
    expect(line.replace(/`[^`]*`/g, '')).not.toContain('[x]');
  });
});

/**
 * A custom rule's description, a file or package name: repository text that Gatehouse posts
 * under its own name must not link anywhere or mention anyone, in the comment, the Code
 * Insights report or its annotations.
 */
const HOSTILE = 'Key [click](https://evil.example/a) ![i](https://evil.example/i.png) <a href="https://evil.example/h">x</a> see https://evil.example/x or www.evil.example, ask @{557058:abc} @admin or ops@evil.example';

/** Whatever in `text` Bitbucket would turn into a link or a mention (outside code spans). */
function active(text: string): string[] {
  const prose = text.replace(/`[^`]*`/g, '');
  return [
    ...(prose.match(/https?:\/\/|www\./gi) ?? []),
    ...(prose.match(/@[{\w]/g) ?? []),
    ...(prose.match(/(^|[^\\])!?\[[^\]]*\]\(/g) ?? []),
    ...(prose.match(/(^|[^\\])<[a-z]/gi) ?? []),
  ];
}

describe('repository text is inert in what Gatehouse posts', () => {
  const hostile = secretFinding({ description: HOSTILE, path: 'src/@team/https://x.js' });

  it('the comment keeps the words but no link, image, HTML or mention', () => {
    const text = render(scan([hostile], [`1 binary files (only their names were checked): docs/@admin-www.evil.example.png`]));
    const ours = '[Security report](https://gatehouse.example/report)';
    expect(active(text.replace(ours, ''))).toEqual([]);
    expect(text).toContain('evil.example/x');
    expect(text).toContain('\uFF20{557058:abc}');
  });

  it('the report details and the annotations carry no URL or mention either', () => {
    const withNotice = scan([hostile], ['1 binary files (only their names were checked): x@evil.example']);
    withNotice.notices = [`Repository configuration: .gitleaks.toml: rules[0] (https://evil.example/@admin): bad`];
    const report = buildReport(withNotice, DEFAULT_POLICY, 'https://gatehouse.example/report', 'Pull request #1');
    expect(active(report.details ?? '')).toEqual([]);
    const [annotation] = buildAnnotations([hostile], DEFAULT_POLICY);
    for (const field of [annotation!.title, annotation!.summary, annotation!.details]) expect(active(field ?? '')).toEqual([]);
    // The annotation still points at the real file.
    expect(annotation!.path).toBe('src/@team/https://x.js');
  });
});
