import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { ApiError } from './api-errors.ts';
import { bearerCaller } from './api-origin.ts';
import type { Repository } from './model.ts';
import type { Site } from './site.ts';

/**
 * Git's smart HTTP protocol on the web origin, as Bitbucket serves clones at
 * `https://bitbucket.org/{workspace}/{repo}.git`: `GET info/refs?service=git-upload-pack` and
 * `POST git-upload-pack` (fetch and clone only; pushes are refused). Git itself answers,
 * `git http-backend` run as a CGI over the simulator's bare repository, so a client sees real
 * packs, shallow clones and protocol v2 negotiation.
 *
 * The caller must present an access token of an installation of the repository's workspace,
 * as `Authorization: Bearer <token>` or Basic `x-token-auth:<token>` (Bitbucket's two forms);
 * otherwise 401 with a Basic challenge, which is what makes git report "Authentication failed".
 */

const GIT_PATH = /^\/([^/]+)\/([^/]+?)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

export function gitSmartHttp(site: Site): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    const match = GIT_PATH.exec(req.path);
    if (!match) return next();
    const [, workspace = '', slug = '', service = ''] = match;
    if (service === 'git-receive-pack' || (service === 'info/refs' && req.query.service !== 'git-upload-pack')) {
      res.status(403).type('text').send('The simulator serves fetches and clones only\n');
      return undefined;
    }
    let repo: Repository;
    try {
      repo = authorised(site, req, workspace, slug);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 500;
      if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="Bitbucket.org HTTP"');
      res.status(status).type('text').send(`${(error as Error).message}\n`);
      return undefined;
    }
    site.gitRequests++;
    return runBackend(repo, service, req, res);
  });
  return router;
}

function authorised(site: Site, req: Request, workspace: string, slug: string): Repository {
  const header = req.get('authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  let token: string | undefined = bearer?.[1];
  if (basic) {
    const [user, ...rest] = Buffer.from(basic[1] as string, 'base64').toString('utf8').split(':');
    if (user === 'x-token-auth') token = rest.join(':');
  }
  if (!token) throw new ApiError(401, 'Authentication required: an access token as Bearer or x-token-auth');
  const caller = bearerCaller(site, token);
  const repo = [...site.repositories.values()].find((r) => r.workspace.slug === workspace.toLowerCase() && r.slug === slug.toLowerCase());
  // A token of another workspace learns nothing about this one: the same answer as a missing repository.
  if (!repo || !caller.installation?.installed || caller.installation.principal.uuid !== repo.workspace.uuid) throw new ApiError(404, 'Repository not found');
  return repo;
}

function runBackend(repo: Repository, service: string, req: Request, res: Response): void {
  const dir = repo.git.dir;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_PROJECT_ROOT: path.dirname(dir),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${path.basename(dir)}/${service}`,
    REQUEST_METHOD: req.method,
    QUERY_STRING: new URL(req.originalUrl, 'http://sim.invalid').search.slice(1),
    CONTENT_TYPE: req.get('content-type') ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    ...(req.get('content-encoding') ? { HTTP_CONTENT_ENCODING: req.get('content-encoding') } : {}),
    ...(req.get('git-protocol') ? { GIT_PROTOCOL: req.get('git-protocol') } : {}),
  };
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    headersDone = true;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') res.status(Number(value.split(' ')[0]) || 500);
      else if (name) res.setHeader(name, value);
    }
    res.write(head.subarray(end + 4));
  });
  child.stderr.resume();
  child.on('error', () => {
    if (!res.headersSent) res.status(500).type('text').send('git http-backend could not start\n');
    else res.end();
  });
  child.on('close', () => {
    if (!headersDone && !res.headersSent) res.status(500).type('text').send('git http-backend gave no answer\n');
    else res.end();
  });
  // A client that goes away stops git.
  res.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
}
