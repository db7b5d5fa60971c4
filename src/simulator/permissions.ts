import { ApiError } from './api-errors.ts';
import { paginate, type ApiContext } from './api-handlers.ts';
import type { Account, Repository, Workspace } from './model.ts';
import type { Site } from './site.ts';

/**
 * Who is what in the simulated workspaces, for the permission endpoints an app uses to
 * decide who may change its settings or triage: workspace memberships
 * (`owner` | `member`) and effective repository permissions (`admin` | `write` | `read`),
 * asked about any member with the app's credentials (Connect), or by the user themself with
 * their user token (`/user/workspaces/...`, what a Forge app's Custom UI endpoint receives).
 *
 * The simulator's one user created every workspace, so until a test says otherwise they own
 * it and administer its repositories (`setDefaultMember`). Tests take rights away with
 * `grantWorkspace(site, ws, user, 'member')` / `grantRepository(site, repo, user, 'read')`.
 */

export type WorkspaceRole = 'owner' | 'member';
export type RepositoryRole = 'admin' | 'write' | 'read';

interface Grants {
  defaultMember: Account | undefined;
  workspaces: Map<string, Map<string, { account: Account; role: WorkspaceRole }>>;
  repositories: Map<string, Map<string, { account: Account; role: RepositoryRole }>>;
}

const bySite = new WeakMap<Site, Grants>();

function grantsOf(site: Site): Grants {
  let grants = bySite.get(site);
  if (!grants) {
    grants = { defaultMember: undefined, workspaces: new Map(), repositories: new Map() };
    bySite.set(site, grants);
  }
  return grants;
}

export function setDefaultMember(site: Site, account: Account): void {
  grantsOf(site).defaultMember = account;
}

export function grantWorkspace(site: Site, workspace: Pick<Workspace, 'uuid'>, account: Account, role: WorkspaceRole): void {
  const grants = grantsOf(site);
  const members = grants.workspaces.get(workspace.uuid) ?? new Map();
  members.set(account.uuid, { account, role });
  grants.workspaces.set(workspace.uuid, members);
}

export function grantRepository(site: Site, repo: Pick<Repository, 'uuid'>, account: Account, role: RepositoryRole): void {
  const grants = grantsOf(site);
  const members = grants.repositories.get(repo.uuid) ?? new Map();
  members.set(account.uuid, { account, role });
  grants.repositories.set(repo.uuid, members);
}

function workspaceMembers(site: Site, ws: Workspace): { account: Account; role: WorkspaceRole }[] {
  const grants = grantsOf(site);
  const explicit = grants.workspaces.get(ws.uuid) ?? new Map<string, { account: Account; role: WorkspaceRole }>();
  const all = [...explicit.values()];
  const owner = grants.defaultMember;
  if (owner && !explicit.has(owner.uuid)) all.unshift({ account: owner, role: 'owner' });
  return all;
}

/** A member's effective repository permission: an explicit grant, else admin for owners and read for members. */
function repositoryMembers(site: Site, repo: Repository): { account: Account; role: RepositoryRole }[] {
  const explicit = grantsOf(site).repositories.get(repo.uuid) ?? new Map<string, { account: Account; role: RepositoryRole }>();
  return workspaceMembers(site, repo.workspace).map(({ account, role }) => explicit.get(account.uuid) ?? { account, role: role === 'owner' ? 'admin' : 'read' });
}

/** The subset of Bitbucket's filter language these endpoints are asked with: `user.uuid="{…}"`. */
function userFilter(ctx: ApiContext): string | undefined {
  const q = ctx.query.get('q');
  if (q === null) return undefined;
  const match = /^\s*user\.uuid\s*=\s*"(\{[0-9A-Za-z-]+\})"\s*$/.exec(q);
  if (!match) throw new ApiError(400, `The simulator understands only q=user.uuid="{uuid}", got ${q}`);
  return match[1];
}

function installedWorkspace(ctx: ApiContext): Workspace {
  const ws = (ctx.params.workspace ?? '').toLowerCase();
  const own = ctx.installation.principal;
  if (ws !== own.slug.toLowerCase() && ws !== own.uuid.toLowerCase()) throw new ApiError(404, 'Workspace not found');
  return own;
}

/** The filter the user-scoped repository list is asked with: `repository.uuid="{…}"`. */
function repositoryFilter(ctx: ApiContext): string | undefined {
  const q = ctx.query.get('q');
  if (q === null) return undefined;
  const match = /^\s*repository\.uuid\s*=\s*"(\{[0-9A-Za-z-]+\})"\s*$/.exec(q);
  if (!match) throw new ApiError(400, `The simulator understands only q=repository.uuid="{uuid}", got ${q}`);
  return match[1]!.toLowerCase();
}

/** The user a user token acts for; an app token has no person behind it to answer about. */
function tokenUser(ctx: ApiContext): Account {
  if (!ctx.user) throw new ApiError(403, 'This endpoint answers for the calling user: call it with a user token');
  return ctx.user;
}

export const permissionHandlers: Record<string, (ctx: ApiContext) => void> = {
  'get /workspaces/{workspace}/permissions': (ctx) => {
    const ws = installedWorkspace(ctx);
    const user = userFilter(ctx);
    const members = workspaceMembers(ctx.site, ws).filter((m) => user === undefined || m.account.uuid === user);
    ctx.res.json(
      paginate(
        ctx,
        members.map((m) => ({
          type: 'workspace_membership',
          permission: m.role,
          user: ctx.site.resources.account(m.account),
          workspace: ctx.site.resources.workspace(ws),
        })),
      ),
    );
  },

  'get /user/workspaces/{workspace}/permission': (ctx) => {
    const ws = installedWorkspace(ctx);
    const user = tokenUser(ctx);
    const membership = workspaceMembers(ctx.site, ws).find((m) => m.account.uuid === user.uuid);
    if (!membership) throw new ApiError(403, 'The requesting user does not have access to the workspace');
    ctx.res.json({ type: 'workspace_membership', permission: membership.role, user: ctx.site.resources.account(user), workspace: ctx.site.resources.workspace(ws) });
  },

  'get /user/workspaces/{workspace}/permissions/repositories': (ctx) => {
    const ws = installedWorkspace(ctx);
    const user = tokenUser(ctx);
    if (!workspaceMembers(ctx.site, ws).some((m) => m.account.uuid === user.uuid)) throw new ApiError(403, 'The requesting user does not have access to the workspace');
    const only = repositoryFilter(ctx);
    const entries = [...ctx.site.repositories.values()]
      .filter((r) => r.workspace.uuid === ws.uuid && (only === undefined || r.uuid.toLowerCase() === only))
      .flatMap((repo) => {
        const mine = repositoryMembers(ctx.site, repo).find((m) => m.account.uuid === user.uuid);
        return mine ? [{ type: 'repository_permission', permission: mine.role, user: ctx.site.resources.account(user), repository: ctx.site.resources.repositoryFull(repo) }] : [];
      });
    ctx.res.json(paginate(ctx, entries));
  },

  'get /workspaces/{workspace}/permissions/repositories/{repo_slug}': (ctx) => {
    const ws = installedWorkspace(ctx);
    const slug = (ctx.params.repo_slug ?? '').toLowerCase();
    const repo = [...ctx.site.repositories.values()].find((r) => r.workspace.uuid === ws.uuid && (r.slug === slug || r.uuid.toLowerCase() === slug));
    if (!repo) throw new ApiError(404, 'Repository not found');
    const user = userFilter(ctx);
    const members = repositoryMembers(ctx.site, repo).filter((m) => user === undefined || m.account.uuid === user);
    ctx.res.json(
      paginate(
        ctx,
        members.map((m) => ({
          type: 'repository_permission',
          permission: m.role,
          user: ctx.site.resources.account(m.account),
          repository: ctx.site.resources.repositoryFull(repo),
        })),
      ),
    );
  },
};
