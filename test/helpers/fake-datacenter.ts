import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for the Bitbucket Data Center REST endpoints that registration calls
 * (application-properties, repository reads, project and repository webhooks), with the
 * permission answers Data Center gives (401 for a bad token and for too few permissions).
 * The full Data Center of the simulator is the code host's; this one only answers what
 * registering an instance needs, and records every request to check what was sent.
 */

export interface FakeWebhook {
  id: number;
  name: string;
  url: string;
  active: boolean;
  events: string[];
  configuration: { secret?: string };
}

export interface FakeDatacenterOptions {
  token: string;
  /** Readable repositories, `PROJECT/slug`. */
  repos?: string[];
  /** Scopes the token may manage webhooks of: `PROJECT` or `PROJECT/slug`. */
  admin?: string[];
  /** Served under this context path (`/bitbucket`), as Data Center often is. */
  contextPath?: string;
}

export interface FakeDatacenter {
  baseUrl: string;
  /** Webhooks by scope (`PROJECT` or `PROJECT/slug`). */
  webhooks: Map<string, FakeWebhook[]>;
  requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  options: FakeDatacenterOptions;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => resolve(text));
  });
}

export async function startFakeDatacenter(options: FakeDatacenterOptions): Promise<FakeDatacenter> {
  const context = options.contextPath ?? '';
  const repos = options.repos ?? ['PRJ/my-repo'];
  const admin = new Set(options.admin ?? []);
  const webhooks = new Map<string, FakeWebhook[]>();
  const requests: FakeDatacenter['requests'] = [];
  let nextId = 1;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readAll(req);
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization, body });
    if (!url.pathname.startsWith(`${context}/rest/`)) return send(res, 404, { errors: [{ message: 'not a REST path' }] });
    const path = url.pathname.slice(context.length);
    const authorised = req.headers.authorization === `Bearer ${options.token}`;
    // Data Center answers 401 for a token it does not accept, even on public resources.
    if (req.headers.authorization !== undefined && !authorised) return send(res, 401, { errors: [{ message: 'Authentication failed. Please check your credentials and try again.' }] });
    if (path === '/rest/api/latest/application-properties') return send(res, 200, { version: '9.4.3', buildNumber: '9004003', displayName: 'Bitbucket' });
    if (!authorised) return send(res, 401, { errors: [{ message: 'You are not permitted to access this resource' }] });
    if (path === '/rest/api/latest/repos') {
      const values = repos.slice(0, Number(url.searchParams.get('limit') ?? 25)).map((r) => ({ slug: r.split('/')[1], project: { key: r.split('/')[0] } }));
      return send(res, 200, { values, size: values.length, isLastPage: true, start: 0, limit: 25 });
    }
    const m = /^\/rest\/api\/latest\/projects\/([^/]+)(?:\/repos\/([^/]+))?(\/repos|\/webhooks(?:\/(\d+))?)?$/.exec(path);
    if (!m) return send(res, 404, { errors: [{ message: 'no such resource' }] });
    const [, project, repo, tail, hookId] = m;
    const scope = repo === undefined ? project! : `${project}/${repo}`;
    const exists = repo === undefined ? repos.some((r) => r.startsWith(`${project}/`)) : repos.includes(scope);
    if (!exists) return send(res, 404, { errors: [{ message: `${scope} does not exist` }] });
    if (tail === undefined || tail === '/repos') return send(res, 200, tail === '/repos' ? { values: [], size: 0, isLastPage: true } : { slug: repo, project: { key: project } });
    if (!admin.has(scope)) return send(res, 401, { errors: [{ message: 'You are not permitted to access this resource' }] });
    const list = webhooks.get(scope) ?? [];
    webhooks.set(scope, list);
    if (req.method === 'GET' && hookId === undefined) return send(res, 200, { values: list, size: list.length, isLastPage: true, start: 0, limit: 25 });
    if (req.method === 'POST' && hookId === undefined) {
      const hook = { ...(JSON.parse(body) as Omit<FakeWebhook, 'id'>), id: nextId++ };
      list.push(hook);
      return send(res, 201, hook);
    }
    const at = list.findIndex((h) => h.id === Number(hookId));
    if (at === -1) return send(res, 404, { errors: [{ message: 'no such webhook' }] });
    if (req.method === 'PUT') {
      list[at] = { ...(JSON.parse(body) as Omit<FakeWebhook, 'id'>), id: list[at]!.id };
      return send(res, 200, list[at]);
    }
    if (req.method === 'DELETE') {
      list.splice(at, 1);
      return send(res, 204);
    }
    return send(res, 405, { errors: [{ message: 'method not allowed' }] });
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${context}`,
    webhooks,
    requests,
    options,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
