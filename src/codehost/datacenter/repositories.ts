import { BitbucketApiError } from '../../bitbucket/errors.ts';
import type { HostRepository, RepositoryHost, TreeEntry } from '../../core/coverage/host.ts';
import { repositoryIdentity } from '../../datacenter/events/common.ts';
import { segment, type DatacenterClient } from './client.ts';
import { browseEntrySchema, browseSchema, commitPageSchema, dcRepositorySchema, minimalRefSchema, type DcRepository } from './schemas.ts';

/**
 * Bitbucket Data Center behind the coverage host interface: every repository the instance's
 * token can read (`GET /rest/api/latest/repos`, paged), each one's default branch, trees through
 * `browse` and files through `raw`. A repository is named `PROJECT/slug` and identified as the
 * webhooks identify it (`{dc-<instanceId>-<id>}`), so a backfill's results and a push's meet.
 * Data Center lists no size, language or last update: those stay null. No git clone yet (history
 * scans say so).
 */
export function datacenterRepositoryHost(client: DatacenterClient, instanceId: string): RepositoryHost {
  const repoPath = (fullName: string) => {
    const [project = '', slug = ''] = fullName.split('/');
    return `api/latest/projects/${segment(project, 'project key')}/repos/${segment(slug, 'repository slug')}`;
  };
  const notFound = (error: unknown) => error instanceof BitbucketApiError && error.status === 404;

  /** The listing's `defaultBranch` where the instance sends it, else `default-branch` (404 or no content: an empty repository). */
  const defaultBranch = async (repo: DcRepository): Promise<string | null> => {
    if (repo.defaultBranch) return repo.defaultBranch;
    try {
      return (await client.getJson(minimalRefSchema.optional(), client.url(`${repoPath(`${repo.project.key}/${repo.slug}`)}/default-branch`)))?.displayId ?? null;
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  };

  const toHost = async (repo: DcRepository): Promise<HostRepository> => ({
    uuid: repositoryIdentity(instanceId, repo.id),
    fullName: `${repo.project.key}/${repo.slug}`,
    name: repo.name ?? repo.slug,
    project: { key: repo.project.key, name: repo.project.name ?? repo.project.key },
    isPrivate: typeof repo.public === 'boolean' ? !repo.public : null,
    mainBranch: await defaultBranch(repo),
    sizeBytes: null,
    language: null,
    updatedOn: null,
  });

  /** One directory's entries, and its subdirectories' down to `depth` levels (browse lists one level). */
  async function* browse(fullName: string, commit: string, dir: string, depth: number): AsyncGenerator<TreeEntry> {
    const url = client.url(`${repoPath(fullName)}/browse${dir === '' ? '' : `/${dir.split('/').map((p) => segment(p, 'file path')).join('/')}`}`, { at: commit });
    const below: string[] = [];
    for await (const entry of client.paged(browseEntrySchema, url, (answer) => browseSchema.safeParse(answer).data?.children)) {
      const name = entry.path.components.join('/');
      if (name === '') continue;
      const path = dir === '' ? name : `${dir}/${name}`;
      if (entry.type === 'DIRECTORY') {
        yield { path, type: 'directory', size: null };
        if (depth > 1) below.push(path);
      } else if (entry.type === 'FILE') {
        yield { path, type: 'file', size: typeof entry.size === 'number' ? entry.size : null };
      }
    }
    for (const sub of below) yield* browse(fullName, commit, sub, depth - 1);
  }

  return {
    async *listRepositories() {
      for await (const repo of client.paged(dcRepositorySchema, client.url('api/latest/repos'))) yield toHost(repo);
    },
    async getRepository(fullName) {
      try {
        return await toHost(await client.getJson(dcRepositorySchema, client.url(repoPath(fullName))));
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },
    async branchHead(fullName, branch) {
      try {
        // The newest commit `until` the branch's ref (`commits/{commitId}` takes no ref names since 2.11).
        const page = await client.getJson(commitPageSchema, client.url(`${repoPath(fullName)}/commits`, { until: `refs/heads/${branch}`, limit: 1 }));
        const id = page.values[0]?.id;
        return id !== undefined && /^[0-9a-f]{40}$/.test(id) ? id : null;
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },
    listDirectory(fullName, commit, dir, maxDepth = 1) {
      return browse(fullName, commit, dir, Math.max(1, maxDepth));
    },
    async readFile(fullName, commit, path, maxBytes) {
      try {
        return await client.getText(client.url(`${repoPath(fullName)}/raw/${path.split('/').map((p) => segment(p, 'file path')).join('/')}`, { at: commit }), maxBytes);
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },
  };
}
