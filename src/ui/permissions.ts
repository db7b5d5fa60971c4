import type { ClientSource } from '../codehost/cloud/clients.ts';
import { permissionCache } from './permission-cache.ts';

/**
 * Who may do what, asked of Bitbucket by the app (its own JWT, the installation's scopes) on
 * the server for every state-changing request; the page only hides controls as a courtesy.
 *
 * - Changing settings: workspace admins, i.e. `permission == "owner"` in
 *   `GET /2.0/workspaces/{workspace}/permissions?q=user.uuid="…"` (scope `account`).
 * - Triage: write or admin on the repository, from
 *   `GET /2.0/workspaces/{workspace}/permissions/repositories/{repo_slug}?q=user.uuid="…"`
 *   (scope `repository`; the answer is the user's effective permission, groups included).
 *
 * Answers are cached briefly per (installation, user, subject) for drawing pages (whether
 * to show a control costs no round trip on every poll); a request that changes something
 * passes `fresh` and is decided by Bitbucket's answer of that moment, so a revoked right
 * stops working at once. Errors are never cached.
 */
export interface PermissionChecker {
  isWorkspaceAdmin(clientKey: string, workspace: string, user: string, opts?: { fresh?: boolean }): Promise<boolean>;
  canTriage(clientKey: string, repoFullName: string, user: string, opts?: { fresh?: boolean }): Promise<boolean>;
}

const TRIAGE_PERMISSIONS = new Set(['write', 'admin']);

/** Bitbucket's filter language takes a quoted string; a uuid in braces never needs escaping, anything else is refused. */
function userFilter(user: string): string {
  if (!/^\{[0-9A-Za-z-]{1,64}\}$/.test(user)) throw new Error('user must be a Bitbucket uuid in braces');
  return `user.uuid="${user}"`;
}

export function bitbucketPermissions(clients: ClientSource, now: () => number = Date.now): PermissionChecker {
  const cached = permissionCache<boolean>(now);

  async function firstPermission(clientKey: string, path: string, user: string): Promise<string | undefined> {
    const { client } = await clients.forInstallation(clientKey);
    for await (const entry of client.paginate<{ permission?: string }>(path, { q: userFilter(user) })) return entry.permission;
    return undefined;
  }

  return {
    isWorkspaceAdmin(clientKey, workspace, user, opts) {
      return cached(`ws\n${clientKey}\n${workspace}\n${user}`, opts?.fresh === true, async () => {
        const path = `/workspaces/${encodeURIComponent(workspace)}/permissions`;
        return (await firstPermission(clientKey, path, user)) === 'owner';
      });
    },
    canTriage(clientKey, repoFullName, user, opts) {
      return cached(`repo\n${clientKey}\n${repoFullName}\n${user}`, opts?.fresh === true, async () => {
        const [workspace, slug, ...rest] = repoFullName.split('/');
        if (!workspace || !slug || rest.length > 0) return false;
        const path = `/workspaces/${encodeURIComponent(workspace)}/permissions/repositories/${encodeURIComponent(slug)}`;
        return TRIAGE_PERMISSIONS.has((await firstPermission(clientKey, path, user)) ?? 'none');
      });
    },
  };
}
