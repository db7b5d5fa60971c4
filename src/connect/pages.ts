import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import { allowFramingBy } from '../http/security.ts';
import type { Job } from '../store/types.ts';
import { authOf, AuthRequirement, requireAuth, type AuthDeps } from './auth.ts';

/**
 * The iframe pages Bitbucket embeds: two web panels and the settings page. Each load is
 * authenticated by the `jwt` query parameter (qsh over the panel URL). The pages show what
 * the store knows about the scan of the thing in view; richer result views live in src/ui.
 */
export const PAGE_PATHS = {
  repositoryPanel: '/connect/panels/repository',
  pullRequestPanel: '/connect/panels/pull-request',
  settings: '/connect/settings',
} as const;

const views = new Eta({
  views: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'views', 'connect'),
  autoEscape: true,
  cache: true,
});

const braceUuid = z.string().regex(/^\{[0-9A-Za-z-]{1,64}\}$/);
const repositoryQuery = z.object({ repoUuid: braceUuid, repoFullName: z.string().min(1).max(256) });
const pullRequestQuery = repositoryQuery.extend({
  prId: z.coerce.number().int().positive(),
  commit: z.string().regex(/^[0-9a-f]{7,40}$/).optional(),
  sourceBranch: z.string().max(256).optional(),
  destinationBranch: z.string().max(256).optional(),
});

function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new HttpError(400, 'invalid_panel_context', `The page URL is missing or has invalid context parameters (${fields})`);
  }
  return parsed.data;
}

export interface PageDeps extends AuthDeps {
  config: AuthDeps['config'] & Pick<Config, 'bitbucketBaseUrls'>;
}

function newest(jobs: Job[]): Job | undefined {
  return jobs.reduce<Job | undefined>((a, b) => (a && a.createdAt >= b.createdAt ? a : b), undefined);
}

export function addPageRoutes(router: Router, deps: PageDeps): void {
  const { store } = deps;

  /**
   * Until the tenant is known (and for the 401 answer when it is not), the page may be
   * framed by any allow-listed Bitbucket origin; once known, only by its own origin.
   */
  const framedPage: RequestHandler = (_req, res, next) => {
    res.locals.nonce = randomBytes(16).toString('base64');
    allowFramingBy(res, { frameAncestors: deps.config.bitbucketBaseUrls, scriptOrigins: [], nonce: res.locals.nonce as string });
    next();
  };
  const iframeAuth = requireAuth(AuthRequirement.IframeJwt, deps);

  function render(res: Response, title: string, template: string, data: object): void {
    const { installation } = authOf(res);
    const nonce = res.locals.nonce as string;
    const origin = new URL(installation.baseUrl).origin;
    allowFramingBy(res, { frameAncestors: [origin], scriptOrigins: [origin], nonce });
    const body = views.render(template, data);
    res
      .type('html')
      .send(views.render('layout', { title, nonce, body, allJsUrl: `${origin}/atlassian-connect/all.js` }));
  }

  router.get(PAGE_PATHS.repositoryPanel, framedPage, iframeAuth, async (req, res) => {
    const q = parseQuery(repositoryQuery, req.query);
    const jobs = await store.listJobs({ clientKey: authOf(res).clientKey });
    const job = newest(
      jobs.filter((j) => j.type === 'event:push' && (j.payload as { repository?: { uuid?: string } }).repository?.uuid === q.repoUuid),
    );
    render(res, 'Gatehouse', 'panel', {
      heading: `Gatehouse · ${q.repoFullName}`,
      job,
      commit: undefined,
      emptyMessage: 'No push to this repository has been scanned since Gatehouse was installed.',
    });
  });

  router.get(PAGE_PATHS.pullRequestPanel, framedPage, iframeAuth, async (req, res) => {
    const q = parseQuery(pullRequestQuery, req.query);
    const jobs = await store.listJobs({ clientKey: authOf(res).clientKey });
    const group = `pull_request:${q.repoUuid}:${q.prId}`;
    render(res, 'Gatehouse', 'panel', {
      heading: `Gatehouse · pull request #${q.prId}${q.sourceBranch && q.destinationBranch ? ` (${q.sourceBranch} → ${q.destinationBranch})` : ''}`,
      job: newest(jobs.filter((j) => j.group === group)),
      commit: q.commit,
      emptyMessage: 'This pull request has not been scanned yet.',
    });
  });

  router.get(PAGE_PATHS.settings, framedPage, iframeAuth, async (_req, res) => {
    const { installation, clientKey } = authOf(res);
    const jobs = await store.listJobs({ clientKey });
    const p = installation.principal;
    render(res, 'Gatehouse settings', 'settings', {
      workspace: p?.display_name ?? p?.slug ?? p?.username ?? clientKey,
      installedAt: installation.installedAt,
      baseUrl: installation.baseUrl,
      queued: jobs.filter((j) => j.status === 'queued' || j.status === 'running').length,
      dead: jobs.filter((j) => j.status === 'dead').length,
    });
  });

}
