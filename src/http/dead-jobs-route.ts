import { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../store/types.ts';
import { requireAdminToken } from './admin-auth.ts';
import { parseRequest } from './errors.ts';

/**
 * GET /admin/jobs/dead?limit=N&clientKey=K (operator API, ADMIN_TOKEN): the jobs that gave
 * up, most recently dead first, with why (lastError), never their payloads (a webhook body
 * is a tenant's data, not an operator's). Reading them is what lets the store drop them after
 * the normal retention instead of keeping them 30 days (Store.readDeadJobs).
 */
export const ADMIN_DEAD_JOBS_PATH = '/admin/jobs/dead';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

const query = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
    clientKey: z.string().min(1).max(500).optional(),
  })
  .strict();

export function deadJobsAdminRouter(deps: { adminToken: string; store: Pick<Store, 'readDeadJobs'> }): Router {
  const router = Router();
  router.get(ADMIN_DEAD_JOBS_PATH, requireAdminToken(deps.adminToken), async (req, res) => {
    const { limit, clientKey } = parseRequest(query, req.query);
    const jobs = await deps.store.readDeadJobs(clientKey === undefined ? { limit } : { limit, clientKey });
    res.json({
      jobs: jobs.map((j) => ({
        id: j.id,
        clientKey: j.clientKey,
        type: j.type,
        ...(j.group === undefined ? {} : { group: j.group }),
        attempts: j.attempts,
        lastError: j.lastError ?? null,
        createdAt: j.createdAt,
        diedAt: j.updatedAt,
        readAt: j.readAt ?? null,
      })),
    });
  });
  return router;
}
