import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBitbucketClient, type ConnectClientOptions } from '../src/bitbucket/client.ts';
import {
  BitbucketApiError,
  BitbucketInputError,
  BitbucketNetworkError,
  BitbucketOriginError,
  BitbucketProtocolError,
} from '../src/bitbucket/errors.ts';
import { FakeBitbucket, type FakeCredentials } from './helpers/fake-bitbucket.ts';

const credentials: FakeCredentials = { appKey: 'gatehouse-test', clientKey: 'client-key-1', sharedSecret: 'shared-secret-for-tests-only' };
// A whole second, so HTTP dates (second precision) convert exactly.
const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);
const REPO = '/2.0/repositories/acme/widgets';
const HASH = '0123456789ab';

let clock: number;
const now = () => clock;
let api: FakeBitbucket;
let elsewhere: FakeBitbucket;
let sleeps: number[];

beforeEach(async () => {
  clock = T0;
  sleeps = [];
  api = await FakeBitbucket.start(credentials, now);
  elsewhere = await FakeBitbucket.start(credentials, now);
});

afterEach(async () => {
  expect(api.authFailures).toEqual([]);
  await api.close();
  await elsewhere.close();
});

function client(overrides: Partial<ConnectClientOptions> = {}) {
  return createBitbucketClient({
    ...credentials,
    baseUrl: 'https://bitbucket.org',
    baseApiUrl: api.origin,
    allowedApiOrigins: [api.origin],
    allowedBaseOrigins: ['https://bitbucket.org'],
    auth: 'jwt',
    now,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('request signing', () => {
  it('signs each request with iss = app key, sub = clientKey, a 3-minute exp and the qsh of that request', async () => {
    api.route('GET', `${REPO}/pullrequests/7`, { status: 200, json: { type: 'pullrequest', id: 7 } });
    const pr = await client().getPullRequest('acme', 'widgets', 7);
    expect(pr.id).toBe(7);
    const [request] = api.requests;
    expect(request?.headers.authorization).toMatch(/^JWT [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(request?.auth).toEqual({
      kind: 'jwt',
      claims: {
        iss: 'gatehouse-test',
        sub: 'client-key-1',
        iat: T0 / 1000,
        exp: T0 / 1000 + 180,
        qsh: sha256(`GET&${REPO}/pullrequests/7&`),
      },
    });
  });

  it('hashes an awkward query canonically (sorted keys, repeated keys, RFC 3986 escapes)', async () => {
    api.route('GET', '/2.0/repositories/acme', { status: 200, json: { pagelen: 100, values: [] } });
    const repos = client().listRepositories('acme', { q: 'name ~ "a&b"', sort: '-updated_on', role: 'member' });
    for await (const _ of repos) expect.unreachable();
    const auth = api.requests[0]?.auth;
    // Written out by hand from the qsh rules, independent of atlassian-jwt.
    const canonical = 'GET&/2.0/repositories/acme&pagelen=100&q=name%20~%20%22a%26b%22&role=member&sort=-updated_on';
    expect(auth?.kind === 'jwt' && auth.claims.qsh).toBe(sha256(canonical));
  });

  it('signs every retry anew, so a token never outlives its 3 minutes across a backoff', async () => {
    api.route('GET', REPO, { status: 503 }, { status: 200, json: { type: 'repository' } });
    const bb = client({ sleep: async (ms) => void (clock += ms + 170_000) });
    await bb.getRepository('acme', 'widgets');
    const [first, second] = api.requests.map((r) => (r.auth.kind === 'jwt' ? r.auth.claims.iat : -1));
    expect(second! - first!).toBeGreaterThanOrEqual(170);
  });

  it('does not retry a JWT request that Bitbucket rejects with 401', async () => {
    const wrongSecret = client({ sharedSecret: 'not-the-secret' });
    const error = await wrongSecret.getRepository('acme', 'widgets').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketApiError);
    expect((error as BitbucketApiError).status).toBe(401);
    expect(api.requests).toHaveLength(1);
    // The fake recorded why; clear it so afterEach's check is about the other tests.
    expect(api.authFailures).toEqual([`GET ${REPO}: signature does not verify`]);
    api.authFailures.length = 0;
  });
});

describe('retries', () => {
  it('backs off exponentially with full jitter on 429 without Retry-After', async () => {
    api.route('GET', REPO, { status: 429 }, { status: 429 }, { status: 429 }, { status: 200, json: { type: 'repository', name: 'widgets' } });
    const repo = await client().getRepository('acme', 'widgets');
    expect(repo.name).toBe('widgets');
    // random() = 0.5 of a ceiling that doubles from 1 s.
    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(api.requests).toHaveLength(4);
  });

  it('uses the whole jitter range: random() picks a point in [0, ceiling)', async () => {
    api.route('GET', REPO, { status: 429 }, { status: 429 }, { status: 200, json: { type: 'repository' } });
    const draws = [0, 0.999];
    await client({ random: () => draws.shift()! }).getRepository('acme', 'widgets');
    expect(sleeps).toEqual([0, 1998]);
  });

  it('waits exactly as long as Retry-After says, in seconds or as an HTTP date', async () => {
    api.route(
      'GET',
      REPO,
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': new Date(T0 + 5_000).toUTCString() } },
      { status: 200, json: { type: 'repository' } },
    );
    await client().getRepository('acme', 'widgets');
    expect(sleeps).toEqual([7_000, 5_000]);
  });

  it('gives up at once, with retryAfterMs, when Retry-After is longer than it will wait', async () => {
    api.route('GET', REPO, { status: 429, headers: { 'retry-after': '3600' }, json: { type: 'error', error: { message: 'Rate limit exceeded' } } });
    const error = (await client().getRepository('acme', 'widgets').catch((e: unknown) => e)) as BitbucketApiError;
    expect(error).toBeInstanceOf(BitbucketApiError);
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(error.message).toContain('Rate limit exceeded');
    expect(sleeps).toEqual([]);
    expect(api.requests).toHaveLength(1);
  });

  it('retries 5xx until success, logging each retry without credentials', async () => {
    api.route('GET', REPO, { status: 502 }, { status: 500 }, { status: 200, json: { type: 'repository', name: 'widgets' } });
    const logged: unknown[] = [];
    const logger = { warn: (details: object, message: string) => void logged.push({ ...details, message }) };
    await expect(client({ logger }).getRepository('acme', 'widgets')).resolves.toMatchObject({ name: 'widgets' });
    expect(sleeps).toEqual([500, 1000]);
    expect(logged).toEqual([
      { method: 'GET', path: REPO, status: 502, retry: 1, delayMs: 500, message: 'Bitbucket request failed; retrying' },
      { method: 'GET', path: REPO, status: 500, retry: 2, delayMs: 1000, message: 'Bitbucket request failed; retrying' },
    ]);
    expect(JSON.stringify(logged)).not.toMatch(/JWT|Bearer|shared-secret/);
  });

  it('retries a reset connection', async () => {
    api.route('GET', REPO, { destroy: true }, { status: 200, json: { type: 'repository', name: 'widgets' } });
    await expect(client().getRepository('acme', 'widgets')).resolves.toMatchObject({ name: 'widgets' });
    expect(api.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up after maxRetries with an error naming status, method, path and Bitbucket message, never the token', async () => {
    api.route('GET', REPO, { status: 503, json: { type: 'error', error: { message: 'Service unavailable', detail: 'try later' } } });
    const error = (await client({ maxRetries: 2 }).getRepository('acme', 'widgets').catch((e: unknown) => e)) as BitbucketApiError;
    expect(error).toBeInstanceOf(BitbucketApiError);
    expect(error).toMatchObject({ status: 503, method: 'GET', path: REPO, attempts: 3, bitbucketMessage: 'Service unavailable (try later)' });
    expect(error.message).toBe(`Bitbucket answered 503 to GET ${REPO} after 3 attempts: Service unavailable (try later)`);
    expect(api.requests).toHaveLength(3);
    const token = String(api.requests[0]?.headers.authorization).slice(4);
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(token);
  });

  it.each([400, 403, 404, 409])('does not retry %i', async (status) => {
    api.route('GET', REPO, { status, json: { type: 'error', error: { message: 'nope' } } });
    const error = await client().getRepository('acme', 'widgets').catch((e: unknown) => e);
    expect(error).toMatchObject({ status, attempts: 1 });
    expect(api.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('times an attempt out, retries it, and reports a timeout when every attempt hangs', async () => {
    api.route('GET', REPO, { hang: true });
    const error = (await client({ timeoutMs: 100, maxRetries: 1 }).getRepository('acme', 'widgets').catch((e: unknown) => e)) as BitbucketNetworkError;
    expect(error).toBeInstanceOf(BitbucketNetworkError);
    expect(error.timedOut).toBe(true);
    expect(error.message).toBe(`GET ${REPO} timed out after 2 attempts`);
    expect(api.requests).toHaveLength(2);
  });

  it('retries PUT, annotation and build-status POSTs (upserts by key) but not comment creation after a 5xx or a reset', async () => {
    const bb = client({ maxRetries: 3 });
    api.route('POST', `${REPO}/commit/${HASH}/statuses/build`, { status: 500 }, { status: 201, json: { type: 'commitstatus', key: 'GATEHOUSE', state: 'SUCCESSFUL' } });
    await bb.postBuildStatus('acme', 'widgets', HASH, { key: 'GATEHOUSE', state: 'SUCCESSFUL' });
    expect(api.requestsTo(`${REPO}/commit/${HASH}/statuses/build`)).toHaveLength(2);

    const comments = `${REPO}/pullrequests/3/comments`;
    api.route('POST', comments, { status: 500 }, { destroy: true }, { status: 201, json: { type: 'pullrequest_comment', id: 1 } });
    await expect(bb.createPullRequestComment('acme', 'widgets', 3, { raw: 'hi' })).rejects.toMatchObject({ status: 500, attempts: 1 });
    await expect(bb.createPullRequestComment('acme', 'widgets', 3, { raw: 'hi' })).rejects.toBeInstanceOf(BitbucketNetworkError);
    expect(api.requestsTo(comments)).toHaveLength(2);
  });

  it('retries comment creation after a 429, which Bitbucket answers before acting', async () => {
    const comments = `${REPO}/pullrequests/3/comments`;
    api.route('POST', comments, { status: 429 }, { status: 201, json: { type: 'pullrequest_comment', id: 9 } });
    const comment = await client().createPullRequestComment('acme', 'widgets', 3, { raw: '**Gatehouse**', inline: { path: 'a.ts', to: 4 } });
    expect(comment.id).toBe(9);
    expect(JSON.parse(api.requestsTo(comments)[1]!.body)).toEqual({ content: { raw: '**Gatehouse**' }, inline: { path: 'a.ts', to: 4 } });
  });
});

describe('pagination', () => {
  it('follows next as given across three pages, signing each page', async () => {
    const path = '/2.0/repositories/acme';
    api.route(
      'GET',
      path,
      { status: 200, json: { pagelen: 2, size: 5, page: 1, values: [{ name: 'a' }, { name: 'b' }], next: `${api.origin}${path}?pagelen=2&page=2` } },
      { status: 200, json: { pagelen: 2, size: 5, page: 2, values: [{ name: 'c' }, { name: 'd' }], next: `${api.origin}${path}?pagelen=2&page=3&after=x%2By` } },
      { status: 200, json: { pagelen: 2, size: 5, page: 3, values: [{ name: 'e' }] } },
    );
    const names: string[] = [];
    for await (const repo of client().listRepositories('acme', { pagelen: 2 })) names.push(repo.name ?? '');
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(api.requests.map((r) => r.url)).toEqual([`${path}?pagelen=2`, `${path}?pagelen=2&page=2`, `${path}?pagelen=2&page=3&after=x%2By`]);
    expect(new Set(api.requests.map((r) => (r.auth.kind === 'jwt' ? r.auth.claims.qsh : ''))).size).toBe(3);
  });

  it('refuses a next link outside the allow-list without calling it', async () => {
    const path = '/2.0/repositories/acme';
    api.route('GET', path, { status: 200, json: { pagelen: 1, values: [{ name: 'a' }], next: `${elsewhere.origin}${path}?page=2` } });
    const seen: string[] = [];
    const walk = async () => {
      for await (const repo of client().listRepositories('acme')) seen.push(repo.name ?? '');
    };
    await expect(walk()).rejects.toBeInstanceOf(BitbucketOriginError);
    expect(seen).toEqual(['a']);
    expect(elsewhere.requests).toEqual([]);
  });

  it('stops with an error when next loops back or a page has no values', async () => {
    const path = '/2.0/repositories/acme';
    api.route('GET', path, { status: 200, json: { values: [1], next: `${api.origin}${path}?pagelen=100` } });
    const walk = async () => {
      for await (const _ of client().listRepositories('acme'));
    };
    await expect(walk()).rejects.toThrow(/loops back/);
    api.route('GET', `${REPO}/pullrequests/1/comments`, { status: 200, json: { error: 'not a page' } });
    const comments = async () => {
      for await (const _ of client().listPullRequestComments('acme', 'widgets', 1));
    };
    await expect(comments()).rejects.toBeInstanceOf(BitbucketProtocolError);
  });
});

describe('diffs and redirects', () => {
  const spec = `acme/widgets:${HASH}%0Dfedcba987654`;
  const target = `${REPO}/diff/${spec}`;
  const diffText = 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n';

  it('follows the pull-request diff redirect, signing the target with its own qsh', async () => {
    api.route('GET', `${REPO}/pullrequests/5/diff`, { status: 302, headers: { location: `${api.origin}${target}?from_pullrequest_id=5&topic=true` } });
    api.route('GET', target, { status: 200, text: diffText });
    expect(await client().getDiff('acme', 'widgets', { pullRequestId: 5 })).toBe(diffText);
    const [first, second] = api.requests;
    expect(second?.url).toBe(`${target}?from_pullrequest_id=5&topic=true`);
    // Both verified by the fake (afterEach); the redirect got a token of its own.
    expect(first?.headers.authorization).not.toBe(second?.headers.authorization);
    expect(second?.auth.kind === 'jwt' && second.auth.claims.qsh).toBe(sha256(`GET&${target}&from_pullrequest_id=5&topic=true`));
  });

  it('streams a large diff chunk by chunk', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => `+line ${i} ${'x'.repeat(20_000)}\n`);
    api.route('GET', `${REPO}/diff/${HASH}..fedcba987654`, { status: 200, chunks });
    const stream = await client().streamDiff('acme', 'widgets', { spec: `${HASH}..fedcba987654` }, { context: 0, path: ['a', 'b'] });
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
    expect(text).toBe(chunks.join(''));
    expect(api.requests[0]?.url).toBe(`${REPO}/diff/${HASH}..fedcba987654?context=0&path=a&path=b`);
  });

  it('errors the stream with a timeout when the server stalls mid-body', async () => {
    api.route('GET', `${REPO}/diff/${HASH}`, { status: 200, chunks: ['diff --git a/x b/x\n'], stall: true });
    const stream = await client({ timeoutMs: 100 }).streamDiff('acme', 'widgets', { spec: HASH });
    const reader = stream.getReader();
    expect((await reader.read()).done).toBe(false);
    const error = (await reader.read().catch((e: unknown) => e)) as BitbucketNetworkError;
    expect(error).toBeInstanceOf(BitbucketNetworkError);
    expect(error.timedOut).toBe(true);
  });

  it('pages through a redirected diffstat', async () => {
    api.route('GET', `${REPO}/pullrequests/5/diffstat`, { status: 302, headers: { location: `${REPO}/diffstat/${spec}?from_pullrequest_id=5` } });
    api.route(
      'GET',
      `${REPO}/diffstat/${spec}`,
      { status: 200, json: { pagelen: 1, values: [{ type: 'diffstat', status: 'modified', new: { type: 'commit_file', path: 'a' } }], next: `${api.origin}${REPO}/diffstat/${spec}?page=2` } },
      { status: 200, json: { pagelen: 1, values: [{ type: 'diffstat', status: 'added', new: { type: 'commit_file', path: 'b' } }] } },
    );
    const paths: string[] = [];
    for await (const stat of client().getDiffstat('acme', 'widgets', { pullRequestId: 5 })) paths.push(`${stat.status}:${stat.new?.path}`);
    expect(paths).toEqual(['modified:a', 'added:b']);
  });

  it('refuses a redirect to an origin outside the allow-list without calling it', async () => {
    api.route('GET', `${REPO}/pullrequests/5/diff`, { status: 302, headers: { location: `${elsewhere.origin}${target}` } });
    await expect(client().getDiff('acme', 'widgets', { pullRequestId: 5 })).rejects.toBeInstanceOf(BitbucketOriginError);
    expect(elsewhere.requests).toEqual([]);
  });

  it('stops after too many redirects, or at a redirect without a usable Location', async () => {
    api.route('GET', `${REPO}/pullrequests/5/diff`, { status: 302, headers: { location: `${REPO}/pullrequests/5/diff` } });
    await expect(client().getDiff('acme', 'widgets', { pullRequestId: 5 })).rejects.toThrow(/more than 5 redirects/);
    api.route('GET', `${REPO}/pullrequests/6/diff`, { status: 302, headers: { location: 'http://[::1' } });
    await expect(client().getDiff('acme', 'widgets', { pullRequestId: 6 })).rejects.toBeInstanceOf(BitbucketProtocolError);
    expect(api.requestsTo(`${REPO}/pullrequests/6/diff`)).toHaveLength(1);
  });
});

describe('the SSRF allow-list', () => {
  it('refuses to build a client for a baseApiUrl or baseUrl outside the allow-lists', () => {
    expect(() => client({ baseApiUrl: elsewhere.origin })).toThrow(BitbucketOriginError);
    expect(() => client({ baseApiUrl: 'http://169.254.169.254' })).toThrow(/not allow-listed/);
    expect(() => client({ baseUrl: 'https://bitbucket.org.evil.example' })).toThrow(BitbucketOriginError);
    expect(() => client({ baseApiUrl: `http://user:pass@${new URL(api.origin).host}` })).toThrow(/credentials/);
    expect(() => client({ baseApiUrl: 'file:///etc/passwd' })).toThrow(BitbucketOriginError);
  });

  it('refuses pagination started from a URL outside the allow-list', async () => {
    const walk = async () => {
      for await (const _ of client().paginate(new URL(`${elsewhere.origin}/2.0/repositories/acme`)));
    };
    await expect(walk()).rejects.toBeInstanceOf(BitbucketOriginError);
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('typed methods', () => {
  it('resolves a short commit hash', async () => {
    api.route('GET', `${REPO}/commit/${HASH}`, { status: 200, json: { type: 'commit', hash: `${HASH}${'0'.repeat(28)}` } });
    const commit = await client().getCommit('acme', 'widgets', HASH);
    expect(commit.hash).toHaveLength(40);
  });

  it('reads file source as text, encoding each path segment, and answers null on 404', async () => {
    api.route('GET', `${REPO}/src/${HASH}/dir%20one/package%23lock.json`, { status: 200, text: '{"lockfileVersion":3}' });
    const bb = client();
    expect(await bb.getFileSource('acme', 'widgets', HASH, 'dir one/package#lock.json')).toBe('{"lockfileVersion":3}');
    expect(await bb.getFileSource('acme', 'widgets', HASH, 'missing.txt')).toBeNull();
    await expect(bb.getFileSource('acme', 'widgets', HASH, '../../other/repo')).rejects.toBeInstanceOf(BitbucketInputError);
    await expect(bb.getFileSource('acme', 'widgets', 'HEAD; rm', 'a')).rejects.toBeInstanceOf(BitbucketInputError);
  });

  it('puts, reads and deletes a Code Insights report', async () => {
    const path = `${REPO}/commit/${HASH}/reports/gatehouse-security`;
    api.route('PUT', path, (request) => ({ status: 200, json: { type: 'report', uuid: '{r}', ...JSON.parse(request.body) } }));
    api.route('GET', path, { status: 200, json: { type: 'report', uuid: '{r}', result: 'FAILED' } }, { status: 404 });
    api.route('DELETE', path, { status: 204 }, { status: 404 });
    const bb = client();
    const report = await bb.putReport('acme', 'widgets', HASH, 'gatehouse-security', {
      title: 'Gatehouse',
      details: '2 secrets',
      report_type: 'SECURITY',
      result: 'FAILED',
      data: [
        { title: 'Secrets', type: 'NUMBER', value: 2 },
        { title: 'Safe to merge?', type: 'BOOLEAN', value: false },
      ],
    });
    expect(report).toMatchObject({ uuid: '{r}', report_type: 'SECURITY', data: [{ value: 2 }, { value: false }] });
    expect(await bb.getReport('acme', 'widgets', HASH, 'gatehouse-security')).toMatchObject({ result: 'FAILED' });
    expect(await bb.getReport('acme', 'widgets', HASH, 'gatehouse-security')).toBeNull();
    expect(await bb.deleteReport('acme', 'widgets', HASH, 'gatehouse-security')).toBe(true);
    expect(await bb.deleteReport('acme', 'widgets', HASH, 'gatehouse-security')).toBe(false);
  });

  it('posts 1 to 100 annotations and refuses anything Bitbucket would reject, before sending', async () => {
    const path = `${REPO}/commit/${HASH}/reports/gatehouse-security/annotations`;
    api.route('POST', path, { status: 500 }, (request) => ({ status: 200, json: JSON.parse(request.body) }));
    const annotation = (i: number) => ({ external_id: `gatehouse-${i}`, annotation_type: 'VULNERABILITY' as const, summary: 'AWS key', severity: 'HIGH' as const, path: 'a.env', line: i + 1 });
    const bb = client();
    const posted = await bb.postAnnotations('acme', 'widgets', HASH, 'gatehouse-security', Array.from({ length: 100 }, (_, i) => annotation(i)));
    expect(posted).toHaveLength(100);
    expect(api.requests).toHaveLength(2);
    const post = (list: ReturnType<typeof annotation>[]) => bb.postAnnotations('acme', 'widgets', HASH, 'gatehouse-security', list);
    await expect(post([])).rejects.toBeInstanceOf(BitbucketInputError);
    await expect(post(Array.from({ length: 101 }, (_, i) => annotation(i)))).rejects.toThrow(/1 to 100/);
    await expect(post([{ ...annotation(0), summary: 'x'.repeat(451) }])).rejects.toThrow(/450/);
    await expect(post([{ ...annotation(0), line: 0 }])).rejects.toThrow(/line/);
    await expect(post([{ ...annotation(0), external_id: '' }])).rejects.toThrow(/external_id/);
    expect(api.requests).toHaveLength(2);
  });

  it('updates a pull-request comment in place', async () => {
    const path = `${REPO}/pullrequests/3/comments/42`;
    api.route('PUT', path, (request) => ({ status: 200, json: { type: 'pullrequest_comment', id: 42, content: JSON.parse(request.body).content } }));
    const comment = await client().updatePullRequestComment('acme', 'widgets', 3, 42, { raw: 'updated' });
    expect(comment.content?.raw).toBe('updated');
  });

  it('lists pull-request comments', async () => {
    api.route('GET', `${REPO}/pullrequests/3/comments`, { status: 200, json: { pagelen: 100, values: [{ type: 'pullrequest_comment', id: 1 }] } });
    const ids: number[] = [];
    for await (const comment of client().listPullRequestComments('acme', 'widgets', 3)) ids.push(comment.id ?? 0);
    expect(ids).toEqual([1]);
  });

  it('rejects arguments that would change the API path', async () => {
    const bb = client();
    await expect(bb.getRepository('..', 'widgets')).rejects.toBeInstanceOf(BitbucketInputError);
    await expect(bb.getPullRequest('acme', 'widgets', -1)).rejects.toBeInstanceOf(BitbucketInputError);
    expect(api.requests).toEqual([]);
  });
});
