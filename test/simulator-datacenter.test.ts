import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatacenterClient } from '../src/codehost/datacenter/client.ts';
import { datacenterCodeHost } from '../src/codehost/datacenter/code-host.ts';
import { TenantCredentialsRejectedError, type CodeHost } from '../src/core/code-host.ts';
import { checkToken, installWebhooks } from '../src/datacenter/instance-api.ts';
import { matchesAny, parseSignatureHeader } from '../src/datacenter/signature.ts';
import { LocalDatacenter } from '../src/simulator/datacenter/local-datacenter.ts';

// The local Data Center, driven by the app's own Data Center client and code host: every call
// it makes must be one the OpenAPI description allows, and every answer one it documents.

const TOKEN = 'BBDC-local-read-token';
const ADMIN = 'BBDC-local-admin-token';
const REPO = { workspace: 'SEC', slug: 'web' };

let dc: LocalDatacenter;
let receiver: Server;
let receiverUrl: string;
const received: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];

function hostWith(token: string, extra: { sleep?: (ms: number) => Promise<void> } = {}): CodeHost {
  return datacenterCodeHost(new DatacenterClient({ baseUrl: dc.baseUrl, token, tenantKey: 'datacenter:local', maxRetries: 2, ...extra }), 'local');
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

beforeAll(async () => {
  dc = await LocalDatacenter.start({ contextPath: '/bitbucket' });
  dc.addToken(TOKEN, 'REPO_READ');
  dc.addToken(ADMIN, 'PROJECT_ADMIN');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/datacenter/webhook/abc`;
  await dc.createRepository('SEC', 'web', { files: { 'README.md': '# web\n', 'src/app.js': 'console.log(1);\n' } });
});

afterAll(async () => {
  await dc?.stop();
  receiver?.close();
});

describe('local Data Center', () => {
  it('passes the registration check and installs signed webhooks once (admin token), refusing a read token with 403', async () => {
    await expect(checkToken({ baseUrl: dc.baseUrl, token: TOKEN }, [{ project: 'SEC', repo: 'web' }])).resolves.toEqual({ version: expect.any(String) });
    const spec = { url: receiverUrl, ownedUrlPrefix: receiverUrl.replace(/abc$/, ''), secret: 's3cret' };
    await expect(installWebhooks({ baseUrl: dc.baseUrl, token: TOKEN }, [{ project: 'SEC' }], spec)).rejects.toThrow(/403/);
    const first = await installWebhooks({ baseUrl: dc.baseUrl, token: ADMIN }, [{ project: 'SEC' }], spec);
    const again = await installWebhooks({ baseUrl: dc.baseUrl, token: ADMIN }, [{ project: 'SEC' }], spec);
    expect(first[0]!.action).toBe('created');
    expect(again[0]).toMatchObject({ action: 'updated', webhookId: first[0]!.webhookId });
    expect(dc.webhooks).toHaveLength(1);
  });

  it('serves a pull request, its diff, changes, files and directories, and delivers signed events', async () => {
    const before = received.length;
    await dc.createBranch('SEC/web', 'feature');
    const head = await dc.commit('SEC/web', 'feature', { 'src/app.js': 'console.log(2);\n', 'src/new.js': 'x\n' }, 'Change');
    const pr = await dc.openPullRequest('SEC/web', { from: 'feature', title: 'Feature' });
    const events = received.slice(before).map((r) => r.headers['x-event-key']);
    expect(events).toEqual(['repo:refs_changed', 'repo:refs_changed', 'pr:opened']);
    for (const r of received.slice(before)) {
      const signature = parseSignatureHeader(String(r.headers['x-hub-signature']));
      expect(signature.ok && matchesAny(r.body, signature.digest, ['s3cret'])).toBe(true);
    }

    const host = hostWith(TOKEN);
    const info = await host.getPullRequest(REPO, pr.id);
    expect(info).toMatchObject({ id: pr.id, state: 'OPEN', source: { branch: 'feature', commit: head }, destination: { branch: 'main' } });
    const diff = await new Response(await host.streamDiff(REPO, { pullRequestId: pr.id })).text();
    expect(diff).toContain('+console.log(2);');
    expect(await collect(host.changedFiles(REPO, { pullRequestId: pr.id }))).toEqual(expect.arrayContaining([{ oldPath: null, newPath: 'src/new.js' }, { oldPath: 'src/app.js', newPath: 'src/app.js' }]));
    expect(await host.getFile(REPO, head, 'src/app.js')).toBe('console.log(2);\n');
    expect(await host.getFile(REPO, head, 'nope.txt')).toBeNull();
    expect(await collect(host.listDirectory(REPO, head, ''))).toEqual(expect.arrayContaining([{ path: 'README.md', kind: 'file' }, { path: 'src', kind: 'directory' }]));
    expect(await host.resolveCommit(REPO, head.slice(0, 12))).toBe(head);
    expect(await host.getRepository(REPO)).toEqual({ mainBranch: 'main' });
    const pushDiff = await new Response(await host.streamDiff(REPO, { head, base: info.destination.commit })).text();
    expect(pushDiff).toContain('src/new.js');
    expect(dc.violations).toEqual([]);
  });

  it('keeps reports (annotations replaced as a set), build statuses with ref, and one comment edited by version', async () => {
    const pr = dc.pullRequest('SEC/web', 1);
    const host = hostWith(TOKEN);
    const annotation = { externalId: 'f1', title: 'AWS key', summary: 'leaked', details: '', severity: 'critical' as const, result: 'FAILED' as const, path: 'src/app.js', line: 1 };
    const report = { title: 'Gatehouse', details: 'd', result: 'FAILED' as const, reporter: 'Gatehouse', link: 'http://127.0.0.1/x', data: [{ title: 'New', type: 'NUMBER' as const, value: 1 }] };
    await host.publishReport(REPO, pr.fromHash, { key: 'gatehouse-security', report, annotations: [annotation, { ...annotation, externalId: 'f2', line: 2 }], previouslyPublished: new Set() });
    await host.publishReport(REPO, pr.fromHash, { key: 'gatehouse-security', report, annotations: [annotation], previouslyPublished: new Set(['f1', 'f2']) });
    const kept = dc.report('SEC/web', pr.fromHash, 'gatehouse-security')!;
    expect(kept.body.result).toBe('FAIL');
    expect(kept.annotations).toEqual([expect.objectContaining({ externalId: 'f1', line: 1, severity: 'HIGH', type: 'VULNERABILITY' })]);

    await host.setBuildStatus(REPO, pr.fromHash, { key: 'gatehouse-security', state: 'FAILED', name: 'Gatehouse', url: 'http://127.0.0.1/x', branch: 'feature' });
    expect(dc.build('SEC/web', pr.fromHash, 'gatehouse-security')!.body).toMatchObject({ state: 'FAILED', ref: 'refs/heads/feature' });

    const id = await host.createComment(REPO, pr.id, 'first');
    // Someone else edits it in between: the app's next edit meets a newer version and re-reads it.
    pr.comments[0]!.version += 1;
    expect(await host.editComment(REPO, pr.id, id, 'second')).toBe(true);
    expect(await collect(host.listComments(REPO, pr.id))).toEqual([{ id, text: 'second' }]);
    expect(pr.comments).toHaveLength(1);
    expect(dc.violations).toEqual([]);
  });

  it('answers 409 to an edit naming a stale version, 401 to an unknown or revoked token, and honours its faults', async () => {
    const path = `${dc.baseUrl}/rest/api/latest/projects/SEC/repos/web/pull-requests/1/comments/1`;
    const stale = await fetch(path, { method: 'PUT', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'x', version: 0 }) });
    expect(stale.status).toBe(409);
    expect((await fetch(path, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);

    const slept: number[] = [];
    dc.addFault({ pathPattern: '/pull-requests/1', method: 'GET', count: 1, kind: '429-retry-after', retryAfterSeconds: 3 });
    await hostWith(TOKEN, { sleep: async (ms) => void slept.push(ms) }).getPullRequest(REPO, 1);
    expect(slept).toEqual([3000]);

    dc.addToken('BBDC-doomed', 'REPO_READ');
    dc.revokeToken('BBDC-doomed');
    await expect(hostWith('BBDC-doomed').getPullRequest(REPO, 1)).rejects.toBeInstanceOf(TenantCredentialsRejectedError);
  });

  it('records a request the description refuses as a violation', async () => {
    const res = await fetch(`${dc.baseUrl}/rest/api/latest/projects/SEC/repos/web/commits/abc/builds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: 'k', state: 'DONE', url: 'u' }),
    });
    expect(res.status).toBe(400);
    expect(dc.violations.at(-1)).toMatchObject({ side: 'request', reason: expect.stringContaining('state') });
    dc.violations.length = 0;
  });
});
