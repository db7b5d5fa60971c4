import type { Router } from 'express';
import type { ClientSource } from '../codehost/cloud/clients.ts';
import { HttpError, sendJson } from '../http/errors.ts';
import type { ResultsStore } from '../store/results-types.ts';
import { storeDataSource } from '../ui/data-source.ts';
import { pullRequestPanelModel } from '../ui/view-models/pull-request.ts';
import { repositoryPanelModel } from '../ui/view-models/repository.ts';
import { settingsModel } from '../ui/view-models/settings.ts';
import { invocationOf } from './auth.ts';
import { webBaseOf } from '../codehost/cloud/forge-clients.ts';
import { installationFor, type ForgeInstallationDeps } from './installations.ts';

export const FORGE_UI_PATHS = {
  pullRequest: '/forge/ui/pull-request',
  repository: '/forge/ui/repository',
  settings: '/forge/ui/settings',
} as const;

const UUID = /^\{?([0-9a-fA-F-]{36})\}?$/;

/**
 * The Custom UI resolver routes (called with `invokeRemote`): JSON from the same view models as
 * the Connect panels. The tenant comes from the verified FIT's installation, the repository and
 * pull request from its `context.extension` only; nothing in the body or query widens that, and
 * results are keyed by tenant, so another workspace's data cannot be named at all. Read-only:
 * panels are shown without triage controls and the settings page without saving.
 */
export function addForgeUiRoutes(router: Router, deps: ForgeInstallationDeps & { results: ResultsStore; clients: ClientSource; bitbucketBaseUrls: readonly string[] }): void {
  const data = storeDataSource(deps.results, deps.store);

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

  router.post(FORGE_UI_PATHS.pullRequest, async (_req, res, next) => {
    try {
      const { installation, repoUuid, repoFullName, prId } = await page(res, 'pull-request');
      const model = await pullRequestPanelModel(
        data,
        { clientKey: installation.clientKey, bitbucketBaseUrl: webBaseOf(installation.apiBaseUrl, deps.bitbucketBaseUrls), repoUuid, repoFullName, prId, commit: null, sourceBranch: null, destinationBranch: null },
        false,
      );
      sendJson(res, 200, model);
    } catch (error) {
      next(error);
    }
  });

  router.post(FORGE_UI_PATHS.repository, async (_req, res, next) => {
    try {
      const { installation, repoUuid, repoFullName } = await page(res, 'repository');
      let mainBranch: string | null = null;
      let bitbucketUnavailable = false;
      try {
        const { client } = await deps.clients.forInstallation(installation.clientKey);
        mainBranch = (await client.getRepository(`{${installation.workspaceId}}`, repoUuid)).mainbranch?.name ?? null;
      } catch (error) {
        deps.logger.warn({ err: error instanceof Error ? error.message : String(error), clientKey: installation.clientKey }, 'Forge repository panel: main branch unknown');
        bitbucketUnavailable = true;
      }
      sendJson(res, 200, await repositoryPanelModel(data, { clientKey: installation.clientKey, repoUuid, repoFullName, mainBranch, bitbucketUnavailable }));
    } catch (error) {
      next(error);
    }
  });

  router.get(FORGE_UI_PATHS.settings, async (_req, res, next) => {
    try {
      const { installation } = await page(res, 'workspace');
      sendJson(res, 200, await settingsModel(data, { clientKey: installation.clientKey, workspaceName: `{${installation.workspaceId}}`, canEdit: false }));
    } catch (error) {
      next(error);
    }
  });
}
