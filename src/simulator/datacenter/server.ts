import express, { type Express, type Request, type Response } from 'express';
import type { OpenApiChecker } from '../openapi.ts';
import type { FaultInjector } from '../faults.ts';
import { PERMISSIONS, type DcToken } from './model.ts';
import { OPERATIONS, run, type DcState } from './rest.ts';
import { errorBody } from './shapes.ts';

/**
 * The local Data Center's HTTP side: everything under `/rest` as Data Center serves it. Each
 * request is matched to its OpenAPI template, its bearer token checked (401 unknown or revoked,
 * 403 too weak for the operation), the request checked against the description (a violation
 * is recorded and answered 400, as a request real Data Center would refuse), then answered; a
 * JSON answer is checked against the description too, so the simulator cannot drift from it.
 */

export interface DcViolation {
  method: string;
  url: string;
  reason: string;
  /** `request`: the app sent what Data Center would refuse; `answer`: the simulator answered off the description. */
  side: 'request' | 'answer';
}

export interface DcOriginDeps {
  state: DcState;
  checker: OpenApiChecker;
  faults: FaultInjector;
  tokens: Map<string, DcToken>;
  calls: { method: string; path: string; status: number; at: number }[];
  violations: DcViolation[];
}

const REST_BODY_LIMIT = '20mb';

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer (\S+)$/.exec(header) : null;
  return m?.[1];
}

export function createDatacenterOrigin(deps: DcOriginDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () => deps.calls.push({ method: req.method, path: req.originalUrl, status: res.statusCode, at: Date.now() }));
    next();
  });
  app.use(deps.faults.middleware());
  app.use('/rest', express.raw({ type: () => true, limit: REST_BODY_LIMIT }), (req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.status(500).json(errorBody(`simulator failure: ${error instanceof Error ? error.message : String(error)}`));
    });
  });
  app.use((req, res) => {
    res.status(404).json(errorBody(`No page at ${req.method} ${req.path} (the local Data Center serves /rest only)`));
  });
  return app;
}

async function handle(deps: DcOriginDeps, req: Request, res: Response): Promise<void> {
  const url = new URL(req.originalUrl, 'http://local');
  // Below /rest, whatever context path the instance is served under (req.baseUrl ends with /rest).
  const rawPath = url.pathname.slice(req.baseUrl.length);
  const refuse = (status: number, message: string, violation?: string) => {
    if (violation) deps.violations.push({ method: req.method, url: req.originalUrl, reason: violation, side: 'request' });
    res.status(status).json(errorBody(message));
  };

  const { match, reason } = deps.checker.match(req.method, rawPath);
  if (!match) return refuse(404, reason ?? 'no such resource', reason);

  const token = bearer(req);
  const held = token === undefined ? undefined : deps.tokens.get(token);
  if (!held || held.revoked) {
    return refuse(401, token === undefined ? 'Authentication failed. Please check your credentials and try again.' : 'Authentication failed. The access token is revoked, expired or unknown.');
  }

  const operation = OPERATIONS[`${req.method.toUpperCase()} ${match.template}`];
  if (!operation) return refuse(501, `The local Data Center does not simulate ${req.method} ${match.template}`, `${req.method} ${match.template} is valid but not simulated: the app calls something the tests never exercised`);
  if (operation.permission !== null && PERMISSIONS.indexOf(held.permission) < PERMISSIONS.indexOf(operation.permission)) {
    return refuse(403, `You are not permitted to access this resource: ${operation.permission} is required and the token has ${held.permission}.`);
  }

  const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  let body: unknown;
  if (bytes.length > 0) {
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      return refuse(400, 'The request body is not valid JSON.', 'request body is not valid JSON');
    }
  }
  const checked = deps.checker.check({ method: req.method, rawPath, query: url.searchParams, body, contentType: req.headers['content-type'] });
  if (!checked.ok) return refuse(400, checked.reason, checked.reason);

  const answer = await run(operation, deps.state, { params: match.params, query: url.searchParams, body, projects: held.projects });
  if (answer.json !== undefined) {
    const problem = deps.checker.checkResponse(match, answer.status, 'application/json', answer.json);
    if (problem) deps.violations.push({ method: req.method, url: req.originalUrl, reason: problem, side: 'answer' });
    res.status(answer.status).json(answer.json);
  } else if (answer.text !== undefined) {
    res.status(answer.status).type('text/plain; charset=UTF-8').send(answer.text);
  } else {
    res.status(answer.status).end();
  }
}
