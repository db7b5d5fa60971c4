import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { controlBackfill, queueDiscovery, setAutoBackfill } from '../core/coverage/control.ts';
import { queueHistoryScan } from '../core/coverage/history-jobs.ts';
import { coverageView } from '../core/coverage/progress.ts';
import { HttpError, parseRequest } from '../http/errors.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Store } from '../store/types.ts';
import { callerOf, newApiToken, type ApiCaller } from '../ui/api-auth.ts';
import type { PermissionChecker } from '../ui/permissions.ts';

/**
 * Coverage state and control, and API tokens, under /api (CONTRACT.md "Coverage and
 * inventory"). Reading coverage is open to any caller of the installation; changing it takes
 * a workspace admin (asked of Bitbucket for a page session), an API token (an admin created
 * it) or a Connect JWT. Tokens are created, listed and revoked only from an admin's page
 * session: a token cannot mint more tokens.
 */
export const COVERAGE_API_PATHS = {
  coverage: '/api/coverage',
  tokens: '/api/tokens',
  token: '/api/tokens/:id',
} as const;

export interface CoverageApiDeps {
  store: Store;
  results: ResultsStore;
  permissions: PermissionChecker;
  now: () => Date;
  onJobQueued?: () => void;
}

const controlBody = z.union([
  z.object({ action: z.enum(['start', 'pause', 'resume', 'discover']) }).strict(),
  z.object({ action: z.literal('history'), repository: z.string().regex(/^\{[0-9a-f-]{36}\}$/i, 'a repository UUID in braces') }).strict(),
  z.object({ autoBackfill: z.boolean() }).strict(),
]);

const tokenBody = z.object({ name: z.string().trim().min(1, 'name the token').max(100).regex(/^[^\p{Cc}]+$/u, 'no control characters') }).strict();

const MAX_TOKENS = 50;

export type AdminCheckDeps = Pick<CoverageApiDeps, 'permissions'>;

/** Whether a page session's user is a workspace admin, asked of Bitbucket (`fresh` for a change). */
export function workspaceAdminCheck(deps: AdminCheckDeps): (caller: ApiCaller, fresh: boolean) => Promise<boolean> {
  return async (caller, fresh) => {
    const p = caller.installation.principal;
    const workspace = p?.slug ?? p?.username ?? p?.uuid;
    if (!caller.user || !workspace) return false;
    try {
      return await deps.permissions.isWorkspaceAdmin(caller.clientKey, workspace, caller.user, { fresh });
    } catch {
      throw new HttpError(503, 'bitbucket_unavailable', 'Bitbucket could not be asked whether you are a workspace admin; try again in a moment');
    }
  };
}

/**
 * Refuses a page session whose user is not a workspace admin. API tokens (an admin created
 * them) and Connect JWTs (Bitbucket's own calls) pass.
 */
export function requireWorkspaceAdmin(deps: AdminCheckDeps, message: string): (caller: ApiCaller, fresh: boolean) => Promise<void> {
  const isAdmin = workspaceAdminCheck(deps);
  return async (caller, fresh) => {
    if (caller.via === 'page' && !(await isAdmin(caller, fresh))) throw new HttpError(403, 'not_admin', message);
  };
}

export function addCoverageApi(router: Router, requireCaller: express.RequestHandler, deps: CoverageApiDeps): void {
  const json = express.json({ limit: '16kb', type: () => true });
  const isAdmin = workspaceAdminCheck(deps);
  const requireAdmin = requireWorkspaceAdmin(deps, 'Only workspace admins can start, pause or resume the backfill or ask for a history scan');

  async function requireAdminPage(caller: ApiCaller, fresh: boolean): Promise<void> {
    if (caller.via !== 'page') throw new HttpError(403, 'page_session_required', 'API tokens are managed from the Gatehouse settings page by a workspace admin');
    if (!(await isAdmin(caller, fresh))) throw new HttpError(403, 'not_admin', 'Only workspace admins can manage API tokens');
  }

  router.get(COVERAGE_API_PATHS.coverage, requireCaller, async (_req, res) => {
    res.json(await coverageView(deps.results, callerOf(res).clientKey, deps.now(), deps.store));
  });

  router.post(COVERAGE_API_PATHS.coverage, requireCaller, json, async (req, res) => {
    const caller = callerOf(res);
    const body = parseRequest(controlBody, req.body);
    await requireAdmin(caller, true);
    if ('autoBackfill' in body) await setAutoBackfill(deps.results, caller.clientKey, body.autoBackfill, deps.now());
    else if (body.action === 'discover') await queueDiscovery(deps.store, caller.clientKey, 'on demand');
    else if (body.action === 'history') {
      const repo = await deps.results.getRepository(caller.clientKey, body.repository);
      if (!repo || repo.deletedAt !== null) throw new HttpError(404, 'no_such_repository', 'No repository of this installation has that UUID (run a discovery first if it is new)');
      await queueHistoryScan(deps.store, caller.clientKey, repo.uuid);
    } else await controlBackfill(deps.results, deps.store, caller.clientKey, body.action, deps.now());
    deps.onJobQueued?.();
    res.json(await coverageView(deps.results, caller.clientKey, deps.now(), deps.store));
  });

  router.post(COVERAGE_API_PATHS.tokens, requireCaller, json, async (req, res) => {
    const caller = callerOf(res);
    const { name } = parseRequest(tokenBody, req.body);
    await requireAdminPage(caller, true);
    if ((await deps.results.listApiTokens(caller.clientKey)).length >= MAX_TOKENS) throw new HttpError(409, 'too_many_tokens', `An installation has at most ${MAX_TOKENS} API tokens; revoke one first`);
    const { token, hash } = newApiToken();
    const id = randomUUID();
    await deps.results.putApiToken({ id, clientKey: caller.clientKey, name, hash, createdBy: caller.user, createdAt: deps.now().toISOString(), lastUsedAt: null });
    // The only time the token is shown: it is stored as its hash.
    res.status(201).json({ id, name, token });
  });

  router.get(COVERAGE_API_PATHS.tokens, requireCaller, async (_req, res) => {
    const caller = callerOf(res);
    await requireAdminPage(caller, false);
    const tokens = await deps.results.listApiTokens(caller.clientKey);
    res.json({ tokens: tokens.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(({ id, name, createdBy, createdAt, lastUsedAt }) => ({ id, name, createdBy, createdAt, lastUsedAt })) });
  });

  router.delete(COVERAGE_API_PATHS.token, requireCaller, async (req, res) => {
    const caller = callerOf(res);
    await requireAdminPage(caller, true);
    const id = parseRequest(z.string().uuid('a token id'), req.params.id);
    if (!(await deps.results.deleteApiToken(caller.clientKey, id))) throw new HttpError(404, 'no_such_token', 'No API token with that id');
    res.status(204).end();
  });
}
