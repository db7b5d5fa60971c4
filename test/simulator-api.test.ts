import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { installedAppAuth, startInstalled } from './helpers/simulator-client.ts';
import { appJwt, type FakeApp } from './simulator-fake-app.ts';

let fake: FakeApp;
let sim: Simulator;

beforeAll(async () => {
  ({ fake, sim } = await startInstalled());
  await sim.createRepository('acme', 'api');
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
});

beforeEach(() => {
  sim.faults.clear();
  sim.clearViolations();
});

interface CallOptions {
  body?: unknown;
  auth?: string | null;
  contentType?: string;
  redirect?: 'manual' | 'follow';
}

async function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const url = `${sim.apiOrigin}/2.0${path}`;
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? installedAppAuth(sim, method, url) : opts.auth;
  if (auth) headers.Authorization = auth;
  if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  return fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), redirect: opts.redirect ?? 'manual' });
}

describe('authentication as Bitbucket does it', () => {
  it('accepts a JWT with iss = app key, sub = clientKey and the qsh of the request', async () => {
    const res = await call('GET', '/repositories/acme/api');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ full_name: 'acme/api', type: 'repository', mainbranch: { name: 'main' } });
    const repo = sim.repository('acme/api');
    const byUuid = await call('GET', `/repositories/${encodeURIComponent(repo.workspace.uuid)}/${encodeURIComponent(repo.uuid)}`);
    expect(byUuid.status).toBe(200);
  });

  it('answers 401 JSON without credentials, with a bad qsh, a wrong iss, a wrong secret or an expired token', async () => {
    const inst = sim.installation()!;
    const url = `${sim.apiOrigin}/2.0/repositories/acme/api`;
    const base = { method: 'GET', url, baseUrl: sim.apiOrigin, clientKey: inst.clientKey, secret: inst.sharedSecret };
    const cases: Record<string, string | null> = {
      none: null,
      badQsh: appJwt({ ...base, qsh: 'a'.repeat(64) }),
      qshOfOtherPath: appJwt({ ...base, url: `${sim.apiOrigin}/2.0/repositories/acme` }),
      wrongIss: appJwt({ ...base, iss: 'someone-else' }),
      wrongSecret: appJwt({ ...base, secret: 'not-the-secret' }),
      expired: appJwt({ ...base, exp: Math.floor(Date.now() / 1000) - 10 }),
      basic: 'Basic dXNlcjpwYXNz',
    };
    for (const [name, auth] of Object.entries(cases)) {
      const res = await call('GET', '/repositories/acme/api', { auth });
      expect(res.status, name).toBe(401);
      expect(((await res.json()) as { type: string }).type, name).toBe('error');
    }
  });

  it('rejects alg none', async () => {
    const inst = sim.installation()!;
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: 'gatehouse-test', sub: inst.clientKey, exp: 9_999_999_999, qsh: 'x' })).toString('base64url');
    const res = await call('GET', '/repositories/acme/api', { auth: `JWT ${header}.${payload}.` });
    expect(res.status).toBe(401);
  });

  it('exchanges a JWT for a bearer token at /site/oauth2/access_token and accepts that token', async () => {
    const url = `${sim.webOrigin}/site/oauth2/access_token`;
    const grant = await fetch(url, {
      method: 'POST',
      headers: { Authorization: installedAppAuth(sim, 'POST', url), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=urn%3Abitbucket%3Aoauth2%3Ajwt',
    });
    expect(grant.status).toBe(200);
    const body = (await grant.json()) as { access_token: string; expires_in: number; token_type: string };
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    expect((await call('GET', '/repositories/acme/api', { auth: `Bearer ${body.access_token}` })).status).toBe(200);
    expect((await call('GET', '/repositories/acme/api', { auth: 'Bearer not-a-token' })).status).toBe(401);

    const badQsh = await fetch(url, {
      method: 'POST',
      headers: { Authorization: installedAppAuth(sim, 'POST', `${url}?x=1`), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=urn%3Abitbucket%3Aoauth2%3Ajwt',
    });
    expect(badQsh.status).toBe(401);
  });
});

describe('OpenAPI conformance', () => {
  it('answers 400 and records a violation for a body that breaks the schema', async () => {
    const res = await call('PUT', '/repositories/acme/api/commit/HEAD/reports/gatehouse-x', { body: { title: 't', details: 'd', report_type: 'SECURE' } });
    expect(res.status).toBe(400);
    expect(sim.violations).toHaveLength(1);
    expect(sim.violations[0]).toMatchObject({ kind: 'openapi', method: 'PUT' });
    expect(sim.violations[0]?.reason).toMatch(/report_type/);
  });

  it('flags unknown paths, undefined methods, undeclared query parameters and a JWT in the query', async () => {
    expect((await call('GET', '/repositories/acme/api/not-an-endpoint')).status).toBe(400);
    expect((await call('PATCH', '/repositories/acme/api')).status).toBe(400);
    expect((await call('GET', '/repositories/acme/api?colour=blue')).status).toBe(400);
    expect((await call('GET', '/repositories/acme/api/pullrequests/abc')).status).toBe(400);
    expect(sim.violations.map((v) => v.kind)).toEqual(['openapi', 'openapi', 'openapi', 'openapi']);
  });

  it('records nothing for valid calls', async () => {
    expect((await call('GET', '/repositories/acme?pagelen=5')).status).toBe(200);
    expect(sim.violations).toEqual([]);
  });
});

describe('pagination', () => {
  it('pages the workspace repositories with pagelen, page, size and next', async () => {
    for (let i = 0; i < 11; i++) await sim.createRepository('acme', `many-${String(i).padStart(2, '0')}`);
    const first = (await (await call('GET', '/repositories/acme?pagelen=5')).json()) as Record<string, unknown>;
    expect(first).toMatchObject({ pagelen: 5, page: 1, size: 12 });
    expect((first.values as unknown[]).length).toBe(5);
    const next = new URL(first.next as string);
    expect(next.searchParams.get('page')).toBe('2');
    const last = (await (await call('GET', '/repositories/acme?pagelen=5&page=3')).json()) as Record<string, unknown>;
    expect((last.values as unknown[]).length).toBe(2);
    expect(last.next).toBeUndefined();
    expect((await call('GET', '/repositories/acme?pagelen=101')).status).toBe(400);
  });
});

describe('git-backed content', () => {
  it('serves a pull request, its 302 to diff/{spec} and diffstat/{spec}, and the diff from git', async () => {
    await sim.commit('acme/api', 'main', { 'keep.txt': 'a\nb\nc\n', 'gone.txt': 'bye\n', 'old-name.txt': 'same content here\nline two\nline three\n' }, 'Base');
    await sim.createBranch('acme/api', 'topic');
    await sim.commit('acme/api', 'topic', { 'keep.txt': 'a\nB\nc\n', 'gone.txt': null, 'new.txt': 'hello\n', 'old-name.txt': null, 'new-name.txt': 'same content here\nline two\nline three\n' }, 'Change');
    const pr = await sim.openPullRequest('acme/api', { source: 'topic', title: 'Topic' });

    const got = (await (await call('GET', `/repositories/acme/api/pullrequests/${pr.id}`)).json()) as { source: { commit: { hash: string } } };
    expect(got.source.commit.hash).toHaveLength(12);

    const redirect = await call('GET', `/repositories/acme/api/pullrequests/${pr.id}/diff`);
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(location.pathname).toBe(`/2.0/repositories/acme/api/diff/acme/api:${pr.sourceHash.slice(0, 12)}%0D${pr.destinationHash.slice(0, 12)}`);
    expect(location.searchParams.get('from_pullrequest_id')).toBe(String(pr.id));

    const diff = await (await call('GET', location.pathname.slice(4) + location.search)).text();
    expect(diff).toContain('diff --git a/keep.txt b/keep.txt');
    expect(diff).toContain('+B');
    expect(diff).toContain('rename from old-name.txt');

    const onlyNew = await (await call('GET', `${location.pathname.slice(4)}${location.search}&path=new.txt`)).text();
    expect(onlyNew).toContain('+hello');
    expect(onlyNew).not.toContain('keep.txt');

    const statRedirect = await call('GET', `/repositories/acme/api/pullrequests/${pr.id}/diffstat`);
    const statUrl = new URL(statRedirect.headers.get('location') ?? '');
    const stat = (await (await call('GET', statUrl.pathname.slice(4) + statUrl.search)).json()) as { values: { status: string; lines_added: number; lines_removed: number; old: { path: string } | null; new: { path: string } | null }[] };
    const byStatus = Object.fromEntries(stat.values.map((v) => [v.status, v]));
    expect(byStatus.modified).toMatchObject({ lines_added: 1, lines_removed: 1, new: { path: 'keep.txt' } });
    expect(byStatus.added).toMatchObject({ old: null, new: { path: 'new.txt' } });
    expect(byStatus.removed).toMatchObject({ new: null, old: { path: 'gone.txt' } });
    expect(byStatus.renamed).toMatchObject({ old: { path: 'old-name.txt' }, new: { path: 'new-name.txt' } });
    expect(sim.violations).toEqual([]);
  });

  it('diffs a single commit against its parent, with binary files shown or left out', async () => {
    const hash = await sim.commit('acme/api', 'main', { 'logo.png': 'PNG\0\x01\x02', 'notes.txt': 'note\n' }, 'Binary and text');
    const full = await (await call('GET', `/repositories/acme/api/diff/${hash.slice(0, 12)}`)).text();
    expect(full).toContain('Binary files /dev/null and b/logo.png differ');
    expect(full).toContain('+note');
    const textOnly = await (await call('GET', `/repositories/acme/api/diff/${hash}?binary=false&context=0`)).text();
    expect(textOnly).not.toContain('logo.png');
    expect(textOnly).toContain('+note');
    expect((await call('GET', `/repositories/acme/api/diff/${hash}?binary=maybe`)).status).toBe(400);
  });

  it('serves raw files from git, resolves 12-character hashes and answers 404 JSON for missing files', async () => {
    const hash = await sim.commit('acme/api', 'main', { 'dir/file.txt': 'content\n' }, 'File');
    const raw = await call('GET', `/repositories/acme/api/src/${hash}/dir/file.txt`);
    expect(await raw.text()).toBe('content\n');
    const commit = (await (await call('GET', `/repositories/acme/api/commit/${hash.slice(0, 12)}`)).json()) as { hash: string };
    expect(commit.hash).toBe(hash);
    const missing = await call('GET', `/repositories/acme/api/src/${hash}/nope.txt`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { type: string }).type).toBe('error');
  });

  it('seeds branches off main in one go without a webhook, each one commit a pull request diffs; pull requests opened at once get distinct ids', async () => {
    await sim.createRepository('acme', 'seeded');
    const sent = sim.deliveries.length;
    await sim.seedBranches('acme/seeded', [1, 2, 3].map((n) => ({ branch: `leak-${n}`, files: { [`dir/key${n}.js`]: `key ${n}\n` } })), 'Leak');
    expect(sim.deliveries.length).toBe(sent);
    // Opened at the same time: each its own id, as Bitbucket numbers them.
    const opened = await Promise.all([1, 2, 3].map((n) => sim.openPullRequest('acme/seeded', { source: `leak-${n}`, title: `Leak ${n}` })));
    expect(opened.map((p) => p.id).sort()).toEqual([1, 2, 3]);
    const pr = opened[1]!;
    expect(sim.pullRequest('acme/seeded', pr.id).sourceBranch).toBe('leak-2');
    const diff = await (await call('GET', `/repositories/acme/seeded/diff/${pr.sourceHash}..${pr.destinationHash}`)).text();
    expect(diff).toContain('+key 2');
    expect(diff).not.toContain('key1');
    expect(await (await call('GET', `/repositories/acme/seeded/src/${pr.sourceHash}/README.md`)).text()).toBe('# seeded\n');
    await expect(sim.seedBranches('acme/seeded', [{ branch: 'leak-3', files: { 'x.js': 'x' } }], 'Again')).rejects.toThrow(/leak-3 already exists/);
    expect(sim.violations).toEqual([]);
  });
});

describe('Code Insights, build statuses and comments', () => {
  const report = { title: 'Gatehouse', details: 'Security scan', report_type: 'SECURITY', result: 'FAILED', data: [{ title: 'Findings', type: 'NUMBER', value: 2 }] };
  const annotation = (i: number, extra: Record<string, unknown> = {}) => ({ external_id: `a-${i}`, annotation_type: 'VULNERABILITY', summary: `finding ${i}`, severity: 'HIGH', path: 'x.js', line: 1, ...extra });

  it('stores a report and upserts annotations by external_id', async () => {
    const head = (await sim.repository('acme/api').git.branchHead('main'))!;
    expect((await call('PUT', `/repositories/acme/api/commit/${head.slice(0, 12)}/reports/gatehouse-scan`, { body: report })).status).toBe(200);
    const posted = await call('POST', `/repositories/acme/api/commit/${head}/reports/gatehouse-scan/annotations`, { body: [annotation(1), annotation(2)] });
    expect(posted.status).toBe(200);
    await call('POST', `/repositories/acme/api/commit/${head}/reports/gatehouse-scan/annotations`, { body: [annotation(1, { summary: 'changed' })] });
    const list = (await (await call('GET', `/repositories/acme/api/commit/${head}/reports/gatehouse-scan/annotations?pagelen=100`)).json()) as { size: number; values: { summary: string }[] };
    expect(list.size).toBe(2);
    expect(list.values[0]?.summary).toBe('changed');
    expect(sim.violations).toEqual([]);
  });

  it('enforces the summary length, the batch size and the per-report total', async () => {
    const head = (await sim.repository('acme/api').git.branchHead('main'))!;
    const path = `/repositories/acme/api/commit/${head}/reports/gatehouse-limits`;
    await call('PUT', path, { body: report });
    expect((await call('POST', `${path}/annotations`, { body: [annotation(1, { summary: 'x'.repeat(451) })] })).status).toBe(400);
    expect((await call('POST', `${path}/annotations`, { body: [annotation(1, { summary: 'x'.repeat(450) })] })).status).toBe(200);
    expect((await call('POST', `${path}/annotations`, { body: Array.from({ length: 101 }, (_, i) => annotation(i)) })).status).toBe(400);
    expect((await call('POST', `${path}/annotations`, { body: [] })).status).toBe(400);
    for (let batch = 0; batch < 10; batch++) {
      const res = await call('POST', `${path}/annotations`, { body: Array.from({ length: 100 }, (_, i) => annotation(batch * 100 + i)) });
      expect(res.status).toBe(200);
    }
    expect((await call('POST', `${path}/annotations`, { body: [annotation(5000)] })).status).toBe(400);
    expect(sim.violations.map((v) => v.kind)).toEqual(['bitbucket-rule', 'openapi', 'openapi', 'bitbucket-rule']);
  });

  it('overwrites a build status with the same key and keeps PR comments editable', async () => {
    const head = (await sim.repository('acme/api').git.branchHead('main'))!;
    const path = `/repositories/acme/api/commit/${head}/statuses/build`;
    expect((await call('POST', path, { body: { key: 'GATEHOUSE', state: 'INPROGRESS', name: 'Gatehouse', url: 'https://example.com' } })).status).toBe(201);
    expect((await call('POST', path, { body: { key: 'GATEHOUSE', state: 'FAILED', name: 'Gatehouse', url: 'https://example.com' } })).status).toBe(200);
    const statuses = (await (await call('GET', `/repositories/acme/api/commit/${head}/statuses`)).json()) as { size: number; values: { state: string }[] };
    expect(statuses.size).toBe(1);
    expect(statuses.values[0]?.state).toBe('FAILED');

    const pr = sim.repository('acme/api').pullRequests[0]!;
    const created = (await (await call('POST', `/repositories/acme/api/pullrequests/${pr.id}/comments`, { body: { content: { raw: 'first' } } })).json()) as { id: number };
    expect((await call('PUT', `/repositories/acme/api/pullrequests/${pr.id}/comments/${created.id}`, { body: { content: { raw: 'edited' } } })).status).toBe(200);
    const comments = (await (await call('GET', `/repositories/acme/api/pullrequests/${pr.id}/comments`)).json()) as { values: { content: { raw: string } }[] };
    expect(comments.values.map((c) => c.content.raw)).toEqual(['edited']);
    expect((await call('POST', `/repositories/acme/api/pullrequests/${pr.id}/comments`, { body: { content: { raw: 'x', bogus: 1 } } })).status).toBe(400);
  });
});

describe('fault knobs', () => {
  it('fails the next N matching calls, then answers normally', async () => {
    sim.faults.add({ pathPattern: /\/repositories\/acme\/api$/, count: 2, kind: '429-retry-after', retryAfterSeconds: 7 });
    const first = await call('GET', '/repositories/acme/api');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await call('GET', '/repositories/acme/api')).status).toBe(429);
    expect((await call('GET', '/repositories/acme/api')).status).toBe(200);
  });

  it('answers 429 without Retry-After, 500, 503, and drops connections', async () => {
    sim.faults.add({ pathPattern: 'repositories/acme/api', method: 'GET', count: 1, kind: '429' });
    sim.faults.add({ pathPattern: 'repositories/acme/api', count: 1, kind: '500' });
    const a = await call('GET', '/repositories/acme/api');
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBeNull();
    expect((await call('GET', '/repositories/acme/api')).status).toBe(500);
    sim.faults.add({ pathPattern: 'repositories/acme/api', count: 1, kind: 'drop' });
    await expect(call('GET', '/repositories/acme/api')).rejects.toThrow();
  });

  it('can be set over HTTP for command-line use', async () => {
    const res = await fetch(`${sim.webOrigin}/_sim/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pathPattern: '/acme\\/api$/', count: 1, kind: '503' }) });
    expect(res.status).toBe(201);
    expect((await call('GET', '/repositories/acme/api')).status).toBe(503);
    expect((await call('GET', '/repositories/acme/api')).status).toBe(200);
    const bad = await fetch(`${sim.webOrigin}/_sim/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pathPattern: 'x', count: 0, kind: 'teapot' }) });
    expect(bad.status).toBe(400);
  });

  it('slows an answer down without failing it', async () => {
    sim.faults.add({ pathPattern: 'repositories/acme/api', count: 1, kind: 'slow', delayMs: 50 });
    expect((await call('GET', '/repositories/acme/api')).status).toBe(200);
    expect(sim.site.faults.triggered.at(-1)?.kind).toBe('slow');
  });
});
