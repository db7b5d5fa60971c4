import { createBitbucketClient } from '../bitbucket/client.ts';
import type { ClientTuning } from '../codehost/cloud/clients.ts';
import type { CallBudget } from '../core/budget.ts';
import { permissionCache } from '../ui/permission-cache.ts';
import type { ForgeInstallation } from '../store/types.ts';

/**
 * What the user behind a Custom UI call may do, asked of Bitbucket with that user's own token
 * (`x-forge-oauth-user`, which Forge sends to an endpoint with `appUserToken`), so Bitbucket
 * answers for the person, groups included, and the app needs no admin scope to list other
 * people's rights. Both calls are the user-scoped ones the Bitbucket OpenAPI marks for Forge
 * (`x-atlassian-auth-types: forge-oauth2`); the older /user/permissions/* ones are not.
 *
 * - Settings: `GET /2.0/user/workspaces/{workspace}/permission`, `permission == "owner"`
 *   (scope read:workspace:bitbucket).
 * - Triage: `GET /2.0/user/workspaces/{workspace}/permissions/repositories?q=repository.uuid="…"`,
 *   `permission` write or admin (scope read:repository:bitbucket).
 *
 * As on Connect (ui/permissions.ts): answers are cached briefly per (installation, user,
 * subject) to draw pages; a change passes `fresh` and is decided by Bitbucket's answer now.
 * The answer also names the user's Bitbucket uuid, which triage marks record as on Connect.
 */

export interface ForgeUser {
  /** The FIT's `principal` (Atlassian account id). */
  accountId: string;
  /** The user token; used for the call, never kept or logged. */
  token: string;
}

export interface PermissionAnswer {
  allowed: boolean;
  /** The user's Bitbucket uuid in braces, when Bitbucket named it. */
  userUuid: string | undefined;
}

export interface ForgeUserPermissions {
  isWorkspaceAdmin(installation: ForgeInstallation, user: ForgeUser, opts?: { fresh?: boolean }): Promise<PermissionAnswer>;
  canTriage(installation: ForgeInstallation, user: ForgeUser, repoUuid: string, opts?: { fresh?: boolean }): Promise<PermissionAnswer>;
}

const TRIAGE_PERMISSIONS = new Set(['write', 'admin']);

interface Membership {
  permission?: unknown;
  user?: { uuid?: unknown };
}

function answer(entry: Membership | undefined, allowed: (permission: string) => boolean): PermissionAnswer {
  const permission = typeof entry?.permission === 'string' ? entry.permission : 'none';
  const uuid = entry?.user?.uuid;
  return { allowed: allowed(permission), userUuid: typeof uuid === 'string' && /^\{[0-9A-Za-z-]{1,64}\}$/.test(uuid) ? uuid : undefined };
}

export function forgeUserPermissions(deps: { apiUrls: readonly string[]; budget: CallBudget; tuning?: ClientTuning; now?: () => number }): ForgeUserPermissions {
  const now = deps.now ?? Date.now;
  const cached = permissionCache<PermissionAnswer>(now);

  function clientFor(installation: ForgeInstallation, user: ForgeUser) {
    return createBitbucketClient({
      ...deps.tuning,
      auth: 'bearer',
      bearerToken: () => Promise.resolve(user.token),
      baseApiUrl: installation.apiBaseUrl,
      allowedApiOrigins: deps.apiUrls,
      // The user waits for this answer: one retry at most, not a background job's patience.
      maxRetries: Math.min(deps.tuning?.maxRetries ?? 1, 1),
      fetch: deps.budget.meter(installation.clientKey, deps.tuning?.fetch ?? globalThis.fetch),
    });
  }

  const workspaceOf = (installation: ForgeInstallation) => `{${installation.workspaceId}}`;

  return {
    isWorkspaceAdmin(installation, user, opts) {
      return cached(`ws\n${installation.installationId}\n${user.accountId}`, opts?.fresh === true, async () => {
        const client = clientFor(installation, user);
        const path = `/user/workspaces/${encodeURIComponent(workspaceOf(installation))}/permission`;
        const membership = await client.get<Membership>(path);
        return answer(membership, (p) => p === 'owner');
      });
    },
    canTriage(installation, user, repoUuid, opts) {
      return cached(`repo\n${installation.installationId}\n${user.accountId}\n${repoUuid}`, opts?.fresh === true, async () => {
        if (!/^\{[0-9A-Za-z-]{1,64}\}$/.test(repoUuid)) return { allowed: false, userUuid: undefined };
        const client = clientFor(installation, user);
        const path = `/user/workspaces/${encodeURIComponent(workspaceOf(installation))}/permissions/repositories`;
        for await (const entry of client.paginate<Membership>(path, { q: `repository.uuid="${repoUuid}"` })) return answer(entry, (p) => TRIAGE_PERMISSIONS.has(p));
        return { allowed: false, userUuid: undefined };
      });
    },
  };
}
