// A Bitbucket Cloud for benches that measure the app, not Bitbucket: everything in memory,
// every answer prepared without git or disk and sent after a fixed latency (a timer, no CPU),
// so that a pull-request job's cost on this side is a few JSON answers. It answers exactly the
// calls a Connect installation's pull-request scan makes (read off the simulator's call log for
// one job): the install's JWT bearer grant, the workspace's repository listing (empty: coverage
// discovery finds nothing to backfill), the pull request, its two commits, the configuration
// files (none: 404), the diffstat and diff (one small file with one AWS key, the same text for
// every pull request, under each pull request's own commit hashes), the report PUT (and DELETE),
// annotations, build statuses, and the pull request's comments (list, POST, PUT). Anything
// else answers 404 and is counted as unexpected.
//
// Each kind of call has its first request checked against the Cloud OpenAPI description, as
// the simulator checks all of them (src/simulator/openapi.ts); problems are listed in
// `violations`. The stored description keeps no response schemas, so the answers are judged
// by the app: the bench's first pull request must end 'done' with its report and comment.
// Publications are counted per pull request so exactly-once can be told.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeSymmetric, SymmetricAlgorithm } from 'atlassian-jwt';
import { OpenApiChecker } from '../src/simulator/openapi.ts';

const WORKSPACE = 'acme';
const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const ADDED = ['// Deploys the service.', `const accessKeyId = "${KEY}";`, 'export function deploy(client) {', '  return client.upload({ accessKeyId });', '}'];
const FILE = 'src/deploy.js';
const DIFF = [
  `diff --git a/${FILE} b/${FILE}`,
  'new file mode 100644',
  'index 0000000..5d1c0a2',
  '--- /dev/null',
  `+++ b/${FILE}`,
  `@@ -0,0 +1,${ADDED.length} @@`,
  ...ADDED.map((line) => `+${line}`),
  '',
].join('\n');

export interface FastPullRequest {
  repo: string;
  id: number;
  head: string;
  base: string;
  /** What was published for it, as the app's calls left it. */
  reportPuts: number;
  commentPosts: number;
  /** Comments held: a job rerun after a kill must find and edit its comment, not add one. */
  comments: { id: number; raw: string }[];
  /** Report ids held on the head commit (a PUT of the same id replaces). */
  reports: Set<string>;
}

export interface FastBitbucket {
  origin: string;
  clientKey: string;
  sharedSecret: string;
  /** The Connect `installed` lifecycle body for this workspace (sent unsigned, as a first install is). */
  installBody: object;
  /** Registers an open pull request (fresh commit hashes) and returns its `pullrequest:created` webhook body. */
  openPullRequest(repo: string, id: number): { pr: FastPullRequest; body: object };
  pullRequest(repo: string, id: number): FastPullRequest | undefined;
  /** API calls answered so far, and those that were not one of the calls above. */
  calls: () => { answered: number; unexpected: string[] };
  violations: string[];
  close(): Promise<void>;
}

const hex40 = () => randomBytes(20).toString('hex');
const short = (hash: string) => hash.slice(0, 12);
const braced = () => `{${randomUUID()}}`;

export async function startFastBitbucket(options: { latencyMs: number; appKey?: string }): Promise<FastBitbucket> {
  const appKey = options.appKey ?? 'gatehouse';
  const clientKey = `ari:cloud:bitbucket::app/${braced()}/${appKey}`;
  const sharedSecret = randomBytes(32).toString('base64url');
  const workspaceUuid = braced();
  const repos = new Map<string, { uuid: string; base: string; prs: Map<number, FastPullRequest>; headIndex: Map<string, number> }>();
  const checker = OpenApiChecker.load();
  const checked = new Set<string>();
  const violations: string[] = [];
  const unexpected: string[] = [];
  let answered = 0;
  let commentIds = 0;
  let origin = '';

  const api = (path: string) => ({ href: `${origin}/2.0${path}` });
  const repository = (name: string) => {
    const r = repos.get(name)!;
    return { type: 'repository', uuid: r.uuid, full_name: name, name: name.split('/')[1]!, is_private: true, workspace: { type: 'workspace', slug: WORKSPACE, uuid: workspaceUuid }, links: { self: api(`/repositories/${name}`) } };
  };
  const commitRef = (repo: string, hash: string) => ({ type: 'commit', hash, links: { self: api(`/repositories/${repo}/commit/${hash}`) } });
  const account = { type: 'user', uuid: '{0a56ed36-3378-4dd4-beff-5afc28f2fe4b}', account_id: '557058:bench', display_name: 'Bench User', nickname: 'bench' };
  const pullRequestJson = (pr: FastPullRequest) => ({
    type: 'pullrequest',
    id: pr.id,
    title: 'Add the deploy key',
    description: '',
    state: 'OPEN',
    draft: false,
    author: account,
    source: { branch: { name: `leak-${pr.id}` }, commit: commitRef(pr.repo, short(pr.head)), repository: repository(pr.repo) },
    destination: { branch: { name: 'main' }, commit: commitRef(pr.repo, short(pr.base)), repository: repository(pr.repo) },
    merge_commit: null,
    close_source_branch: false,
    comment_count: pr.comments.length,
    task_count: 0,
    created_on: new Date().toISOString(),
    updated_on: new Date().toISOString(),
    links: { self: api(`/repositories/${pr.repo}/pullrequests/${pr.id}`), html: { href: `${origin}/${pr.repo}/pull-requests/${pr.id}` } },
  });
  const commentJson = (pr: FastPullRequest, c: { id: number; raw: string }) => ({
    type: 'pullrequest_comment',
    id: c.id,
    content: { type: 'rendered', raw: c.raw, markup: 'markdown', html: '' },
    user: account,
    deleted: false,
    created_on: new Date().toISOString(),
    updated_on: new Date().toISOString(),
    pullrequest: { type: 'pullrequest', id: pr.id, title: 'Add the deploy key', links: { self: api(`/repositories/${pr.repo}/pullrequests/${pr.id}`) } },
    links: { self: api(`/repositories/${pr.repo}/pullrequests/${pr.id}/comments/${c.id}`) },
  });
  const page = (values: unknown[]) => ({ pagelen: Math.max(values.length, 10), page: 1, size: values.length, values });

  /** The pull request whose head or base is `hash` (full or 12 characters) in `repo`, with the full hash. */
  const commitOf = (repo: string, hash: string): { pr?: FastPullRequest; full: string } | undefined => {
    const r = repos.get(repo);
    if (!r) return undefined;
    if (r.base.startsWith(hash) && hash.length >= 12) return { full: r.base };
    const pr = r.prs.get(r.headIndex.get(short(hash)) ?? -1);
    return pr && pr.head.startsWith(hash) ? { pr, full: pr.head } : undefined;
  };

  type Answer = { status: number; json?: unknown; text?: string };
  const notFound = (message: string): Answer => ({ status: 404, json: { type: 'error', error: { message } } });

  /** Routes one API call below /2.0/repositories/{ws}/{slug}; `kind` names the call for the OpenAPI check. */
  function route(method: string, repo: string, rest: string, body: unknown): { kind: string; answer: Answer } {
    const r = repos.get(repo);
    let m: RegExpExecArray | null;
    if (!r) return { kind: 'unknown repository', answer: notFound('Repository not found') };
    if (method === 'GET' && (m = /^\/pullrequests\/(\d+)$/.exec(rest))) {
      const pr = r.prs.get(Number(m[1]));
      return { kind: 'get pull request', answer: pr ? { status: 200, json: pullRequestJson(pr) } : notFound('Pull request not found') };
    }
    if ((m = /^\/pullrequests\/(\d+)\/comments(?:\/(\d+))?$/.exec(rest))) {
      const pr = r.prs.get(Number(m[1]));
      if (!pr) return { kind: 'comments', answer: notFound('Pull request not found') };
      const raw = (body as { content?: { raw?: string } } | undefined)?.content?.raw ?? '';
      if (method === 'GET' && !m[2]) return { kind: 'list comments', answer: { status: 200, json: page(pr.comments.map((c) => commentJson(pr, c))) } };
      if (method === 'POST' && !m[2]) {
        const comment = { id: ++commentIds, raw };
        pr.comments.push(comment);
        pr.commentPosts++;
        return { kind: 'post comment', answer: { status: 201, json: commentJson(pr, comment) } };
      }
      const comment = pr.comments.find((c) => String(c.id) === m![2]);
      if (method === 'PUT' && m[2]) {
        if (!comment) return { kind: 'put comment', answer: notFound('Comment not found') };
        comment.raw = raw;
        return { kind: 'put comment', answer: { status: 200, json: commentJson(pr, comment) } };
      }
    }
    if ((m = /^\/commit\/([0-9a-f]{7,40})(\/.*)?$/.exec(rest))) {
      const commit = commitOf(repo, m[1]!);
      const tail = m[2] ?? '';
      if (!commit) return { kind: `commit ${method}`, answer: notFound(`Commit not found: ${m[1]}`) };
      if (method === 'GET' && tail === '') {
        return { kind: 'get commit', answer: { status: 200, json: { ...commitRef(repo, commit.full), message: 'Add the deploy key\n', date: new Date().toISOString(), author: { type: 'author', raw: 'Bench <bench@example.com>' }, parents: [], repository: repository(repo) } } };
      }
      if (method === 'POST' && tail === '/statuses/build') {
        const now = new Date().toISOString();
        return { kind: 'post build status', answer: { status: 201, json: { ...(body as object), type: 'build', created_on: now, updated_on: now, commit: commitRef(repo, commit.full), repository: repository(repo) } } };
      }
      const report = /^\/reports\/([^/]+)(\/annotations)?$/.exec(tail);
      if (report && commit.pr) {
        const [, id, annotations] = report;
        if (method === 'PUT' && !annotations) {
          commit.pr.reports.add(id!);
          if (id === 'gatehouse-security') commit.pr.reportPuts++;
          const now = new Date().toISOString();
          return { kind: 'put report', answer: { status: 200, json: { ...(body as object), type: 'report', uuid: braced(), external_id: id, commit_hash: commit.full, created_on: now, updated_on: now } } };
        }
        if (method === 'DELETE' && !annotations) {
          return { kind: 'delete report', answer: commit.pr.reports.delete(id!) ? { status: 204 } : notFound('Report not found') };
        }
        if (method === 'POST' && annotations) {
          if (!commit.pr.reports.has(id!)) return { kind: 'post annotations', answer: notFound('Report not found') };
          const now = new Date().toISOString();
          const saved = (body as object[]).map((a) => ({ ...a, type: 'report_annotation', uuid: braced(), created_on: now, updated_on: now }));
          return { kind: 'post annotations', answer: { status: 200, json: saved } };
        }
      }
    }
    if (method === 'GET' && (m = /^\/src\/([0-9a-f]{7,40})\/(.+)$/.exec(rest))) {
      // The destination holds no configuration file: the app scans with its defaults.
      return { kind: 'get file', answer: commitOf(repo, m[1]!) ? notFound(`No such file or directory: ${decodeURIComponent(m[2]!)}`) : notFound('Commit not found') };
    }
    if (method === 'GET' && (m = /^\/(diff|diffstat)\/([0-9a-f]{7,40})\.\.([0-9a-f]{7,40})$/.exec(rest))) {
      const head = commitOf(repo, m[2]!);
      if (!head?.pr || !commitOf(repo, m[3]!)) return { kind: `get ${m[1]}`, answer: notFound('Commit not found') };
      if (m[1] === 'diff') return { kind: 'get diff', answer: { status: 200, text: DIFF } };
      const file = { type: 'commit_file', path: FILE, escaped_path: FILE, commit: commitRef(repo, head.full) };
      return { kind: 'get diffstat', answer: { status: 200, json: page([{ type: 'diffstat', status: 'added', lines_added: ADDED.length, lines_removed: 0, old: null, new: file }]) } };
    }
    unexpected.push(`${method} ${rest}`);
    return { kind: 'unexpected', answer: notFound('Not simulated by the fast fake') };
  }

  /** True when the request carries a JWT signed with the installation's secret for its clientKey. */
  function signed(req: IncomingMessage): boolean {
    const token = /^JWT\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return false;
    try {
      const claims = decodeSymmetric(token, sharedSecret, SymmetricAlgorithm.HS256) as { iss?: string; sub?: string };
      return claims.iss === appKey && claims.sub === clientKey;
    } catch {
      return false;
    }
  }

  /** The first request of each kind of call, against the OpenAPI description (the stored Cloud one keeps no responses to check answers by). */
  function check(kind: string, method: string, url: URL, body: unknown, req: IncomingMessage): void {
    if (checked.has(kind)) return;
    checked.add(kind);
    const result = checker.check({ method, rawPath: url.pathname.slice('/2.0'.length), query: url.searchParams, body, contentType: req.headers['content-type'] });
    if (!result.ok) violations.push(`${kind}: ${result.reason}`);
  }

  const send = (res: ServerResponse, answer: Answer) => {
    setTimeout(() => {
      if (answer.text !== undefined) res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.text);
      else if (answer.json !== undefined) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
      else res.writeHead(answer.status).end();
    }, options.latencyMs);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const method = req.method ?? 'GET';
      const text = Buffer.concat(chunks).toString('utf8');
      answered++;
      if (method === 'POST' && url.pathname === '/site/oauth2/access_token') {
        // The install's proof: the JWT bearer grant, signed with the secret the install carried.
        return send(res, signed(req) ? { status: 200, json: { access_token: randomBytes(16).toString('hex'), token_type: 'bearer', expires_in: 3600, scopes: 'pullrequest repository' } } : { status: 401, json: { error: 'invalid_grant' } });
      }
      if (!signed(req)) return send(res, { status: 401, json: { type: 'error', error: { message: 'JWT rejected' } } });
      if (method === 'GET' && url.pathname === `/2.0/repositories/${WORKSPACE}`) {
        // Coverage discovery's listing: empty, so that no backfill competes with the pull requests' jobs.
        check('list repositories', method, url, undefined, req);
        return send(res, { status: 200, json: page([]) });
      }
      const m = /^\/2\.0\/repositories\/([^/]+\/[^/]+)(\/.*)$/.exec(url.pathname);
      if (!m) {
        unexpected.push(`${method} ${url.pathname}`);
        return send(res, notFound('Resource not found'));
      }
      let body: unknown;
      if (text !== '') body = JSON.parse(text);
      const { kind, answer } = route(method, decodeURIComponent(m[1]!), m[2]!, body);
      check(kind, method, url, body, req);
      send(res, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    clientKey,
    sharedSecret,
    installBody: {
      key: appKey, clientKey, sharedSecret, baseUrl: origin, baseApiUrl: origin, productType: 'bitbucket', eventType: 'installed',
      principal: { type: 'team', uuid: workspaceUuid, username: WORKSPACE, slug: WORKSPACE, display_name: 'Acme' },
    },
    openPullRequest(repo, id) {
      let r = repos.get(repo);
      if (!r) {
        r = { uuid: braced(), base: hex40(), prs: new Map(), headIndex: new Map() };
        repos.set(repo, r);
      }
      const pr: FastPullRequest = { repo, id, head: hex40(), base: r.base, reportPuts: 0, commentPosts: 0, comments: [], reports: new Set() };
      r.prs.set(id, pr);
      r.headIndex.set(short(pr.head), id);
      return { pr, body: { event: 'pullrequest:created', data: { pullrequest: pullRequestJson(pr), repository: repository(repo), actor: account } } };
    },
    pullRequest: (repo, id) => repos.get(repo)?.prs.get(id),
    calls: () => ({ answered, unexpected }),
    violations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
