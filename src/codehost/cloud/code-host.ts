import { MAX_ANNOTATIONS_PER_REQUEST, type BitbucketClient } from '../../bitbucket/client.ts';
import { BitbucketApiError, BitbucketProtocolError } from '../../bitbucket/errors.ts';
import type { Pullrequest } from '../../bitbucket/openapi-types.ts';
import type { AnnotationInput, DiffOptions, DiffTarget, ReportInput } from '../../bitbucket/types.ts';
import { encodePath } from '../encode-path.ts';
import { cloudLinks } from './links.ts';
import type { Annotation, ChangeTarget, CodeHost, PullRequestInfo, PullRequestSide, RepoRef, Report } from '../../core/code-host.ts';
import { cloudRepositoryHost, type CloudTenant } from './repository-host.ts';

/**
 * Bitbucket Cloud behind the code-host interface, over one installation's REST client (JWT for
 * Connect, a bearer system token for Forge: the client decides). `webBaseUrl` is where people
 * browse the workspace, e.g. https://bitbucket.org (and where git clones); `tenant` names the
 * workspace whose repositories coverage lists.
 */
export function cloudCodeHost(client: BitbucketClient, webBaseUrl: string, tenant: CloudTenant): CodeHost {
  return {
    ...cloudLinks(webBaseUrl),
    repositories: cloudRepositoryHost(client, webBaseUrl.replace(/\/+$/, ''), tenant),

    async getPullRequest(repo, prId) {
      return pullRequestInfo(await client.getPullRequest(repo.workspace, repo.slug, prId), prId);
    },

    async resolveCommit(repo, hash) {
      const commit = await client.getCommit(repo.workspace, repo.slug, hash);
      if (typeof commit.hash !== 'string' || !commit.hash.startsWith(hash)) {
        throw new BitbucketProtocolError('GET', `commit/${hash}`, 'answered without the commit hash asked for');
      }
      return commit.hash;
    },

    async getRepository(repo) {
      return { mainBranch: (await client.getRepository(repo.workspace, repo.slug)).mainbranch?.name ?? null };
    },

    streamDiff(repo, target) {
      return client.streamDiff(repo.workspace, repo.slug, diffTarget(target), 'head' in target && target.direct ? { topic: false } : {});
    },

    async *changedFiles(repo, target, options = {}) {
      const diffOptions: DiffOptions = {};
      // A pull request's own diffstat takes no path filter (Bitbucket redirects it to a spec and drops it).
      if ('head' in target && options.paths) diffOptions.path = [...options.paths];
      if ('head' in target && target.direct) diffOptions.topic = false;
      for await (const entry of client.getDiffstat(repo.workspace, repo.slug, diffTarget(target), diffOptions)) {
        yield { oldPath: entry.old?.path ?? null, newPath: entry.new?.path ?? null };
      }
    },

    getFile: (repo, commit, path, options) => client.getFileSource(repo.workspace, repo.slug, commit, path, options),

    async *listDirectory(repo, commit, dir) {
      for await (const entry of client.paginate<{ type?: string; path?: string }>(listingPath(repo, commit, dir), { pagelen: 100 })) {
        if (typeof entry.path !== 'string' || entry.path === '') continue;
        if (entry.type === 'commit_directory') yield { path: entry.path, kind: 'directory' };
        else if (entry.type === 'commit_file') yield { path: entry.path, kind: 'file' };
      }
    },

    async publishReport(repo, commit, { key, report, annotations, previouslyPublished }) {
      const { workspace, slug } = repo;
      // Annotations outlive a report PUT: a finding fixed or triaged since the last publication
      // on this commit is only gone once the report (and its annotations) is deleted first.
      const current = new Set(annotations.map((a) => a.externalId));
      if ([...previouslyPublished].some((id) => !current.has(id))) await client.deleteReport(workspace, slug, commit, key);
      await client.putReport(workspace, slug, commit, key, reportInput(report));
      for (let i = 0; i < annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) {
        await client.postAnnotations(workspace, slug, commit, key, annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST).map(annotationInput));
      }
    },

    async setBuildStatus(repo, commit, status) {
      const { branch, ...rest } = status;
      await client.postBuildStatus(repo.workspace, repo.slug, commit, { ...rest, refname: branch });
    },

    async *listComments(repo, prId) {
      for await (const comment of client.listPullRequestComments(repo.workspace, repo.slug, prId)) {
        if (comment.id === undefined || comment.deleted) continue;
        yield { id: comment.id, text: comment.content?.raw ?? '' };
      }
    },

    async createComment(repo, prId, text) {
      const created = await client.createPullRequestComment(repo.workspace, repo.slug, prId, { raw: text });
      if (created.id === undefined) throw new BitbucketProtocolError('POST', `pullrequests/${prId}/comments`, 'created the comment but did not return its id');
      return created.id;
    },

    async editComment(repo, prId, commentId, text) {
      try {
        await client.updatePullRequestComment(repo.workspace, repo.slug, prId, commentId, { raw: text });
        return true;
      } catch (error) {
        if (error instanceof BitbucketApiError && error.status === 404) return false;
        throw error;
      }
    },
  };
}

/** Bitbucket's `head..base` spec diffs from the merge base; a lone hash is the commit against its parent. */
function diffTarget(target: ChangeTarget): DiffTarget {
  if ('pullRequestId' in target) return { pullRequestId: target.pullRequestId };
  return { spec: target.base ? `${target.head}..${target.base}` : target.head };
}

function pullRequestInfo(pr: Pullrequest, prId: number): PullRequestInfo {
  const side = (s: Pullrequest['source']): PullRequestSide => ({
    repository: s?.repository?.full_name ?? null,
    repositoryUuid: s?.repository?.uuid ?? null,
    branch: s?.branch?.name ?? null,
    commit: s?.commit?.hash ?? null,
  });
  return { id: pr.id ?? prId, state: pr.state ?? null, source: side(pr.source), destination: side(pr.destination), mergeCommit: pr.merge_commit?.hash ?? null };
}

/** The root needs its trailing slash (Bitbucket's src documentation); every directory gets one, so a directory is never read as a file. */
function listingPath(repo: RepoRef, commit: string, dir: string): string {
  const segments = [repo.workspace, repo.slug].map(encodeURIComponent).join('/');
  const inner = dir === '' ? '' : `${encodePath(dir)}/`;
  return `/repositories/${segments}/src/${encodeURIComponent(commit)}/${inner}`;
}

function reportInput(report: Report): ReportInput {
  return { ...report, report_type: 'SECURITY' };
}

function annotationInput(a: Annotation): AnnotationInput {
  return {
    external_id: a.externalId,
    annotation_type: 'VULNERABILITY',
    title: a.title,
    summary: a.summary,
    details: a.details,
    severity: a.severity.toUpperCase() as AnnotationInput['severity'],
    result: a.result,
    path: a.path,
    ...(a.line !== undefined ? { line: a.line } : {}),
    ...(a.link !== undefined ? { link: a.link } : {}),
  };
}
