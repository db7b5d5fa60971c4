import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { applyPolicyPatch, DEFAULT_POLICY, policyOf, policyPatchSchema } from '../core/policy.ts';
import { queueRepublish } from '../core/workflows/republish.ts';
import { HttpError, parseRequest } from '../http/errors.ts';
import type { ResultsStore } from '../store/results-types.ts';
import { callerOf, requireApiCaller } from '../ui/api-auth.ts';
import type { PermissionChecker } from '../ui/permissions.ts';
import type { Logger } from '../log.ts';
import type { AuthDeps } from './auth.ts';
import { addCoverageApi } from './coverage-api.ts';
import { addInventoryApi } from './inventory-api.ts';
import { addDiagnosticsApi } from './diagnostics-api.ts';
import type { Diagnostics } from '../core/diagnostics/view.ts';

/**
 * The JSON API: the installation's policy, its triage marks, coverage and API tokens. Every
 * route authenticates its caller (a Connect JWT with a qsh for the request, a Gatehouse page
 * session, or an API token; see ui/api-auth.ts) and reads and writes that installation only.
 */
export const API_PATHS = {
  policy: '/api/policy',
  triage: '/api/triage',
} as const;

const repoUuid = z.string().regex(/^\{[0-9A-Za-z-]{1,64}\}$/, 'a repository UUID in braces');
const fingerprint = z.string().regex(/^[0-9A-Za-z:._-]{8,200}$/, 'a finding fingerprint');

const triageBody = z
  .object({
    repoUuid,
    fingerprint,
    status: z.enum(['ignored', 'false_positive']),
    reason: z.string().trim().min(1, 'say why').max(1_000),
  })
  .strict();

export interface ApiDeps extends AuthDeps {
  results: ResultsStore;
  /** Asks Bitbucket whether a page's user is a workspace admin (coverage control, API tokens). */
  permissions: PermissionChecker;
  /** Called after jobs were queued (re-publication after a triage change). */
  onJobQueued?: () => void;
  /** Where a streamed export that fails midway is reported. */
  logger?: Logger;
  /** Integration health (GET /api/diagnostics); without it the route is not served. */
  diagnostics?: Diagnostics;
}

export function apiRouter(deps: ApiDeps): Router {
  const router = Router();
  const signed = requireApiCaller(deps);
  const json = express.json({ limit: '64kb', type: () => true });

  router.get(API_PATHS.policy, signed, async (_req, res) => {
    const { clientKey } = callerOf(res);
    const stored = await deps.results.getPolicy(clientKey);
    res.json({ policy: stored ?? DEFAULT_POLICY, isDefault: stored === undefined });
  });

  router.put(API_PATHS.policy, signed, json, async (req, res) => {
    const { clientKey } = callerOf(res);
    const patch = parseRequest(policyPatchSchema, req.body);
    const policy = applyPolicyPatch(await policyOf(deps.results, clientKey), patch);
    await deps.results.putPolicy(clientKey, policy);
    res.json({ policy, isDefault: false });
  });

  router.get(API_PATHS.triage, signed, async (req, res) => {
    const { clientKey } = callerOf(res);
    const repo = queryParam(req, 'repoUuid');
    const marks = await deps.results.listTriage(clientKey, repo === undefined ? undefined : parseRequest(repoUuid, repo));
    res.json({ marks: marks.map(({ clientKey: _own, ...mark }) => mark) });
  });

  router.put(API_PATHS.triage, signed, json, async (req, res) => {
    const { clientKey, name } = callerOf(res);
    const body = parseRequest(triageBody, req.body);
    const mark = { clientKey, ...body, by: name, at: deps.now().toISOString() };
    await deps.results.putTriage(mark);
    const republishing = await republish(clientKey, body.repoUuid);
    const { clientKey: _own, ...shown } = mark;
    res.json({ mark: shown, republishing });
  });

  router.delete(API_PATHS.triage, signed, async (req, res) => {
    const { clientKey } = callerOf(res);
    const repo = parseRequest(repoUuid, queryParam(req, 'repoUuid'));
    const print = parseRequest(fingerprint, queryParam(req, 'fingerprint'));
    const removed = await deps.results.clearTriage(clientKey, repo, print);
    if (!removed) throw new HttpError(404, 'no_such_mark', 'No triage mark for that finding');
    await republish(clientKey, repo);
    res.status(204).end();
  });

  addCoverageApi(router, signed, deps);
  addInventoryApi(router, signed, deps);
  if (deps.diagnostics) addDiagnosticsApi(router, signed, { ...deps, diagnostics: deps.diagnostics });

  /** Open pull requests show a changed mark at once; answers how many will be published again. */
  async function republish(clientKey: string, repoUuid: string): Promise<number> {
    const queued = await queueRepublish(deps.store, deps.results, clientKey, repoUuid);
    if (queued > 0) deps.onJobQueued?.();
    return queued;
  }

  return router;
}

function queryParam(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

