import type { ClientSource } from '../codehost/cloud/clients.ts';

/**
 * What the pages need to know about repositories that only Bitbucket knows: the main
 * branch (the repository panel shows that branch's inventory) and a repository's name from
 * its uuid (the triage audit list). Cached for a few minutes: both rarely change, and a
 * panel load should not cost a round trip every time.
 */
export interface RepositoryLookup {
  mainBranch(clientKey: string, repoFullName: string): Promise<string | null>;
  /** `workspace/slug`, or null when Bitbucket does not know the uuid (any more). */
  fullName(clientKey: string, workspace: string, repoUuid: string): Promise<string | null>;
}

export const REPOSITORY_CACHE_MS = 5 * 60_000;
const MAX_CACHED = 5_000;

export function bitbucketRepositories(clients: ClientSource, now: () => number = Date.now): RepositoryLookup {
  const cache = new Map<string, { value: string | null; until: number }>();
  async function cached(key: string, ask: () => Promise<string | null>): Promise<string | null> {
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.value;
    const value = await ask();
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, { value, until: now() + REPOSITORY_CACHE_MS });
    return value;
  }
  return {
    mainBranch(clientKey, repoFullName) {
      return cached(`main\n${clientKey}\n${repoFullName}`, async () => {
        const [workspace, slug] = repoFullName.split('/');
        if (!workspace || !slug) return null;
        const { client } = await clients.forInstallation(clientKey);
        return (await client.getRepository(workspace, slug)).mainbranch?.name ?? null;
      });
    },
    fullName(clientKey, workspace, repoUuid) {
      return cached(`name\n${clientKey}\n${repoUuid}`, async () => {
        const { client } = await clients.forInstallation(clientKey);
        try {
          return (await client.getRepository(workspace, repoUuid)).full_name ?? null;
        } catch {
          return null;
        }
      });
    },
  };
}
