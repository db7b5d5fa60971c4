import { describe, expect, it } from 'vitest';
import type { BitbucketClient } from '../src/bitbucket/client.ts';
import { BitbucketApiError } from '../src/bitbucket/errors.ts';
import { cloudCodeHost } from '../src/codehost/cloud/code-host.ts';
import { renderComment } from '../src/core/comment.ts';
import { DEFAULT_POLICY } from '../src/core/policy.ts';
import { annotationId, buildAnnotations, buildReport, COMMENT_MARKER, publishReport, upsertComment } from '../src/core/publish.ts';
import type { ScanRecord, StoredFinding } from '../src/store/results-types.ts';
import { pullRequestScan, secretFinding } from './helpers/scan-records.ts';

const SECRET = 'AKIAZ3MQ7XKPLR4TBN2W';

function secret(i: number, severity: StoredFinding['severity'], isNew = true): StoredFinding {
  return secretFinding({ severity, isNew, path: `src/f${i}.js`, line: i + 1, fingerprint: `fp${String(i).padStart(6, '0')}`, message: 'AWS access key id AKIA************TBN2W' });
}

function scanOf(findings: StoredFinding[]): ScanRecord {
  return pullRequestScan(findings, { durationMs: 12, skipped: ['2 binary files (only their names were checked): a.png, b.png'] });
}

/** A client that records calls; only what the publisher uses. */
function recordingClient(comments: { id: number; content: { raw: string } }[] = [], opts: { updateFails404?: boolean } = {}) {
  const calls: string[] = [];
  const client = {
    async deleteReport() {
      calls.push('deleteReport');
      return true;
    },
    async putReport() {
      calls.push('putReport');
      return {};
    },
    async postAnnotations(_w: string, _s: string, _c: string, _r: string, batch: unknown[]) {
      calls.push(`postAnnotations:${batch.length}`);
      return [];
    },
    async *listPullRequestComments() {
      calls.push('listComments');
      yield* comments;
    },
    async createPullRequestComment() {
      calls.push('createComment');
      return { id: 99 };
    },
    async updatePullRequestComment(_w: string, _s: string, _p: number, id: number) {
      calls.push(`updateComment:${id}`);
      if (opts.updateFails404 && id === 7) throw new BitbucketApiError({ method: 'PUT', path: '/x', attempts: 1 }, 404, 'gone');
      return { id };
    },
  };
  return { client: client as unknown as BitbucketClient, calls };
}

/** The publisher's target: the recording client behind the Cloud code host. */
function on(client: BitbucketClient) {
  return { host: cloudCodeHost(client, 'https://bitbucket.org', { workspace: async () => 'w', gitAuthorization: async () => 'Bearer unused' }), workspace: 'w', slug: 's' };
}

describe('annotations', () => {
  it('keeps the 1,000 worst findings, worst first, with short summaries and no secret', () => {
    const findings = [...Array.from({ length: 1_100 }, (_, i) => secret(i, 'low')), secret(5_000, 'critical'), secret(5_001, 'high', false)];
    const annotations = buildAnnotations(findings, DEFAULT_POLICY);
    expect(annotations).toHaveLength(1_000);
    expect(annotations.slice(0, 2).map((a) => [a.severity, a.result])).toEqual([['critical', 'FAILED'], ['high', 'PASSED']]);
    expect(annotations.every((a) => a.summary.length <= 450)).toBe(true);
    expect(new Set(annotations.map((a) => a.externalId)).size).toBe(1_000);
    expect(JSON.stringify(annotations)).not.toContain(SECRET);
  });

  it('derives the external id from the finding, so a rerun upserts the same annotation', () => {
    expect(annotationId(secret(1, 'high'))).toBe(annotationId(secret(1, 'low')));
    expect(annotationId(secret(1, 'high'))).not.toBe(annotationId(secret(2, 'high')));
    expect(annotationId(secret(1, 'high'))).toMatch(/^gatehouse-[0-9a-f]{40}$/);
  });

  it('shows a triaged finding as ignored and a long dependency message cut to 450', () => {
    const triaged = { ...secret(1, 'critical'), triage: { status: 'false_positive' as const, by: 'acc', at: '2026-01-02T00:00:00Z', reason: 'test key' } };
    const dep: StoredFinding = {
      kind: 'dependency', ruleId: 'GHSA-x', severity: 'high', path: 'package-lock.json', line: 3, fingerprint: 'dep1', message: 'm'.repeat(900),
      ecosystem: 'npm', package: 'lodash', version: '4.17.15', advisory: 'GHSA-x', aliases: [], summary: '', isNew: true, url: 'https://osv.dev/vulnerability/GHSA-x',
    };
    const [a, b] = buildAnnotations([triaged, dep], DEFAULT_POLICY);
    expect(a).toMatchObject({ result: 'IGNORED', details: expect.stringContaining('false positive by acc') });
    expect(b).toMatchObject({ result: 'FAILED', link: 'https://osv.dev/vulnerability/GHSA-x', line: 3 });
    expect(b!.summary.length).toBe(450);
  });
});

describe('publishReport', () => {
  it('sends annotations in batches of at most 100 after the report', async () => {
    const { client, calls } = recordingClient();
    const scan = scanOf(Array.from({ length: 250 }, (_, i) => secret(i, 'high')));
    await publishReport(on(client), scan.commit, buildReport(scan, DEFAULT_POLICY, 'https://x', 'PR'), buildAnnotations(scan.findings, DEFAULT_POLICY), new Set());
    expect(calls).toEqual(['putReport', 'postAnnotations:100', 'postAnnotations:100', 'postAnnotations:50']);
  });

  it('deletes the report first when a previous publication had annotations that are gone', async () => {
    const { client, calls } = recordingClient();
    const scan = scanOf([secret(1, 'high')]);
    const annotations = buildAnnotations(scan.findings, DEFAULT_POLICY);
    await publishReport(on(client), scan.commit, buildReport(scan, DEFAULT_POLICY, 'https://x', 'PR'), annotations, new Set([annotationId(secret(1, 'high'))]));
    await publishReport(on(client), scan.commit, buildReport(scan, DEFAULT_POLICY, 'https://x', 'PR'), annotations, new Set([annotationId(secret(2, 'high'))]));
    expect(calls).toEqual(['putReport', 'postAnnotations:1', 'deleteReport', 'putReport', 'postAnnotations:1']);
  });

  it('puts at most 10 data fields and the skipped files in the details', () => {
    const report = buildReport(scanOf([secret(1, 'high')]), DEFAULT_POLICY, 'https://bb/acme/web/pull-requests/1', 'Pull request #1');
    expect(report.data!.length).toBeLessThanOrEqual(10);
    expect(report.details).toContain('Not scanned: 2 binary files');
    expect(report.data).toContainEqual({ title: 'Details', type: 'LINK', value: { text: 'Pull request #1', href: 'https://bb/acme/web/pull-requests/1' } });
  });
});

describe('upsertComment', () => {
  const target = on;

  it('edits the stored comment without listing', async () => {
    const { client, calls } = recordingClient();
    expect(await upsertComment(target(client), 1, 5, 'hello')).toBe(5);
    expect(calls).toEqual(['updateComment:5']);
  });

  it('finds its comment by the marker when the id is unknown or the stored one is gone', async () => {
    const { client, calls } = recordingClient([{ id: 3, content: { raw: 'someone else' } }, { id: 8, content: { raw: `old\n\n${COMMENT_MARKER}` } }], { updateFails404: true });
    expect(await upsertComment(target(client), 1, 7, 'hello')).toBe(8);
    expect(calls).toEqual(['updateComment:7', 'listComments', 'updateComment:8']);
  });

  it('creates one only when none carries the marker', async () => {
    const { client, calls } = recordingClient([{ id: 3, content: { raw: 'someone else' } }]);
    expect(await upsertComment(target(client), 1, null, 'hello')).toBe(99);
    expect(calls).toEqual(['listComments', 'createComment']);
  });
});

describe('renderComment', () => {
  it('says plainly when a failing pull request is fixed', () => {
    const text = renderComment({ scan: { ...scanOf([]), result: 'PASSED' }, policy: DEFAULT_POLICY, previousResult: 'FAILED', link: 'https://x' });
    expect(text.split('\n')[0]).toBe('**Gatehouse: everything reported earlier is fixed. Nothing new blocks this pull request.**');
  });

  it('lists new findings masked and escapes markdown in paths', () => {
    const f = { ...secret(1, 'critical'), path: 'src/[evil](http://x).js' };
    const text = renderComment({ scan: scanOf([f]), policy: DEFAULT_POLICY, previousResult: null, link: 'https://x' });
    expect(text).toContain('AKIA************BN2W');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('| critical | 1 | 0 |');
  });
});
