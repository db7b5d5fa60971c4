import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import type { ClientSource } from '../codehost/cloud/clients.ts';
import { cloudLinks } from '../codehost/cloud/links.ts';
import { HttpError, parseRequest, sendJson } from '../http/errors.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { ForgeInstallation } from '../store/types.ts';
import { markFinding, saveSettings, SETTINGS_REFUSED, TRIAGE_REFUSED, triageFields, unmarkFinding, untriageFields, type ActionDeps } from '../ui/actions.ts';
import { storeDataSource } from '../ui/data-source.ts';
import { mainBranchSbom } from '../ui/sbom.ts';
import { settingsFormJson } from '../ui/settings-form.ts';
import { pullRequestPanelModel } from '../ui/view-models/pull-request.ts';
import { MAX_FINDINGS_OFFSET, openFindingsPage, repositoryPanelModel } from '../ui/view-models/repository.ts';
import { settingsModel, type ForgeSettingsModel } from '../ui/view-models/settings.ts';
import { invocationOf } from './auth.ts';
import { TOKEN_START_MARGIN_MS, tokenUsable, waitingForTokenMessage, webBaseOf } from '../codehost/cloud/forge-clients.ts';
import { installationFor, type ForgeInstallationDeps } from './installations.ts';
import type { ForgeUser, ForgeUserPermissions, PermissionAnswer } from './user-permissions.ts';

export const FORGE_UI_PATHS = {
  pullRequest: '/forge/ui/pull-request',
  repository: '/forge/ui/repository',
  settings: '/forge/ui/settings',
} as const;

const UUID = /^\{?([0-9a-fA-F-]{36})\}?$/;
/** A triage reason and the settings fields are the largest bodies: well under this. */
const UI_BODY_LIMIT = 128 * 1024;
const MAX_USER_TOKEN_LENGTH = 16 * 1024;

/**
 * What a repository panel call asks for: the panel, the main branch's SBOM file (`{sbom: true}`),
 * or the next page of its open findings (`{findings: {offset}}`, as Connect's "show more").
 */
const repositoryAction = z
  .object({
    sbom: z.literal(true).optional(),
    findings: z.object({ offset: z.number().int().min(0).max(MAX_FINDINGS_OFFSET) }).strict().optional(),
  })
  .refine((a) => !(a.sbom && a.findings), 'send sbom or findings, not both');

/** What a pull-request panel call asks for besides the panel: nothing, or one triage change. */
const pullRequestAction = z
  .object({ triage: z.object(triageFields).optional(), untriage: z.object(untriageFields).optional() })
  .refine((a) => !(a.triage && a.untriage), 'send triage or untriage, not both');

export interface ForgeUiDeps extends ForgeInstallationDeps {
  results: ResultsStore;
  clients: ClientSource;
  bitbucketBaseUrls: readonly string[];
  /** Asks Bitbucket, with the calling user's token, what that user may change. */
  permissions: ForgeUserPermissions;
}

/**
 * The Custom UI resolver routes (called with `invokeRemote`): JSON from the same view models as
 * the Connect panels. The tenant comes from the verified FIT's installation, the repository and
 * pull request from its `context.extension` only; nothing in the body or query widens that, and
 * results are keyed by tenant, so another workspace's data cannot be named at all.
 *
 * Changes (a triage mark, the settings) go through the same code as Connect's (ui/actions.ts),
 * after Bitbucket confirmed, with the user's own token and at that moment, that the FIT's
 * principal has write access to the repository (triage) or administers the workspace
 * (settings); otherwise 403 with a JSON body. Panels show their controls only to those users.
 */
export function addForgeUiRoutes(router: Router, deps: ForgeUiDeps): void {
  const data = storeDataSource(deps.results, deps.store);
  const actions: ActionDeps = { data, logger: deps.logger, now: deps.now };
  const json = express.json({ limit: UI_BODY_LIMIT, type: () => true });

  /** The user behind the call: the FIT's principal with the token Forge sent for them. */
  function userOf(req: Request, principal: string | undefined): ForgeUser | undefined {
    const token = req.get('x-forge-oauth-user');
    if (!principal || !token || token.length > MAX_USER_TOKEN_LENGTH) return undefined;
    return { accountId: principal, token };
  }

  /** Bitbucket's answer; without a user, or when Bitbucket cannot say, the user may not. */
  async function right(installation: ForgeInstallation, user: ForgeUser | undefined, what: 'triage' | 'settings', ask: (user: ForgeUser) => Promise<PermissionAnswer>): Promise<PermissionAnswer> {
    if (!user) return { allowed: false, userUuid: undefined };
    try {
      return await ask(user);
    } catch (error) {
      deps.logger.warn({ err: error instanceof Error ? error.message : String(error), clientKey: installation.clientKey, what }, 'Forge permission check failed; treating as not allowed');
      return { allowed: false, userUuid: undefined };
    }
  }

  async function page(res: Parameters<typeof invocationOf>[0], needs: 'repository' | 'pull-request' | 'workspace') {
    const invocation = invocationOf(res);
    const installation = await installationFor(deps, invocation, undefined);
    const extension = (invocation.context?.extension ?? {}) as { repository?: { uuid?: unknown }; pullRequest?: { id?: unknown } };
    const repoMatch = typeof extension.repository?.uuid === 'string' ? UUID.exec(extension.repository.uuid) : null;
    if (needs !== 'workspace' && !repoMatch) throw new HttpError(400, 'forge_context_missing', 'The FIT context names no repository');
    const prId = extension.pullRequest?.id;
    if (needs === 'pull-request' && !(typeof prId === 'number' && Number.isInteger(prId) && prId > 0)) {
      throw new HttpError(400, 'forge_context_missing', 'The FIT context names no pull request');
    }
    const repoUuid = repoMatch ? `{${repoMatch[1]!.toLowerCase()}}` : '';
    return { installation, repoUuid, repoFullName: `{${installation.workspaceId}}/${repoUuid}`, prId: prId as number };
  }

  router.post(FORGE_UI_PATHS.pullRequest, json, async (req, res, next) => {
    try {
      const action = parseRequest(pullRequestAction, req.body ?? {});
      const { installation, repoUuid, repoFullName, prId } = await page(res, 'pull-request');
      const user = userOf(req, invocationOf(res).principal);
      const changing = action.triage !== undefined || action.untriage !== undefined;
      const may = await right(installation, user, 'triage', (u) => deps.permissions.canTriage(installation, u, repoUuid, { fresh: changing }));
      if (changing) {
        if (!may.allowed) throw new HttpError(403, 'not_allowed', TRIAGE_REFUSED);
        const where = { clientKey: installation.clientKey, repoUuid };
        if (action.triage) await markFinding(actions, where, may.userUuid ?? user!.accountId, action.triage);
        else await unmarkFinding(actions, where, action.untriage!.fingerprint);
      }
      const model = await pullRequestPanelModel(
        data,
        { clientKey: installation.clientKey, links: cloudLinks(webBaseOf(installation.apiBaseUrl, deps.bitbucketBaseUrls)), repoUuid, repoFullName, prId, commit: null, sourceBranch: null, destinationBranch: null },
        may.allowed,
      );
      sendJson(res, 200, model);
    } catch (error) {
      next(error);
    }
  });

  router.post(FORGE_UI_PATHS.repository, json, async (req, res, next) => {
    try {
      const action = parseRequest(repositoryAction, req.body ?? {});
      const { installation, repoUuid, repoFullName } = await page(res, 'repository');
      let mainBranch: string | null = null;
      let fullName: string | null = null;
      let bitbucketUnavailable = false;
      try {
        const { client } = await deps.clients.forInstallation(installation.clientKey);
        const repository = await client.getRepository(`{${installation.workspaceId}}`, repoUuid);
        mainBranch = repository.mainbranch?.name ?? null;
        fullName = repository.full_name ?? null;
      } catch (error) {
        deps.logger.warn({ err: error instanceof Error ? error.message : String(error), clientKey: installation.clientKey }, 'Forge repository panel: main branch unknown');
        bitbucketUnavailable = true;
      }
      if (action.sbom) {
        if (bitbucketUnavailable) throw new HttpError(503, 'bitbucket_unavailable', 'Bitbucket could not be reached to find the main branch; try again in a moment');
        sendJson(res, 200, { sbom: await mainBranchSbom(data, { clientKey: installation.clientKey, repoUuid, mainBranch }, fullName ?? repoFullName) });
        return;
      }
      // The name Bitbucket gave (not the UUID pair) makes readable source links, as Connect's are.
      const ctx = { clientKey: installation.clientKey, repoUuid, repoFullName: fullName ?? repoFullName, mainBranch, bitbucketUnavailable, links: cloudLinks(webBaseOf(installation.apiBaseUrl, deps.bitbucketBaseUrls)) };
      if (action.findings) {
        if (bitbucketUnavailable) throw new HttpError(503, 'bitbucket_unavailable', 'Bitbucket could not be reached to find the main branch; try again in a moment');
        const page = await openFindingsPage(data, ctx, action.findings.offset);
        if (!page) throw new HttpError(404, 'not_scanned', 'The main branch has not been scanned yet; reload the panel');
        sendJson(res, 200, page);
        return;
      }
      sendJson(res, 200, await repositoryPanelModel(data, ctx));
    } catch (error) {
      next(error);
    }
  });

  // UI calls never bring the system token (page() offers none), so this is the token the
  // background jobs hold: when it cannot start a job, the page says scans are waiting and why.
  const settingsPage = async (installation: ForgeInstallation, canEdit: boolean, outcome?: Parameters<typeof settingsModel>[2]): Promise<ForgeSettingsModel> => ({
    ...(await settingsModel(data, { clientKey: installation.clientKey, workspaceName: `{${installation.workspaceId}}`, canEdit }, outcome)),
    tokenNotice: tokenUsable(installation, deps.now().getTime(), TOKEN_START_MARGIN_MS) ? null : waitingForTokenMessage(installation),
  });
  const isAdmin = (req: Request, res: Parameters<typeof invocationOf>[0], installation: ForgeInstallation, fresh: boolean) =>
    right(installation, userOf(req, invocationOf(res).principal), 'settings', (u) => deps.permissions.isWorkspaceAdmin(installation, u, { fresh }));

  router.get(FORGE_UI_PATHS.settings, async (req, res, next) => {
    try {
      const { installation } = await page(res, 'workspace');
      sendJson(res, 200, await settingsPage(installation, (await isAdmin(req, res, installation, false)).allowed));
    } catch (error) {
      next(error);
    }
  });

  router.post(FORGE_UI_PATHS.settings, json, async (req, res, next) => {
    try {
      const { installation } = await page(res, 'workspace');
      if (!(await isAdmin(req, res, installation, true)).allowed) throw new HttpError(403, 'not_admin', SETTINGS_REFUSED);
      const saved = await saveSettings(actions, installation.clientKey, parseRequest(settingsFormJson, req.body ?? {}));
      // 422 with the page again (what was typed, a message per field), as the Connect page answers.
      sendJson(res, saved.ok ? 200 : 422, await settingsPage(installation, true, saved.outcome));
    } catch (error) {
      next(error);
    }
  });
}
