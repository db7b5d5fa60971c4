import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { cloudLinks } from '../codehost/cloud/links.ts';
import type { Config } from '../config.ts';
import { authOf, AuthRequirement, requireAuth } from '../connect/auth.ts';
import { basePathOf } from '../connect/qsh.ts';
import { HttpError, parseRequest, sendError } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import type { Installation, Store } from '../store/types.ts';
import { allJsUrl, originOf, setFramedPagePolicy } from './csp.ts';
import type { UiDataSource } from './data-source.ts';
import { nameResolver, type PeopleLookup } from './people.ts';
import type { PermissionChecker } from './permissions.ts';
import { assetUrl, ASSET_FILES, render, type AssetName, type PageChrome, type PageKind } from './render.ts';
import type { RepositoryLookup } from './repositories.ts';
import { freshTokenOf, requireSession, sessionOf } from './session.ts';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_HEADER, verifySessionToken, type PageSession } from './session-token.ts';
import { mainBranchSbom } from './sbom.ts';
import { readSettingsForm } from './settings-form.ts';
import { markFinding, saveSettings, SETTINGS_REFUSED, TRIAGE_REFUSED, triageFields, unmarkFinding, untriageFields } from './actions.ts';
import { pullRequestPanelModel, type PullRequestContext, type PullRequestPanelModel } from './view-models/pull-request.ts';
import { MAX_FINDINGS_OFFSET, openFindingsPage, repositoryPanelModel } from './view-models/repository.ts';
import { coverageSection, tokenRows } from './view-models/coverage.ts';
import { settingsModel } from './view-models/settings.ts';
import { COVERAGE_API_PATHS } from '../connect/coverage-api.ts';
import { DIAGNOSTICS_API_PATHS } from '../connect/diagnostics-api.ts';
import type { DiagnosticsView } from '../core/diagnostics/view.ts';

/**
 * The pages Bitbucket frames (two web panels, the settings page) and the requests those
 * pages make afterwards. Page loads are authenticated by Bitbucket's JWT (IframeJwt, real
 * qsh); everything after by the page session token minted at load (session-token.ts).
 */
export const UI_PATHS = {
  pullRequestPanel: '/connect/panels/pull-request',
  repositoryPanel: '/connect/panels/repository',
  settings: '/connect/settings',
  pullRequestRegion: '/ui/panels/pull-request',
  triage: '/ui/triage',
  untriage: '/ui/triage/clear',
  saveSettings: '/ui/settings',
  sbom: '/ui/sbom',
  repositoryFindings: '/ui/panels/repository/findings',
  asset: '/ui/static/:name',
} as const;

export interface UiDeps {
  config: Pick<Config, 'baseUrl' | 'encryptionKey' | 'bitbucketBaseUrls'>;
  store: Store;
  data: UiDataSource;
  permissions: PermissionChecker;
  repositories: RepositoryLookup;
  people: PeopleLookup;
  now: () => Date;
  logger: Logger;
  /** The installation's integration health, for the settings page's Health section (admins). */
  health?: (clientKey: string) => Promise<DiagnosticsView>;
}

const braceUuid = z.string().regex(/^\{[0-9A-Za-z-]{1,64}\}$/);
const fullName = z.string().regex(/^[^/]{1,128}\/[^/]{1,128}$/, 'workspace/repository');
const commit = z.string().regex(/^[0-9a-f]{7,40}$/);
const branch = z.string().min(1).max(256);
/** Bitbucket fills a variable it does not know with '': treat as absent. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const repositoryQuery = z.object({ repoUuid: braceUuid, repoFullName: fullName });
const pullRequestFields = {
  prId: z.coerce.number().int().positive().max(2 ** 31),
  commit: optional(commit),
  sourceBranch: optional(branch),
  destinationBranch: optional(branch),
};
const pullRequestQuery = repositoryQuery.extend(pullRequestFields);
const pullRequestRegionQuery = z.object(pullRequestFields);
const triageBody = z.object({ ...pullRequestFields, ...triageFields });
const untriageBody = z.object({ ...pullRequestFields, ...untriageFields });
const findingsPageQuery = z.object({ offset: z.coerce.number().int().min(0).max(MAX_FINDINGS_OFFSET) });

const MAX_AUDIT_NAMES = 20;

export function addUiRoutes(router: Router, deps: UiDeps): void {
  const basePath = basePathOf(deps.config.baseUrl);
  const sessionKey = deriveSessionKey(deps.config.encryptionKey);
  const appOrigin = originOf(deps.config.baseUrl);
  const iframeAuth = requireAuth(AuthRequirement.IframeJwt, { config: deps.config, store: deps.store, now: deps.now });
  const session = requireSession({ sessionKey, store: deps.store, now: deps.now, appOrigin });
  const form = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 });

  function chrome(kind: PageKind, title: string, token: string, installation: Installation | null, refreshUrl = '', sbom = ''): PageChrome {
    const origin = installation ? originOf(installation.baseUrl) : '';
    return {
      kind,
      title,
      session: token,
      refreshUrl,
      allJsUrl: origin ? allJsUrl(origin) : '',
      assets: {
        cssReset: assetUrl(basePath, 'css-reset.css'),
        tokens: assetUrl(basePath, 'tokens.css'),
        css: assetUrl(basePath, 'panel.css'),
        sessionJs: assetUrl(basePath, 'page-session.js'),
        js: assetUrl(basePath, 'panel.js'),
        pageJs: kind === 'settings' ? assetUrl(basePath, 'settings.js') : '',
      },
      actions: {
        triage: basePath + UI_PATHS.triage,
        untriage: basePath + UI_PATHS.untriage,
        settings: basePath + UI_PATHS.saveSettings,
        sbom,
        moreFindings: basePath + UI_PATHS.repositoryFindings,
      },
    };
  }

  /** Until the tenant is known (and for the 401 answer), any allow-listed Bitbucket may frame the page. */
  const framed: RequestHandler = (_req, res, next) => {
    setFramedPagePolicy(res, deps.config.bitbucketBaseUrls);
    next();
  };

  /** A page handler whose failures render the error state inside the frame instead of raw JSON. */
  function page(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
    return async (req, res) => {
      try {
        await handler(req, res);
      } catch (error) {
        const known = error instanceof HttpError;
        if (!known) deps.logger.error({ err: error, path: req.path }, 'page failed');
        const installation = verifiedInstallation(res);
        const message = known ? error.message : 'Gatehouse could not load this page. Reload to try again; if it keeps failing, the Gatehouse service may be down.';
        res.status(known ? error.status : 500).type('html').send(render('error', chrome('error', 'Gatehouse', '', installation), { error: { title: known ? 'This page cannot be shown' : 'Something went wrong', message } }));
      }
    };
  }

  /** The verified iframe load: narrows framing to the tenant's origin and mints the page session. */
  function startSession(res: Response, repo: { repoUuid: string; repoFullName: string } | null): { token: string; auth: ReturnType<typeof authOf>; user: string | null } {
    const auth = authOf(res);
    setFramedPagePolicy(res, [originOf(auth.installation.baseUrl)]);
    const user = auth.claims.sub ?? null;
    const instance = installationInstance(auth.installation);
    const { token } = mintSessionToken(sessionKey, { clientKey: auth.clientKey, user, repoUuid: repo?.repoUuid ?? null, repoFullName: repo?.repoFullName ?? null, instance }, deps.now());
    return { token, auth, user };
  }

  async function allowed(check: () => Promise<boolean>, what: string): Promise<boolean> {
    try {
      return await check();
    } catch (error) {
      // Cannot ask Bitbucket: show the page read-only rather than not at all.
      deps.logger.warn({ err: error, what }, 'permission check failed; treating as not allowed');
      return false;
    }
  }

  /** Who marked the findings on this panel, by name. */
  function triagersOf(installation: Installation, model: PullRequestPanelModel): Promise<(user: string) => string> {
    const marked = [...model.newGroups.flatMap((g) => g.findings), ...model.existing].flatMap((f) => (f.triage ? [f.triage.by] : []));
    return nameResolver(deps.people, installation.clientKey, workspaceOf(installation), marked);
  }

  /** `fresh` for a request that changes something: decided by Bitbucket's answer now, not a cached one. */
  function canTriage(clientKey: string, repoFullName: string, user: string | null, fresh = false): Promise<boolean> {
    return user ? allowed(() => deps.permissions.canTriage(clientKey, repoFullName, user, { fresh }), 'triage') : Promise.resolve(false);
  }

  function isAdmin(installation: Installation, user: string | null, fresh = false): Promise<boolean> {
    const workspace = workspaceOf(installation);
    if (!user || !workspace) return Promise.resolve(false);
    return allowed(() => deps.permissions.isWorkspaceAdmin(installation.clientKey, workspace, user, { fresh }), 'settings');
  }

  function regionUrl(q: { prId: number; commit?: string | undefined; sourceBranch?: string | undefined; destinationBranch?: string | undefined }): string {
    const params = new URLSearchParams({ prId: String(q.prId) });
    if (q.commit) params.set('commit', q.commit);
    if (q.sourceBranch) params.set('sourceBranch', q.sourceBranch);
    if (q.destinationBranch) params.set('destinationBranch', q.destinationBranch);
    return `${basePath}${UI_PATHS.pullRequestRegion}?${params}`;
  }

  function prContext(installation: Installation, clientKey: string, repo: { repoUuid: string; repoFullName: string }, q: z.infer<typeof pullRequestRegionQuery>): PullRequestContext {
    return {
      clientKey,
      links: cloudLinks(installation.baseUrl),
      repoUuid: repo.repoUuid,
      repoFullName: repo.repoFullName,
      prId: q.prId,
      commit: q.commit ?? null,
      sourceBranch: q.sourceBranch ?? null,
      destinationBranch: q.destinationBranch ?? null,
    };
  }

  // ---- Page loads (Bitbucket's signed iframe URLs) ----

  router.get(UI_PATHS.pullRequestPanel, framed, iframeAuth, page(async (req, res) => {
    const q = parseRequest(pullRequestQuery, req.query);
    const { token, auth, user } = startSession(res, q);
    const model = await pullRequestPanelModel(deps.data, prContext(auth.installation, auth.clientKey, q, q), await canTriage(auth.clientKey, q.repoFullName, user));
    const personName = await triagersOf(auth.installation, model);
    res.type('html').send(render('pull-request', chrome('pull-request', `Gatehouse · #${q.prId}`, token, auth.installation, regionUrl(q)), { model, personName }));
  }));

  router.get(UI_PATHS.repositoryPanel, framed, iframeAuth, page(async (req, res) => {
    const q = parseRequest(repositoryQuery, req.query);
    const { auth, token } = startSession(res, q);
    const main = await deps.repositories.mainBranch(auth.clientKey, q.repoFullName).then(
      (name) => ({ ok: true as const, name }),
      (error: unknown) => {
        deps.logger.warn({ err: error, clientKey: auth.clientKey }, 'main branch lookup failed');
        return { ok: false as const, name: null };
      },
    );
    const model = await repositoryPanelModel(deps.data, {
      clientKey: auth.clientKey,
      repoUuid: q.repoUuid,
      repoFullName: q.repoFullName,
      mainBranch: main.name,
      bitbucketUnavailable: !main.ok,
      links: cloudLinks(auth.installation.baseUrl),
    });
    // A link cannot send a header: the SBOM link carries its own token, good for that download only.
    const link = mintSessionToken(
      sessionKey,
      { clientKey: auth.clientKey, user: auth.claims.sub ?? null, repoUuid: q.repoUuid, repoFullName: q.repoFullName, instance: installationInstance(auth.installation) },
      deps.now(),
      'sbom',
    );
    const sbomUrl = `${basePath}${UI_PATHS.sbom}?token=${encodeURIComponent(link.token)}`;
    res.type('html').send(render('repository', chrome('repository', 'Gatehouse', token, auth.installation, '', sbomUrl), { model }));
  }));

  router.get(UI_PATHS.settings, framed, iframeAuth, page(async (_req, res) => {
    const { token, auth, user } = startSession(res, null);
    res.type('html').send(await settingsPage(auth.installation, user, token, {}, 'settings'));
  }));

  async function settingsPage(installation: Installation, user: string | null, token: string, outcome: Parameters<typeof settingsModel>[2], template: 'settings' | 'settings-body'): Promise<string> {
    const p = installation.principal;
    const [canEdit, model, coverage, allTokens] = await Promise.all([
      isAdmin(installation, user),
      settingsModel(deps.data, { clientKey: installation.clientKey, workspaceName: p?.display_name ?? p?.slug ?? 'this workspace', canEdit: false }, outcome),
      deps.data.coverage(installation.clientKey, deps.now()),
      deps.data.apiTokens(installation.clientKey),
    ]);
    model.canEdit = canEdit;
    // Only admins see the tokens and the health (the API answers them alone too).
    const tokens = canEdit ? tokenRows(allTokens) : [];
    const health = canEdit && deps.health ? await deps.health(installation.clientKey) : null;
    const people = [...model.audit.map((a) => a.by), ...tokens.flatMap((t) => (t.createdBy ? [t.createdBy] : []))];
    const [names, personName] = await Promise.all([
      auditNames(installation, model.audit.map((a) => a.repoUuid)),
      nameResolver(deps.people, installation.clientKey, workspaceOf(installation), people),
    ]);
    const api = { coverage: basePath + COVERAGE_API_PATHS.coverage, tokens: basePath + COVERAGE_API_PATHS.tokens, diagnostics: basePath + DIAGNOSTICS_API_PATHS.diagnostics };
    return render(template, chrome('settings', 'Gatehouse settings', token, installation), {
      model,
      personName,
      repoName: (uuid: string) => names.get(uuid) ?? uuid,
      coverage: coverageSection(coverage),
      tokens,
      health,
      api,
    });
  }

  async function auditNames(installation: Installation, uuids: string[]): Promise<Map<string, string>> {
    const workspace = workspaceOf(installation);
    const unique = [...new Set(uuids)].slice(0, MAX_AUDIT_NAMES);
    if (!workspace) return new Map();
    const names = await Promise.all(unique.map(async (uuid) => [uuid, await deps.repositories.fullName(installation.clientKey, workspace, uuid).catch(() => null)] as const));
    return new Map(names.filter((n): n is readonly [string, string] => n[1] !== null));
  }

  // ---- Requests the pages make (page session token) ----

  /** A fetch gets the region to swap in; a plain form post (no script) gets the whole page back. */
  function fromScript(req: Request): boolean {
    return req.get(SESSION_HEADER) !== undefined;
  }

  function boundRepository(s: PageSession): { repoUuid: string; repoFullName: string } {
    if (!s.repoUuid || !s.repoFullName) throw new HttpError(403, 'wrong_page', 'This session does not belong to a repository page');
    return { repoUuid: s.repoUuid, repoFullName: s.repoFullName };
  }

  async function sendPullRequest(req: Request, res: Response, q: z.infer<typeof pullRequestRegionQuery>, status = 200): Promise<void> {
    const { session: s, installation } = sessionOf(res);
    const repo = boundRepository(s);
    const model = await pullRequestPanelModel(deps.data, prContext(installation, s.clientKey, repo, q), await canTriage(s.clientKey, repo.repoFullName, s.user));
    const script = fromScript(req);
    if (!script) setFramedPagePolicy(res, [originOf(installation.baseUrl)]);
    const token = freshTokenOf(res);
    const personName = await triagersOf(installation, model);
    res.status(status).type('html').send(render(script ? 'pull-request-body' : 'pull-request', chrome('pull-request', `Gatehouse · #${q.prId}`, token, installation, regionUrl(q)), { model, personName }));
  }

  router.get(UI_PATHS.pullRequestRegion, session, async (req, res) => {
    await sendPullRequest(req, res, parseRequest(pullRequestRegionQuery, req.query));
  });

  router.post(UI_PATHS.triage, form, session, async (req, res) => {
    const { session: s } = sessionOf(res);
    const repo = boundRepository(s);
    const body = parseRequest(triageBody, req.body);
    if (!(await canTriage(s.clientKey, repo.repoFullName, s.user, true))) throw new HttpError(403, 'not_allowed', TRIAGE_REFUSED);
    res.setHeader('X-Gatehouse-Announce', await markFinding(deps, { clientKey: s.clientKey, repoUuid: repo.repoUuid }, s.user ?? 'unknown', body));
    await sendPullRequest(req, res, body);
  });

  router.post(UI_PATHS.untriage, form, session, async (req, res) => {
    const { session: s } = sessionOf(res);
    const repo = boundRepository(s);
    const body = parseRequest(untriageBody, req.body);
    if (!(await canTriage(s.clientKey, repo.repoFullName, s.user, true))) throw new HttpError(403, 'not_allowed', TRIAGE_REFUSED);
    res.setHeader('X-Gatehouse-Announce', await unmarkFinding(deps, { clientKey: s.clientKey, repoUuid: repo.repoUuid }, body.fingerprint));
    await sendPullRequest(req, res, body);
  });

  router.post(UI_PATHS.saveSettings, form, session, async (req, res) => {
    const { session: s, installation } = sessionOf(res);
    if (!(await isAdmin(installation, s.user, true))) throw new HttpError(403, 'not_admin', SETTINGS_REFUSED);
    const saved = await saveSettings(deps, s.clientKey, readSettingsForm((req.body ?? {}) as Record<string, unknown>));
    const script = fromScript(req);
    if (!script) setFramedPagePolicy(res, [originOf(installation.baseUrl)]);
    const html = await settingsPage(installation, s.user, freshTokenOf(res), saved.outcome, script ? 'settings-body' : 'settings');
    res.status(saved.ok ? 200 : 422).type('html').send(html);
  });

  /** The next page of the repository panel's open findings (the panel shows the worst PANEL_FINDINGS). */
  router.get(UI_PATHS.repositoryFindings, session, async (req, res) => {
    const { session: s, installation } = sessionOf(res);
    const repo = boundRepository(s);
    const { offset } = parseRequest(findingsPageQuery, req.query);
    const main = await deps.repositories.mainBranch(s.clientKey, repo.repoFullName).catch((error: unknown) => {
      deps.logger.warn({ err: error, clientKey: s.clientKey }, 'main branch lookup failed');
      throw new HttpError(503, 'bitbucket_unavailable', 'Bitbucket could not be reached to find the main branch; try again in a moment');
    });
    const page = await openFindingsPage(deps.data, { clientKey: s.clientKey, ...repo, mainBranch: main, links: cloudLinks(installation.baseUrl) }, offset);
    if (!page) throw new HttpError(404, 'not_scanned', 'The main branch has not been scanned yet; reload the panel');
    res.type('html').send(render('repository-findings', chrome('repository', 'Gatehouse', freshTokenOf(res), installation), page));
  });

  router.get(UI_PATHS.sbom, async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    const verified = verifySessionToken(sessionKey, token, deps.now(), 'sbom');
    if (!verified.ok) {
      sendError(res, 401, verified.reason, 'This download link has expired; reload the repository page');
      return;
    }
    const { clientKey, repoUuid, repoFullName } = verified.session;
    const installation = await deps.store.getInstallation(clientKey);
    if (!installation || installation.state !== 'installed' || verified.session.instance !== installationInstance(installation) || !repoUuid || !repoFullName) {
      sendError(res, 401, 'session_invalid', 'This download link is no longer valid');
      return;
    }
    const main = await deps.repositories.mainBranch(clientKey, repoFullName).catch((error: unknown) => {
      // Not the app's fault and not the user's: say so, and let them retry.
      deps.logger.warn({ err: error, clientKey }, 'main branch lookup failed');
      throw new HttpError(503, 'bitbucket_unavailable', 'Bitbucket could not be reached to find the main branch; try again in a moment');
    });
    const sbom = await mainBranchSbom(deps.data, { clientKey, repoUuid, mainBranch: main }, repoFullName);
    // Shown in a new tab rather than downloaded: a sandboxed iframe (and the popups it opens)
    // may not download, and browsers only display JSON they recognise as application/json.
    // The filename is kept for "Save as". Chrome refuses to load a COOP document into a
    // popup opened from a sandboxed frame, so this one answer goes without that header.
    res.removeHeader('Cross-Origin-Opener-Policy');
    res
      .type('application/json')
      .setHeader('Content-Disposition', `inline; filename="${sbom.filename}"`)
      .setHeader('Cache-Control', 'no-store')
      .send(sbom.content);
  });

  router.get(UI_PATHS.asset, (req, res) => {
    const name = req.params.name as string;
    if (!Object.hasOwn(ASSET_FILES, name)) {
      sendError(res, 404, 'not_found', 'No such file');
      return;
    }
    // Our own pages on our own origin load these; the URL carries the content hash.
    res.sendFile(ASSET_FILES[name as AssetName], { maxAge: '365d', immutable: true, headers: { 'X-Content-Type-Options': 'nosniff' } });
  });
}

function verifiedInstallation(res: Response): Installation | null {
  try {
    return authOf(res).installation;
  } catch {
    return null;
  }
}

/** The workspace an installation belongs to, as Bitbucket's workspace-scoped endpoints take it. */
function workspaceOf(installation: Installation): string | undefined {
  const p = installation.principal;
  return p?.slug ?? p?.username ?? p?.uuid;
}
