import { BitbucketApiError, BitbucketInputError, BitbucketProtocolError } from '../../bitbucket/errors.ts';
import type { Annotation, BuildStatus, ChangeTarget, CodeHost, PullRequestInfo, PullRequestSide, RepoRef, Report, ReportDataItem } from '../../core/code-host.ts';
import { segment, type DatacenterClient } from './client.ts';
import { datacenterLinks } from './links.ts';
import { datacenterRepositoryHost } from './repositories.ts';
import { activitySchema, browseEntrySchema, browseSchema, changeSchema, commentSchema, commitSchema, minimalRefSchema, pullRequestSchema, type DcPullRequest } from './schemas.ts';

/**
 * Bitbucket Data Center behind the code-host interface. A repository's `workspace` is its
 * project key. Data Center's own limits apply here: 6 report data fields, 2,000 characters of
 * details and of annotation message, LOW/MEDIUM/HIGH, annotations replaced as a set in batches.
 */

export const DC_LIMITS = {
  reportData: 6,
  reportDetails: 2_000,
  annotationMessage: 2_000,
  annotationsPerRequest: 1_000,
  buildUrl: 450,
  /** Comment edits that meet a newer version (409) before giving up: each re-reads the version. */
  commentEditAttempts: 3,
} as const;

const SEVERITY = { critical: 'HIGH', high: 'HIGH', medium: 'MEDIUM', low: 'LOW' } as const;
/** Data Center has no STOPPED: CANCELLED reads the same ("not built") and blocks a required-build check. */
const BUILD_STATE = { INPROGRESS: 'INPROGRESS', SUCCESSFUL: 'SUCCESSFUL', FAILED: 'FAILED', STOPPED: 'CANCELLED' } as const;

/** `instanceId` names the instance in repository identities (`{dc-<instanceId>-<id>}`, as its webhooks give them). */
export function datacenterCodeHost(client: DatacenterClient, instanceId: string): CodeHost {
  const repoPath = (repo: RepoRef) => `api/latest/projects/${segment(repo.workspace, 'project key')}/repos/${segment(repo.slug, 'repository slug')}`;
  const prPath = (repo: RepoRef, prId: number) => `${repoPath(repo)}/pull-requests/${positiveInt(prId, 'pull request id')}`;
  const reportPath = (repo: RepoRef, commit: string, key: string) =>
    `insights/latest/projects/${segment(repo.workspace, 'project key')}/repos/${segment(repo.slug, 'repository slug')}/commits/${commitHash(commit)}/reports/${segment(key, 'report key')}`;

  /** What `head` adds over `base` from their merge base, as Cloud's `head..base` does. */
  const since = async (repo: RepoRef, target: Exclude<ChangeTarget, { pullRequestId: number }>): Promise<string | undefined> => {
    if (target.base === null) return undefined;
    if (target.direct) return target.base;
    const url = client.url(`${repoPath(repo)}/commits/${commitHash(target.head)}/merge-base`, { otherCommitId: commitHash(target.base) });
    // 204 (no body): no common ancestor; `head` against `base` itself is then the closest answer.
    return (await client.getJson(commitSchema.optional(), url))?.id ?? target.base;
  };

  return {
    ...datacenterLinks(client.webBase),
    repositories: datacenterRepositoryHost(client, instanceId),

    async getPullRequest(repo, prId) {
      return pullRequestInfo(await client.getJson(pullRequestSchema, client.url(prPath(repo, prId))));
    },

    async resolveCommit(repo, hash) {
      const commit = await client.getJson(commitSchema, client.url(`${repoPath(repo)}/commits/${commitHash(hash)}`));
      if (!/^[0-9a-f]{40}$/.test(commit.id) || !commit.id.startsWith(hash)) throw new BitbucketProtocolError('GET', `commits/${hash}`, 'answered without the commit asked for');
      return commit.id;
    },

    async getRepository(repo) {
      const ref = await client.getJson(minimalRefSchema, client.url(`${repoPath(repo)}/default-branch`));
      return { mainBranch: ref.displayId };
    },

    async streamDiff(repo, target) {
      if ('pullRequestId' in target) return client.stream(client.url(`${prPath(repo, target.pullRequestId)}.diff`));
      return client.stream(client.url(`${repoPath(repo)}/diff`, { until: commitHash(target.head), since: await since(repo, target) }));
    },

    async *changedFiles(repo, target) {
      const url =
        'pullRequestId' in target
          ? client.url(`${prPath(repo, target.pullRequestId)}/changes`)
          : client.url(`${repoPath(repo)}/commits/${commitHash(target.head)}/changes`, { since: await since(repo, target), withComments: false });
      for await (const change of client.paged(changeSchema, url)) {
        const newPath = change.path.components.join('/');
        const oldPath = change.srcPath?.components.join('/') ?? null;
        const type = (change as { type?: unknown }).type;
        yield { oldPath: type === 'ADD' ? null : (oldPath ?? newPath), newPath: type === 'DELETE' ? null : newPath };
      }
    },

    async getFile(repo, commit, path, options = {}) {
      const url = client.url(`${repoPath(repo)}/raw/${filePath(path)}`, { at: commitHash(commit) });
      try {
        return await client.getText(url, options.maxBytes);
      } catch (error) {
        if (error instanceof BitbucketApiError && error.status === 404) return null;
        throw error;
      }
    },

    async *listDirectory(repo, commit, dir) {
      const url = client.url(`${repoPath(repo)}/browse${dir === '' ? '' : `/${filePath(dir)}`}`, { at: commitHash(commit) });
      for await (const entry of client.paged(browseEntrySchema, url, (answer) => browseSchema.safeParse(answer).data?.children)) {
        const name = entry.path.components.join('/');
        if (name === '') continue;
        const path = dir === '' ? name : `${dir}/${name}`;
        if (entry.type === 'DIRECTORY') yield { path, kind: 'directory' };
        else if (entry.type === 'FILE') yield { path, kind: 'file' };
      }
    },

    async publishReport(repo, commit, { key, report, annotations }) {
      const base = reportPath(repo, commit, key);
      await client.send('PUT', client.url(base), reportBody(report), 'idempotent');
      // Replaced as a set: whatever a previous publication (or a crashed attempt) left goes first.
      await client.delete(client.url(`${base}/annotations`));
      for (let i = 0; i < annotations.length; i += DC_LIMITS.annotationsPerRequest) {
        const batch = annotations.slice(i, i + DC_LIMITS.annotationsPerRequest).map(annotationBody);
        // Not retried blindly: a failed batch fails the job, whose retry deletes and posts again.
        await client.send('POST', client.url(`${base}/annotations`), { annotations: batch }, 'at-most-once');
      }
    },

    async setBuildStatus(repo, commit, status) {
      await client.send('POST', client.url(`${repoPath(repo)}/commits/${commitHash(commit)}/builds`), buildBody(status), 'idempotent');
    },

    async *listComments(repo, prId) {
      const seen = new Set<number>();
      for await (const activity of client.paged(activitySchema, client.url(`${prPath(repo, prId)}/activities`))) {
        const { comment } = activity;
        if (activity.action !== 'COMMENTED' || activity.commentAction !== 'ADDED' || !comment || seen.has(comment.id)) continue;
        seen.add(comment.id);
        yield { id: comment.id, text: comment.text };
      }
    },

    async createComment(repo, prId, text) {
      const created = await client.send('POST', client.url(`${prPath(repo, prId)}/comments`), { text }, 'at-most-once', commentSchema);
      return created!.id;
    },

    async editComment(repo, prId, commentId, text) {
      const url = client.url(`${prPath(repo, prId)}/comments/${positiveInt(commentId, 'comment id')}`);
      for (let attempt = 1; ; attempt++) {
        try {
          // The version is read each time: an edit must name the version it replaces.
          const { version } = await client.getJson(commentSchema, url);
          await client.send('PUT', url, { text, version }, 'idempotent');
          return true;
        } catch (error) {
          if (error instanceof BitbucketApiError && error.status === 404) return false;
          if (error instanceof BitbucketApiError && error.status === 409 && attempt < DC_LIMITS.commentEditAttempts) continue;
          throw error;
        }
      }
    },
  };
}

function pullRequestInfo(pr: DcPullRequest): PullRequestInfo {
  const side = (ref: DcPullRequest['fromRef']): PullRequestSide => ({
    repository: `${ref.repository.project.key}/${ref.repository.slug}`,
    branch: ref.id.startsWith('refs/heads/') ? ref.id.slice('refs/heads/'.length) : ref.displayId,
    commit: ref.latestCommit ?? null,
  });
  return { id: pr.id, state: pr.state, source: side(pr.fromRef), destination: side(pr.toRef), mergeCommit: pr.properties?.mergeCommit?.id ?? null };
}

function reportBody(report: Report): object {
  return {
    title: report.title,
    details: truncate(report.details, DC_LIMITS.reportDetails),
    result: report.result === 'FAILED' ? 'FAIL' : 'PASS',
    reporter: report.reporter,
    link: report.link,
    // The core lists data most important first.
    data: report.data.slice(0, DC_LIMITS.reportData).map(dataBody),
  };
}

function dataBody(item: ReportDataItem): object {
  if (item.type === 'LINK') return { title: item.title, type: 'LINK', value: { linktext: item.value.text, href: item.value.href } };
  return { title: item.title, type: item.type, value: item.value };
}

function annotationBody(a: Annotation): object {
  return {
    externalId: a.externalId,
    path: a.path,
    // 0 is Data Center's whole-file annotation.
    line: a.line ?? 0,
    message: truncate(`${a.title}: ${a.summary}`, DC_LIMITS.annotationMessage),
    severity: SEVERITY[a.severity],
    type: 'VULNERABILITY',
    ...(a.link ? { link: a.link } : {}),
  };
}

function buildBody(status: BuildStatus): object {
  return {
    key: status.key,
    state: BUILD_STATE[status.state],
    name: status.name,
    url: status.url.slice(0, DC_LIMITS.buildUrl),
    ...(status.description ? { description: status.description } : {}),
    ref: `refs/heads/${status.branch}`,
  };
}

function filePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new BitbucketInputError('a file path must not be empty');
  return parts.map((p) => segment(p, 'file path')).join('/');
}

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new BitbucketInputError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function commitHash(value: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{7,40}$/i.test(value)) throw new BitbucketInputError(`commit must be a 7 to 40 character hex hash, got ${JSON.stringify(value)}`);
  return value;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
