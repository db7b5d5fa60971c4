import { BitbucketApiError } from '../../bitbucket/errors.ts';
import { encodePath } from '../encode-path.ts';
import type { Repository } from '../../bitbucket/openapi-types.ts';
import type { HostRepository, RepositoryHost, TreeEntry } from '../../core/coverage/host.ts';
import type { BitbucketClient } from '../../bitbucket/client.ts';

/** Who the repositories belong to: the workspace listed, and the token git clones with. */
export interface CloudTenant {
  /** Slug or `{uuid}` of the tenant's workspace (looked up when first needed: only discovery lists). */
  workspace(): Promise<string>;
  /** An `Authorization` value for git over HTTPS. */
  gitAuthorization(): Promise<string>;
}

/**
 * Bitbucket Cloud behind the coverage host interface: `/2.0/repositories/{workspace}` and
 * `src/{commit}/{path}`. It clones at {baseUrl}/{workspace}/{repo}.git, with an access token as Bearer.
 */
export function cloudRepositoryHost(client: BitbucketClient, baseUrl: string, tenant: CloudTenant): RepositoryHost {
  const split = (fullName: string) => {
    const [ws = '', slug = ''] = fullName.split('/');
    return { ws, slug };
  };
  return {
    async *listRepositories() {
      for await (const repo of client.listRepositories(await tenant.workspace(), { pagelen: 100 })) {
        const mapped = toHostRepository(repo);
        if (mapped) yield mapped;
      }
    },
    async getRepository(fullName) {
      const { ws, slug } = split(fullName);
      try {
        return toHostRepository(await client.getRepository(ws, slug));
      } catch (error) {
        if (error instanceof BitbucketApiError && error.status === 404) return null;
        throw error;
      }
    },
    async branchHead(fullName, branch) {
      const { ws, slug } = split(fullName);
      const found = await client.getBranch(ws, slug, branch);
      const hash = found?.target?.hash;
      return typeof hash === 'string' && /^[0-9a-f]{40}$/.test(hash) ? hash : null;
    },
    async *listDirectory(fullName, commit, dir, maxDepth = 1) {
      const { ws, slug } = split(fullName);
      const segments = [ws, slug].map(encodeURIComponent).join('/');
      // Bitbucket needs the root's trailing slash; every directory gets one, so none is read as a file.
      const inner = dir === '' ? '' : `${encodePath(dir)}/`;
      for await (const entry of client.paginate<{ type?: string; path?: string; size?: number }>(`/repositories/${segments}/src/${encodeURIComponent(commit)}/${inner}`, { pagelen: 100, ...(maxDepth > 1 ? { max_depth: maxDepth } : {}) })) {
        if (typeof entry.path !== 'string' || entry.path === '') continue;
        if (entry.type === 'commit_directory') yield { path: entry.path, type: 'directory', size: null } satisfies TreeEntry;
        else if (entry.type === 'commit_file') yield { path: entry.path, type: 'file', size: typeof entry.size === 'number' ? entry.size : null } satisfies TreeEntry;
      }
    },
    readFile(fullName, commit, path, maxBytes) {
      const { ws, slug } = split(fullName);
      return client.getFileSource(ws, slug, commit, path, { maxBytes });
    },
    async gitRemote(fullName) {
      const { ws, slug } = split(fullName);
      const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
      return { url: new URL(`${encodeURIComponent(ws)}/${encodeURIComponent(slug)}.git`, base).href, authorization: await tenant.gitAuthorization() };
    },
  };
}

function toHostRepository(repo: Repository): HostRepository | null {
  const r = repo as Repository & { uuid?: string; full_name?: string; name?: string; is_private?: boolean; size?: number; language?: string; updated_on?: string; mainbranch?: { name?: string }; project?: { key?: string; name?: string } };
  if (typeof r.uuid !== 'string' || typeof r.full_name !== 'string') return null;
  return {
    uuid: r.uuid,
    fullName: r.full_name,
    name: r.name ?? r.full_name.split('/')[1] ?? r.full_name,
    project: r.project?.key ? { key: r.project.key, name: r.project.name ?? r.project.key } : null,
    isPrivate: typeof r.is_private === 'boolean' ? r.is_private : null,
    mainBranch: r.mainbranch?.name || null,
    sizeBytes: typeof r.size === 'number' ? r.size : null,
    language: r.language || null,
    updatedOn: r.updated_on ?? null,
  };
}
