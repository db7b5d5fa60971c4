import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Diagnostics } from '../core/diagnostics/view.ts';
import { requireAdminToken } from '../http/admin-auth.ts';
import { HttpError, parseRequest } from '../http/errors.ts';
import { callerOf } from '../ui/api-auth.ts';
import { requireWorkspaceAdmin, type AdminCheckDeps } from './coverage-api.ts';

/**
 * Integration health under /api (CONTRACT.md: GET /api/diagnostics) for the caller's
 * installation, and the same for every installation on the operator API. Reading it and
 * retrying a dead job take a workspace admin (asked of Bitbucket for a page session), an API
 * token an admin created, or a Connect JWT, as changing coverage does.
 */
export const DIAGNOSTICS_API_PATHS = {
  diagnostics: '/api/diagnostics',
  retry: '/api/diagnostics/dead-jobs/:id/retry',
  operator: '/admin/diagnostics',
} as const;

export interface DiagnosticsApiDeps extends AdminCheckDeps {
  diagnostics: Diagnostics;
  onJobQueued?: () => void;
}

const jobId = z.string().regex(/^[0-9A-Za-z:._-]{1,200}$/, 'a job id');

export function addDiagnosticsApi(router: Router, requireCaller: RequestHandler, deps: DiagnosticsApiDeps): void {
  const admin = requireWorkspaceAdmin(deps, 'Only workspace admins can see and act on Gatehouse diagnostics');

  router.get(DIAGNOSTICS_API_PATHS.diagnostics, requireCaller, async (_req, res) => {
    const caller = callerOf(res);
    await admin(caller, false);
    res.json(await deps.diagnostics.forInstallation(caller.clientKey));
  });

  router.post(DIAGNOSTICS_API_PATHS.retry, requireCaller, async (req, res) => {
    const caller = callerOf(res);
    const id = parseRequest(jobId, req.params.id);
    await admin(caller, true);
    const outcome = await deps.diagnostics.retryDeadJob(caller.clientKey, id, caller.name);
    if (outcome === 'not_found') throw new HttpError(404, 'no_such_job', 'No job with that id in this workspace');
    if (outcome === 'not_dead') throw new HttpError(409, 'not_dead', 'That job is not dead (it was retried already, or is running)');
    deps.onJobQueued?.();
    res.json({ id, status: 'queued' });
  });
}

/** GET /admin/diagnostics (ADMIN_TOKEN): every installation's counters, queue and the OSV database's age. */
export function diagnosticsAdminRouter(deps: { adminToken: string; diagnostics: Diagnostics }): Router {
  const router = Router();
  router.get(DIAGNOSTICS_API_PATHS.operator, requireAdminToken(deps.adminToken), async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.diagnostics.forOperator());
  });
  return router;
}
