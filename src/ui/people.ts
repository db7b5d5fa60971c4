import type { ClientSource } from '../codehost/cloud/clients.ts';

/**
 * Names of the people in triage records. A mark stores who made it as the Bitbucket user id
 * from the verified iframe JWT (stable, never spoofable by the page); the pages show the
 * person's current display name from their workspace membership
 * (`GET /2.0/workspaces/{workspace}/permissions?q=user.uuid="…"`, the endpoint the admin
 * check uses, under the same `account` scope), cached.
 */
export interface PeopleLookup {
  /** Display name, or null when the id is not a member of the workspace (any more). */
  displayName(clientKey: string, workspace: string, user: string): Promise<string | null>;
}

export const PEOPLE_CACHE_MS = 10 * 60_000;
const MAX_CACHED = 5_000;
/** At most this many distinct people are looked up for one page; the rest show their id. */
export const MAX_NAMES_PER_PAGE = 20;

export function bitbucketPeople(clients: ClientSource, now: () => number = Date.now): PeopleLookup {
  const cache = new Map<string, { value: string | null; until: number }>();
  return {
    async displayName(clientKey, workspace, user) {
      if (!/^\{[0-9A-Za-z-]{1,64}\}$/.test(user)) return null;
      const key = `${clientKey}\n${workspace}\n${user}`;
      const hit = cache.get(key);
      if (hit && hit.until > now()) return hit.value;
      const { client } = await clients.forInstallation(clientKey);
      let value: string | null = null;
      const members = client.paginate<{ user?: { display_name?: string } }>(`/workspaces/${encodeURIComponent(workspace)}/permissions`, { q: `user.uuid="${user}"` });
      for await (const member of members) {
        value = member.user?.display_name ?? null;
        break;
      }
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(key, { value, until: now() + PEOPLE_CACHE_MS });
      return value;
    },
  };
}

/** Names for the given ids (looked up in parallel, failures left out), as a lookup function for templates. */
export async function nameResolver(people: PeopleLookup, clientKey: string, workspace: string | undefined, users: Iterable<string>): Promise<(user: string) => string> {
  if (!workspace) return (user) => user;
  const unique = [...new Set(users)].slice(0, MAX_NAMES_PER_PAGE);
  const found = await Promise.all(unique.map(async (u) => [u, await people.displayName(clientKey, workspace, u).catch(() => null)] as const));
  const names = new Map(found.filter((f): f is readonly [string, string] => f[1] !== null));
  return (user) => names.get(user) ?? user;
}
