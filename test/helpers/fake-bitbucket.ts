/**
 * A loopback stand-in for Bitbucket Cloud (api.bitbucket.org and, in a second instance, the
 * bitbucket.org token endpoint). It verifies the auth of every request the way Bitbucket does
 * (HS256 JWT with iss/sub/iat/exp and a qsh recomputed from the request as received, or a bearer
 * token it issued) and answers from scripted replies, so tests can play out 429s, 5xx, resets,
 * hangs, redirects and pagination. Requests that fail verification get 401 and are recorded in
 * `authFailures`, which tests assert to be empty.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createQueryStringHash, decodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';

export interface FakeCredentials {
  appKey: string;
  clientKey: string;
  sharedSecret: string;
}

export interface JwtClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  qsh: string;
}

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  auth: { kind: 'jwt'; claims: JwtClaims } | { kind: 'bearer'; token: string } | { kind: 'invalid'; reason: string };
}

export type Reply =
  | {
      status: number;
      json?: unknown;
      text?: string;
      headers?: Record<string, string>;
      chunks?: string[];
      /** With `chunks`: send them, then never finish the body. */
      stall?: boolean;
    }
  /** Destroys the socket without answering: a network error for the client. */
  | { destroy: true }
  /** Never answers: the client's timeout must fire. */
  | { hang: true };

export type Responder = Reply | ((request: RecordedRequest) => Reply);

interface Route {
  method: string;
  path: string;
  replies: Responder[];
}

export class FakeBitbucket {
  readonly requests: RecordedRequest[] = [];
  readonly authFailures: string[] = [];
  /** Bearer tokens this fake accepts. */
  readonly validBearerTokens = new Set<string>();
  private readonly routes: Route[] = [];

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly credentials: FakeCredentials,
    private readonly now: () => number,
  ) {}

  static async start(credentials: FakeCredentials, now: () => number): Promise<FakeBitbucket> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeBitbucket(server, `http://127.0.0.1:${port}`, credentials, now);
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /**
   * Scripts the answers to `method path` (path without query). The n-th request to that route
   * gets the n-th reply; the last one repeats.
   */
  route(method: string, path: string, ...replies: Responder[]): this {
    this.routes.push({ method, path, replies });
    return this;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => pathOf(request.url) === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const recorded: RecordedRequest = {
      method,
      url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      auth: this.verify(method, url, req.headers.authorization),
    };
    this.requests.push(recorded);
    if (recorded.auth.kind === 'invalid') {
      this.authFailures.push(`${method} ${url}: ${recorded.auth.reason}`);
      return send(res, { status: 401, json: { type: 'error', error: { message: recorded.auth.reason } } });
    }
    const path = pathOf(url);
    const route = this.routes.find((candidate) => candidate.method === method && candidate.path === path);
    if (!route) return send(res, { status: 404, json: { type: 'error', error: { message: `no route for ${method} ${path}` } } });
    const index = this.requests.filter((r) => r.method === method && pathOf(r.url) === path).length - 1;
    const responder = route.replies[Math.min(index, route.replies.length - 1)]!;
    const reply = typeof responder === 'function' ? responder(recorded) : responder;
    if ('destroy' in reply) return void req.socket.destroy();
    if ('hang' in reply) return;
    send(res, reply);
  }

  /** What Bitbucket checks on an incoming API call, recomputed independently of the client. */
  private verify(method: string, url: string, authorization: string | undefined): RecordedRequest['auth'] {
    if (!authorization) return { kind: 'invalid', reason: 'no Authorization header' };
    if (authorization.startsWith('Bearer ')) {
      const token = authorization.slice('Bearer '.length);
      return this.validBearerTokens.has(token) ? { kind: 'bearer', token } : { kind: 'invalid', reason: 'unknown bearer token' };
    }
    if (!authorization.startsWith('JWT ')) return { kind: 'invalid', reason: 'unsupported Authorization scheme' };
    const token = authorization.slice('JWT '.length);
    let claims: JwtClaims;
    try {
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown };
      if (header.alg !== 'HS256') return { kind: 'invalid', reason: `alg ${String(header.alg)} is not HS256` };
      claims = decodeSymmetric(token, this.credentials.sharedSecret, SymmetricAlgorithm.HS256) as JwtClaims;
    } catch {
      return { kind: 'invalid', reason: 'signature does not verify' };
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    // fromMethodAndUrl parses with node's legacy url parser: a different code path from the
    // client's WHATWG URL handling, so agreement here is a real cross-check.
    const expectedQsh = createQueryStringHash(fromMethodAndUrl(method, url), false, '');
    if (claims.iss !== this.credentials.appKey) return { kind: 'invalid', reason: `iss ${claims.iss} is not the app key` };
    if (claims.sub !== this.credentials.clientKey) return { kind: 'invalid', reason: `sub ${claims.sub} is not the clientKey` };
    if (!(claims.iat <= nowSeconds)) return { kind: 'invalid', reason: 'iat in the future' };
    if (!(claims.exp > nowSeconds)) return { kind: 'invalid', reason: 'expired' };
    if (claims.exp - claims.iat > 180) return { kind: 'invalid', reason: 'exp more than 3 minutes after iat' };
    if (claims.qsh !== expectedQsh) return { kind: 'invalid', reason: `qsh does not match ${method} ${url}` };
    return { kind: 'jwt', claims };
  }
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? url;
}

function send(res: ServerResponse, reply: Extract<Reply, { status: number }>): void {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.json !== undefined) headers['content-type'] = 'application/json';
  res.writeHead(reply.status, headers);
  if (reply.chunks) {
    for (const chunk of reply.chunks) res.write(chunk);
    if (!reply.stall) res.end();
  } else if (reply.json !== undefined) res.end(JSON.stringify(reply.json));
  else res.end(reply.text ?? '');
}
