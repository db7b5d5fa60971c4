import { describe, expect, it } from 'vitest';
import { renderComment } from '../src/core/comment.ts';
import { DEFAULT_POLICY } from '../src/core/policy.ts';
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
