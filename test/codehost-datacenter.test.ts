import { describe, expect, it } from 'vitest';
import { BitbucketOriginError, BitbucketProtocolError } from '../src/bitbucket/errors.ts';
import { DatacenterClient } from '../src/codehost/datacenter/client.ts';
import { datacenterCodeHost } from '../src/codehost/datacenter/code-host.ts';
import { datacenterCodeHosts } from '../src/codehost/datacenter/index.ts';
import { createCodeHosts } from '../src/codehost/index.ts';
import { CallBudget } from '../src/core/budget.ts';
import { TenantCredentialsRejectedError, TenantUnavailableError, type Annotation } from '../src/core/code-host.ts';
import { encryptSecret } from '../src/crypto.ts';
import type { DatacenterInstance } from '../src/store/types.ts';

const TOKEN = 'BBDC-NzQ0MjM5ODkwMTIzOpXkq3ZpLqEYl0xk3vJm9cT2nQwR';
const BASE = 'http://dc.internal:7990/bitbucket';
const REPO = { workspace: 'SEC', slug: 'web' };
const API = '/bitbucket/rest/api/latest/projects/SEC/repos/web';
const INSIGHTS = '/bitbucket/rest/insights/latest/projects/SEC/repos/web';
const HEAD = 'a'.repeat(40);
const BASE_COMMIT = 'b'.repeat(40);

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  body: unknown;
}

type Answer = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> };

/** A fake instance: answers by `METHOD /path` (a function may vary by call), records every request. */
function instance(routes: Record<string, Answer | ((seen: Seen, n: number) => Answer)>) {
  const seen: Seen[] = [];
  const counts = new Map<string, number>();
  const slept: number[] = [];
  const fetch = (async (input: URL | string, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers = new Headers(init.headers);
    const entry: Seen = {
      method: init.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: headers.get('authorization'),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(entry);
    const key = `${entry.method} ${entry.path}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const route = routes[key];
    if (!route) return new Response(JSON.stringify({ errors: [{ message: `no route ${key}` }] }), { status: 404 });
    const answer = typeof route === 'function' ? route(entry, n) : route;
    const body = answer.text ?? (answer.json === undefined ? null : JSON.stringify(answer.json));
    return new Response(answer.status === 204 ? null : body, { status: answer.status ?? 200, headers: answer.headers ?? {} });
  }) as typeof globalThis.fetch;
  const client = new DatacenterClient({ baseUrl: `${BASE}/`, token: TOKEN, tenantKey: 'datacenter:inst-1', fetch, sleep: async (ms) => void slept.push(ms), random: () => 0.5, maxRetries: 3 });
  return { host: datacenterCodeHost(client, 'test'), seen, slept };
}

const ref = (branch: string, commit: string, project = 'SEC', slug = 'web') => ({
  id: `refs/heads/${branch}`,
  displayId: branch,
  latestCommit: commit,
  repository: { slug, project: { key: project } },
});

const page = (values: unknown[], next?: number) => ({ values, size: values.length, isLastPage: next === undefined, start: 0, limit: 500, ...(next === undefined ? {} : { nextPageStart: next }) });
const change = (type: string, path: string, srcPath?: string) => ({
  type,
  path: { components: path.split('/'), toString: path },
  ...(srcPath ? { srcPath: { components: srcPath.split('/'), toString: srcPath } } : {}),
});

describe('Data Center code host: reading', () => {
  it('reads a pull request with its refs, under the registered base path, with the bearer token', async () => {
    const { host, seen } = instance({
      [`GET ${API}/pull-requests/7`]: { json: { id: 7, version: 3, state: 'OPEN', fromRef: ref('feature/x', HEAD, '~ALICE', 'web-fork'), toRef: ref('main', BASE_COMMIT), title: 't' } },
    });
    expect(await host.getPullRequest(REPO, 7)).toEqual({
      id: 7,
      state: 'OPEN',
      source: { repository: '~ALICE/web-fork', branch: 'feature/x', commit: HEAD },
      destination: { repository: 'SEC/web', branch: 'main', commit: BASE_COMMIT },
      mergeCommit: null,
    });
    expect(seen[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    expect(host.pullRequestUrl(REPO, 7)).toBe(`${BASE}/projects/SEC/repos/web/pull-requests/7`);
  });

  it('follows start/nextPageStart to the last page and maps adds, renames and deletes', async () => {
    const { host, seen } = instance({
      [`GET ${API}/pull-requests/7/changes`]: (s) =>
        s.query.start === '0' ? { json: page([change('ADD', 'a/new.txt'), change('MOVE', 'b/to.lock', 'b/from.lock')], 2) } : { json: page([change('DELETE', 'gone.txt')]) },
    });
    const changes = [];
    for await (const c of host.changedFiles(REPO, { pullRequestId: 7 })) changes.push(c);
    expect(changes).toEqual([
      { oldPath: null, newPath: 'a/new.txt' },
      { oldPath: 'b/from.lock', newPath: 'b/to.lock' },
      { oldPath: 'gone.txt', newPath: null },
    ]);
    expect(seen.map((s) => s.query.start)).toEqual(['0', '2']);
  });

  it('refuses a page that does not move forward instead of looping', async () => {
    const { host } = instance({ [`GET ${API}/pull-requests/7/changes`]: { json: page([change('ADD', 'x')], 0) } });
    const walk = async () => {
      for await (const _ of host.changedFiles(REPO, { pullRequestId: 7 }));
    };
    await expect(walk()).rejects.toBeInstanceOf(BitbucketProtocolError);
  });

  it('diffs a push from the merge base as text, and reads raw files at a commit (404 is null)', async () => {
    const { host, seen } = instance({
      [`GET ${API}/commits/${HEAD}/merge-base`]: { json: { id: 'c'.repeat(40) } },
      [`GET ${API}/diff`]: { text: 'diff --git a/x b/x\n', headers: { 'content-type': 'text/plain' } },
      [`GET ${API}/raw/src/a%20b.js`]: { text: 'const a = 1;\n' },
    });
    const diff = await new Response(await host.streamDiff(REPO, { head: HEAD, base: BASE_COMMIT })).text();
    expect(diff).toBe('diff --git a/x b/x\n');
    expect(seen[1]).toMatchObject({ path: `${API}/diff`, query: { until: HEAD, since: 'c'.repeat(40) } });
    expect(await host.getFile(REPO, HEAD, 'src/a b.js')).toBe('const a = 1;\n');
    expect(seen.at(-1)!.query).toEqual({ at: HEAD });
    expect(await host.getFile(REPO, HEAD, 'missing.txt')).toBeNull();
  });

  it('waits as long as a 429 or 503 Retry-After asks, then succeeds', async () => {
    const { host, slept } = instance({
      [`GET ${API}/default-branch`]: (_s, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : n === 2 ? { status: 503, headers: { 'retry-after': '1' } } : { json: { id: 'refs/heads/main', displayId: 'main' } }),
    });
    expect(await host.getRepository(REPO)).toEqual({ mainBranch: 'main' });
    expect(slept).toEqual([2_000, 1_000]);
  });

  it('a revoked token is one clear instance-level error, not retried, without the token', async () => {
    const { host, seen } = instance({ [`GET ${API}/pull-requests/7`]: { status: 401, json: { errors: [{ message: 'Authentication failed' }] } } });
    const error = await host.getPullRequest(REPO, 7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantCredentialsRejectedError);
    expect((error as TenantCredentialsRejectedError).tenantKey).toBe('datacenter:inst-1');
    expect(String((error as Error).message)).toMatch(/refused the access token/);
    expect(String((error as Error).message)).not.toContain(TOKEN);
    expect(seen).toHaveLength(1);
  });

  it('never follows a redirect off the /rest tree of the registered base URL', async () => {
    for (const location of ['http://elsewhere.internal/rest/api/latest/x', `http://dc.internal:7990/jira/rest/api/2/issue`]) {
      const { host, seen } = instance({ [`GET ${API}/pull-requests/7`]: { status: 302, headers: { location } } });
      await expect(host.getPullRequest(REPO, 7)).rejects.toBeInstanceOf(BitbucketOriginError);
      expect(seen).toHaveLength(1);
    }
  });
});

const annotation = (i: number, severity: Annotation['severity'], line?: number): Annotation => ({
  externalId: `gatehouse-${i}`,
  title: 'Secret: AWS access key',
  summary: 'AWS access key (AKIA****) committed in src/a.js.',
  details: '',
  severity,
  result: 'FAILED',
  path: 'src/a.js',
  ...(line === undefined ? {} : { line }),
});

describe('Data Center code host: publishing', () => {
  it('puts a PASS/FAIL report within the data limit, then replaces the annotations in batches of 1,000', async () => {
    const { host, seen } = instance({
      [`PUT ${INSIGHTS}/commits/${HEAD}/reports/gatehouse-security`]: { json: { key: 'gatehouse-security' } },
      [`DELETE ${INSIGHTS}/commits/${HEAD}/reports/gatehouse-security/annotations`]: { status: 204 },
      [`POST ${INSIGHTS}/commits/${HEAD}/reports/gatehouse-security/annotations`]: { status: 204 },
    });
    const data = [
      ...['Critical', 'High', 'Medium', 'Low', 'New findings', 'Existing findings', 'Triaged'].map((title) => ({ title, type: 'NUMBER' as const, value: 1 })),
      { title: 'Details', type: 'LINK' as const, value: { text: 'PR', href: 'https://x' } },
    ];
    const annotations = [annotation(0, 'critical', 3), annotation(1, 'medium'), ...Array.from({ length: 1_498 }, (_, i) => annotation(i + 2, 'low', 1))];
    await host.publishReport(REPO, HEAD, {
      key: 'gatehouse-security',
      report: { title: 'Gatehouse security', details: 'd'.repeat(3_000), result: 'FAILED', reporter: 'Gatehouse', link: 'https://x', data },
      annotations,
      previouslyPublished: new Set(),
    });
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'DELETE', 'POST', 'POST']);
    const report = seen[0]!.body as { result: string; data: unknown[]; details: string };
    expect(report.result).toBe('FAIL');
    expect(report.data).toHaveLength(6);
    expect(report.details.length).toBe(2_000);
    const [first, second] = [seen[2]!.body, seen[3]!.body] as { annotations: Record<string, unknown>[] }[];
    expect(first!.annotations).toHaveLength(1_000);
    expect(second!.annotations).toHaveLength(500);
    expect(first!.annotations[0]).toEqual({ externalId: 'gatehouse-0', path: 'src/a.js', line: 3, message: 'Secret: AWS access key: AWS access key (AKIA****) committed in src/a.js.', severity: 'HIGH', type: 'VULNERABILITY' });
    expect(first!.annotations[1]).toMatchObject({ line: 0, severity: 'MEDIUM' });
  });

  it('sets the build status with the full ref; STOPPED becomes CANCELLED', async () => {
    const { host, seen } = instance({ [`POST ${API}/commits/${HEAD}/builds`]: { status: 204 } });
    await host.setBuildStatus(REPO, HEAD, { key: 'gatehouse-security', state: 'STOPPED', name: 'Gatehouse security', url: 'https://x', description: 'd', branch: 'feature/x' });
    expect(seen[0]!.body).toEqual({ key: 'gatehouse-security', state: 'CANCELLED', name: 'Gatehouse security', url: 'https://x', description: 'd', ref: 'refs/heads/feature/x' });
  });

  it('edits the one comment with its current version, re-reading after a 409, and finds it among the activities', async () => {
    let version = 3;
    const { host, seen } = instance({
      [`GET ${API}/pull-requests/7/comments/41`]: () => ({ json: { id: 41, version, text: 'old' } }),
      [`PUT ${API}/pull-requests/7/comments/41`]: (s) => {
        const sent = (s.body as { version: number }).version;
        if (sent === 3) {
          version = 4; // someone edited meanwhile
          return { status: 409, json: { errors: [{ message: 'You are attempting to modify a comment based on out-of-date information.' }] } };
        }
        return { json: { id: 41, version: 5, text: 'new' } };
      },
      [`GET ${API}/pull-requests/7/activities`]: {
        json: page([
          { action: 'OPENED' },
          { action: 'COMMENTED', commentAction: 'ADDED', comment: { id: 40, version: 0, text: 'someone else' } },
          { action: 'COMMENTED', commentAction: 'EDITED', comment: { id: 41, version: 3, text: 'ours' } },
          { action: 'COMMENTED', commentAction: 'ADDED', comment: { id: 41, version: 3, text: 'ours' } },
        ]),
      },
    });
    expect(await host.editComment(REPO, 7, 41, 'new')).toBe(true);
    expect(seen.filter((s) => s.method === 'PUT').map((s) => (s.body as { version: number }).version)).toEqual([3, 4]);
    expect(seen.some((s) => s.method === 'POST')).toBe(false);
    const comments = [];
    for await (const c of host.listComments(REPO, 7)) comments.push(c);
    expect(comments).toEqual([{ id: 40, text: 'someone else' }, { id: 41, text: 'ours' }]);
    expect(await host.editComment(REPO, 7, 99, 'x')).toBe(false);
  });
});

describe('Data Center tenants in the code-host registry', () => {
  const key = Buffer.alloc(32, 7);
  const record = (overrides: Partial<DatacenterInstance> = {}): DatacenterInstance => ({
    instanceId: 'inst-1',
    name: 'corp',
    baseUrl: BASE,
    encryptedToken: encryptSecret(key, TOKEN),
    encryptedWebhookSecret: encryptSecret(key, 'whsec'),
    status: 'ok',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  });

  it('builds the host from the stored instance (token decrypted) and meters its calls under the tenant key', async () => {
    const instances = new Map([['inst-1', record()]]);
    const authorizations: (string | null)[] = [];
    const fetch = (async (_url: URL, init: RequestInit) => {
      authorizations.push(new Headers(init.headers).get('authorization'));
      return Response.json({ id: 'refs/heads/main', displayId: 'main' });
    }) as unknown as typeof globalThis.fetch;
    const budget = new CallBudget({ burst: 10, perHour: 1 });
    const hosts = createCodeHosts({
      config: { appKey: 'app', encryptionKey: key, bitbucketApiUrls: [], bitbucketBaseUrls: [] },
      store: {
        getInstallation: async () => undefined,
        listForgeInstallations: async () => [],
        getForgeInstallation: async () => undefined,
        putForgeInstallation: async () => undefined,
        getDatacenterInstance: async (id) => instances.get(id),
      },
      budget,
      tuning: { fetch },
    });
    const host = await hosts.forTenant('datacenter:inst-1');
    expect(await host.getRepository(REPO)).toEqual({ mainBranch: 'main' });
    expect(authorizations).toEqual([`Bearer ${TOKEN}`]);
    expect(budget.remaining('datacenter:inst-1')).toBe(9);
    expect(budget.remaining('other')).toBe(10);

    await expect(hosts.forTenant('datacenter:gone')).rejects.toBeInstanceOf(TenantUnavailableError);
    // A Connect clientKey does not reach the Data Center kind.
    await expect(hosts.forTenant('inst-1')).rejects.toThrow(/installation inst-1 is not installed/);
  });

  it('a refused token fails with TenantCredentialsRejectedError (no token in it); an instance recorded token_revoked stops its next jobs before any call', async () => {
    let stored = record();
    const calls: string[] = [];
    const factory = datacenterCodeHosts({
      config: { encryptionKey: key },
      store: { getDatacenterInstance: async () => stored },
      budget: new CallBudget(),
      tuning: { fetch: (async (url: URL) => (calls.push(String(url)), new Response('{"errors":[{"message":"Authentication failed"}]}', { status: 401 }))) as unknown as typeof globalThis.fetch },
    });
    const host = await factory('datacenter:inst-1');
    const refused = await host.getRepository(REPO).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TenantCredentialsRejectedError);
    expect((refused as Error).message).toMatch(/refused the access token/);
    expect((refused as Error).message).not.toContain(TOKEN);
    // The job runner's outcome hook records it (src/datacenter/status.ts); from then on no call is made.
    stored = { ...stored, status: 'token_revoked', lastError: { message: (refused as Error).message, at: '2026-01-02T00:00:00.000Z' } };
    await expect(factory('datacenter:inst-1')).rejects.toThrow(/refused the access token/);
    expect(calls).toHaveLength(1);
  });
});
