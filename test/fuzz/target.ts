import { readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.ts';
import { createHttpServer } from '../../src/http/server.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../../src/store/results-store.ts';
import { deriveSessionKey, installationInstance } from '../../src/ui/session-token.ts';
import { BITBUCKET_API_ORIGIN, BITBUCKET_ORIGIN, fakeTokenEndpoint, FIXTURES, installBody, newTenant, T0, testConfig, type Tenant } from '../helpers/connect-tenant.ts';
import { pullRequestScan, secretFinding } from '../helpers/scan-records.ts';

/**
 * The app under fuzzing: built as src/server.ts builds it (a real listening node:http server
 * in front of createApp), over a real store in a temp dir, with BASE_URL under a path prefix
 * so both the prefixed and the bare routes are reachable, one installed tenant with results
 * to show, and a Bitbucket that answers every lookup the pages make (so that what the fuzzer
 * meets is the app's handling of its input, not an outage).
 */

export const REPO_UUID = '{ba44938d-74fb-41e2-8f0e-fbbee86358e8}';
export const REPO_FULL_NAME = 'acme/hello';
export const PR_ID = 7;
export const COMMIT = 'c0ffee'.padEnd(40, '0');
export const FINGERPRINT = 'aws-access-key-id:src/config.js:0123456789abcdef';
export const USER = '{5d1f6a4b-0f0e-4c8e-9a39-0d5c3b6c9f11}';

export interface FuzzTarget {
  config: Config;
  basePath: string;
  port: number;
  /** Mutable: a fuzzed reinstall may change the secret, a fuzzed uninstall ends the installation. */
  tenant: Tenant;
  now: Date;
  sessionKey: Buffer;
  /** The installation a page session is bound to; changes with every install (see refresh). */
  instance: string;
  /** Reads the tenant's installation again after a fuzzed (re)install changed it. */
  refresh(): Promise<void>;
  /** Real Bitbucket webhook bodies to mutate, with their event keys. */
  webhooks: { eventKey: string; payload: unknown }[];
  /** Lines the app logged at error level or above. */
  errorLogs(): string[];
  send(req: FuzzRequest): Promise<FuzzResponse>;
  /** Bytes written to the socket as they are, for requests no HTTP client would send; `halfClose` then signals the end of input. */
  sendRaw(bytes: Buffer, halfClose: boolean): Promise<FuzzResponse>;
  /** Installs a new tenant (at the start, and after a fuzzed uninstall), as Bitbucket's first install does. */
  reinstall(): Promise<void>;
  close(): Promise<void>;
}

export interface FuzzRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

export type FuzzResponse = { ok: true; status: number; headers: IncomingHttpHeaders; body: Buffer } | { ok: false; error: string };

/** A request the server has not answered in this long is a hang, reported as a failure. */
const ANSWER_TIMEOUT_MS = 30_000;

const WEBHOOK_FIXTURES: readonly [string, string][] = [
  ['repo:push', 'repo-push/froggit-go--pushpayload.json'],
  ['repo:push', 'repo-push/jenkins-branch-source--multipleChangesPayload.json'],
  ['pullrequest:created', 'pullrequest-created/froggit-go.json'],
  ['pullrequest:created', 'pullrequest-created/jenkins-branch-source--createPayloadFork.json'],
  ['pullrequest:fulfilled', 'pullrequest-fulfilled/froggit-go.json'],
  ['pullrequest:rejected', 'pullrequest-rejected/froggit-go.json'],
];

export async function startFuzzTarget(): Promise<FuzzTarget> {
  const config = testConfig({ baseUrl: 'https://gatehouse.example/gh', logLevel: 'warn' });
  const store = new LowdbStore({ dataDir: config.dataDir });
  await store.open();
  const results = new JournalResultsStore({ dataDir: config.dataDir });
  await results.open();
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line && (JSON.parse(line) as { level: number }).level >= 50) errors.push(line);
      done();
    },
  });
  const app = createApp({ config, store, results, logger: createLogger('warn', sink), now: () => T0, clientTuning: { fetch: fakeBitbucket, maxRetries: 0 } });
  const server: Server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  const target: FuzzTarget = {
    config,
    basePath: '/gh',
    port,
    tenant: newTenant(),
    now: T0,
    sessionKey: deriveSessionKey(config.encryptionKey),
    instance: '',
    async refresh() {
      const installation = await store.getInstallation(target.tenant.clientKey);
      target.instance = installation ? installationInstance(installation) : '';
    },
    webhooks: WEBHOOK_FIXTURES.map(([eventKey, file]) => {
      const value = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as { headers?: unknown; payload?: unknown };
      return { eventKey, payload: value.headers && value.payload ? value.payload : value };
    }),
    errorLogs: () => errors,
    send: (req) => send(port, agent, req),
    sendRaw: (bytes, halfClose) => sendRaw(port, bytes, halfClose),
    async reinstall() {
      // A new one each time: a fuzzed signed reinstall may have left a secret Bitbucket never issued.
      target.tenant = newTenant();
      const body = Buffer.from(JSON.stringify(installBody(target.tenant)));
      const res = await send(port, agent, { method: 'POST', path: '/gh/connect/lifecycle/installed', headers: { 'content-type': 'application/json' }, body });
      if (!res.ok || res.status !== 204) throw new Error(`install failed: ${JSON.stringify(res.ok ? [res.status, res.body.toString()] : res.error)}`);
      await seedResults(results, target.tenant.clientKey);
      await target.refresh();
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await results.close();
      await store.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
  await target.reinstall();
  return target;
}

/** What the pages show: a pull request with a finding and a triage mark, and a main branch with an SBOM. */
async function seedResults(results: JournalResultsStore, clientKey: string): Promise<void> {
  const at = T0.toISOString();
  const finding = secretFinding({ fingerprint: FINGERPRINT });
  await results.putPullRequest({ clientKey, repoUuid: REPO_UUID, repoFullName: REPO_FULL_NAME, prId: PR_ID, state: 'OPEN', sourceBranch: 'feature', destinationBranch: 'main', publishedCommit: COMMIT, commentId: null, lastResult: 'FAILED', mergeCommit: null, updatedAt: at });
  await results.putScan(pullRequestScan([finding], { clientKey, repoUuid: REPO_UUID, commit: COMMIT, prId: PR_ID, createdAt: at }));
  await results.putScan(pullRequestScan([finding], { clientKey, repoUuid: REPO_UUID, commit: COMMIT, kind: 'push', prId: null, createdAt: at }));
  await results.putTriage({ clientKey, repoUuid: REPO_UUID, fingerprint: FINGERPRINT, status: 'ignored', by: USER, at, reason: 'test key' });
  await results.putInventory({ clientKey, repoUuid: REPO_UUID, repoFullName: REPO_FULL_NAME, branch: 'main', environment: 'production', commit: COMMIT, files: { 'package-lock.json': 'a'.repeat(64) }, packages: [], sbom: '{"bomFormat":"CycloneDX","specVersion":"1.6"}', updatedAt: at });
}

/** Bitbucket as the app uses it: the token endpoint, the repository (main branch `main`), and owner/write permission for anyone. */
const fakeBitbucket: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  // The JWT bearer grant that proves an unsigned install (it succeeds for secrets newTenant() issued).
  if (url.origin === BITBUCKET_ORIGIN) return fakeTokenEndpoint(input, init);
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (url.origin !== BITBUCKET_API_ORIGIN || parts[0] !== '2.0') return json(404, { type: 'error', error: { message: 'Not found' } });
  if (parts[1] === 'repositories' && parts.length === 4) return json(200, { type: 'repository', uuid: REPO_UUID, full_name: `${parts[2]}/${parts[3]}`, mainbranch: { type: 'branch', name: 'main' } });
  if (parts[1] === 'workspaces' && parts[3] === 'permissions') {
    const permission = parts[4] === 'repositories' ? 'write' : 'owner';
    return json(200, { pagelen: 1, values: [{ permission, user: { uuid: USER, display_name: 'Ada Lovelace' } }] });
  }
  return json(404, { type: 'error', error: { message: 'Not found' } });
};

function send(port: number, agent: Agent, req: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: FuzzResponse) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    let outgoing;
    try {
      outgoing = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent, timeout: ANSWER_TIMEOUT_MS });
    } catch (error) {
      // The client itself refused (an invalid header for Node's client): not a server finding.
      done({ ok: false, error: `client refused: ${(error as Error).message}` });
      return;
    }
    outgoing.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => done({ ok: false, error: `response: ${e.message}` }));
    });
    outgoing.on('timeout', () => {
      outgoing.destroy();
      done({ ok: false, error: `no answer within ${ANSWER_TIMEOUT_MS} ms` });
    });
    outgoing.on('error', (e) => done({ ok: false, error: `request: ${e.message}` }));
    outgoing.end(req.body);
  });
}

/**
 * The first answer to bytes written to the socket as they are. Node's server drops a request
 * whose sender half-closes before the answer is written, so a whole request keeps its side open.
 */
export function sendRaw(port: number, bytes: Buffer, halfClose: boolean): Promise<FuzzResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // Errors after an answer (a reset once the server closed) do not matter; no answer does.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks)));
    });
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** The first response on a raw connection: status line, headers, and its body (by length or chunks). */
export function parseRawResponse(raw: Buffer): FuzzResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return { ok: false, error: raw.length === 0 ? 'connection closed without an answer' : `no complete answer: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}` };
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) return { ok: false, error: `not an HTTP answer: ${JSON.stringify(statusLine)}` };
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  const length = Number(headers['content-length']);
  if (Number.isInteger(length)) body = body.subarray(0, length);
  else if (/chunked/i.test(String(headers['transfer-encoding']))) body = dechunk(body);
  return { ok: true, status: Number(status[1]), headers, body };
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
