import type { CommitInfo } from './git.ts';
import { fullName, short } from './model.ts';
import type { Account, BuildStatus, PullRequest, PullRequestComment, Repository, Workspace } from './model.ts';

/**
 * JSON shapes of Bitbucket Cloud resources, as they appear both in REST answers and inside
 * webhook payloads (modelled on the captured payloads in ../shared/reference/payloads/cloud).
 */

export interface Origins {
  /** Web origin, the installation's baseUrl. */
  web: string;
  /** API origin, the installation's baseApiUrl (without `/2.0`). */
  api: string;
}

const href = (url: string) => ({ href: url });

export class Resources {
  constructor(private readonly origins: Origins) {}

  private api(path: string): string {
    return `${this.origins.api}/2.0${path}`;
  }

  private web(path: string): string {
    return `${this.origins.web}${path}`;
  }

  account(a: Account) {
    const id = encodeURIComponent(a.uuid);
    return {
      display_name: a.display_name,
      uuid: a.uuid,
      links: {
        self: href(this.api(`/users/${id}`)),
        html: href(this.web(`/${id}/`)),
        avatar: href(this.web(`/account/${id}/avatar/`)),
      },
      type: 'user',
      nickname: a.nickname,
      account_id: a.account_id,
    };
  }

  workspace(w: Workspace) {
    return {
      slug: w.slug,
      type: 'workspace',
      name: w.name,
      links: {
        self: href(this.api(`/workspaces/${w.slug}`)),
        html: href(this.web(`/${w.slug}/`)),
        avatar: href(this.web(`/workspaces/${w.slug}/avatar/`)),
      },
      uuid: w.uuid,
    };
  }

  /** The short form found in pull-request source/destination. */
  repositoryRef(r: Repository) {
    return {
      links: this.repoLinks(r),
      type: 'repository',
      name: r.slug,
      full_name: fullName(r),
      uuid: r.uuid,
    };
  }

  /** The repository as webhooks carry it; `repositoryFull` adds the fields REST answers have. */
  repository(r: Repository) {
    return {
      scm: 'git',
      website: null,
      uuid: r.uuid,
      links: this.repoLinks(r),
      full_name: fullName(r),
      owner: {
        username: r.workspace.slug,
        display_name: r.workspace.name,
        type: 'team',
        uuid: r.workspace.uuid,
        links: {
          self: href(this.api(`/workspaces/${encodeURIComponent(r.workspace.uuid)}`)),
          html: href(this.web(`/${encodeURIComponent(r.workspace.uuid)}/`)),
          avatar: href(this.web(`/account/${r.workspace.slug}/avatar/`)),
        },
      },
      workspace: this.workspace(r.workspace),
      project: {
        links: { self: href(this.api(`/workspaces/${r.workspace.slug}/projects/${r.project?.key ?? 'PROJ'}`)), html: href(this.web(`/${r.workspace.slug}/workspace/projects/${r.project?.key ?? 'PROJ'}`)) },
        type: 'project',
        name: r.project?.name ?? 'Default project',
        key: r.project?.key ?? 'PROJ',
        uuid: r.workspace.uuid,
      },
      type: 'repository',
      is_private: r.isPrivate ?? true,
      name: r.slug,
    };
  }

  repositoryFull(r: Repository) {
    return {
      ...this.repository(r),
      slug: r.slug,
      // Bitbucket answers null for a repository without any branch; the model says so with ''.
      mainbranch: r.mainBranch ? { name: r.mainBranch, type: 'branch' } : null,
      created_on: r.createdOn,
      updated_on: r.updatedOn,
      size: r.sizeBytes ?? 0,
      language: r.language ?? '',
    };
  }

  private repoLinks(r: Repository) {
    return {
      self: href(this.api(`/repositories/${fullName(r)}`)),
      html: href(this.web(`/${fullName(r)}`)),
      avatar: href(this.web(`/${fullName(r)}/avatar/32/`)),
    };
  }

  commitRef(r: Repository, hash: string) {
    return {
      hash,
      type: 'commit',
      links: {
        self: href(this.api(`/repositories/${fullName(r)}/commit/${hash}`)),
        html: href(this.web(`/${fullName(r)}/commits/${hash}`)),
      },
    };
  }

  /** A commit in full, as in `push.changes[].commits` and GET commit/{hash}. */
  commit(r: Repository, c: CommitInfo, author?: Account) {
    const base = `/repositories/${fullName(r)}`;
    const summary = { raw: `${c.message}\n`, markup: 'markdown', html: `<p>${escapeHtml(c.message)}</p>`, type: 'rendered' };
    return {
      rendered: {},
      hash: c.hash,
      links: {
        self: href(this.api(`${base}/commit/${c.hash}`)),
        comments: href(this.api(`${base}/commit/${c.hash}/comments`)),
        patch: href(this.api(`${base}/patch/${c.hash}`)),
        html: href(this.web(`/${fullName(r)}/commits/${c.hash}`)),
        diff: href(this.api(`${base}/diff/${c.hash}`)),
        approve: href(this.api(`${base}/commit/${c.hash}/approve`)),
        statuses: href(this.api(`${base}/commit/${c.hash}/statuses`)),
      },
      author: {
        raw: `${c.authorName} <${c.authorEmail}>`,
        type: 'author',
        ...(author ? { user: this.account(author) } : {}),
      },
      summary,
      parents: c.parents.map((p) => this.commitRef(r, p)),
      date: c.date,
      message: `${c.message}\n`,
      type: 'commit',
      properties: {},
    };
  }

  /** A branch as in `push.changes[].new`/`old`. */
  branch(r: Repository, name: string, target: ReturnType<Resources['commit']>) {
    const base = `/repositories/${fullName(r)}`;
    return {
      name,
      links: {
        commits: href(this.api(`${base}/commits/${encodeURIComponent(name)}`)),
        self: href(this.api(`${base}/refs/branches/${encodeURIComponent(name)}`)),
        html: href(this.web(`/${fullName(r)}/branch/${encodeURIComponent(name)}`)),
      },
      default_merge_strategy: 'merge_commit',
      merge_strategies: ['merge_commit', 'squash', 'fast_forward'],
      type: 'branch',
      target,
    };
  }

  pullRequest(r: Repository, pr: PullRequest) {
    const base = `/repositories/${fullName(r)}`;
    const pra = `${base}/pullrequests/${pr.id}`;
    const sourceRepo = pr.sourceRepository ?? r;
    const spec = `${fullName(sourceRepo)}:${short(pr.sourceHash)}%0D${short(pr.destinationHash)}?from_pullrequest_id=${pr.id}`;
    const text = (raw: string) => ({ raw, markup: 'markdown', html: raw ? `<p>${escapeHtml(raw)}</p>` : '', type: 'rendered' });
    return {
      rendered: { description: text(pr.description), title: text(pr.title) },
      type: 'pullrequest',
      description: pr.description,
      links: {
        decline: href(this.api(`${pra}/decline`)),
        diffstat: href(this.api(`${base}/diffstat/${spec}`)),
        commits: href(this.api(`${pra}/commits`)),
        self: href(this.api(pra)),
        comments: href(this.api(`${pra}/comments`)),
        merge: href(this.api(`${pra}/merge`)),
        html: href(this.web(`/${fullName(r)}/pull-requests/${pr.id}`)),
        activity: href(this.api(`${pra}/activity`)),
        'request-changes': href(this.api(`${pra}/request-changes`)),
        diff: href(this.api(`${base}/diff/${spec}`)),
        approve: href(this.api(`${pra}/approve`)),
        statuses: href(this.api(`${pra}/statuses`)),
      },
      title: pr.title,
      close_source_branch: false,
      reviewers: [],
      id: pr.id,
      destination: {
        commit: this.commitRef(r, short(pr.destinationHash)),
        repository: this.repositoryRef(r),
        branch: { name: pr.destinationBranch },
      },
      created_on: pr.createdOn,
      summary: text(pr.description),
      source: {
        commit: this.commitRef(sourceRepo, short(pr.sourceHash)),
        repository: this.repositoryRef(sourceRepo),
        branch: { name: pr.sourceBranch },
      },
      comment_count: pr.comments.length,
      state: pr.state,
      task_count: 0,
      participants: [],
      reason: '',
      updated_on: pr.updatedOn,
      author: this.account(pr.author),
      merge_commit: pr.mergeHash ? this.commitRef(r, short(pr.mergeHash)) : null,
      closed_by: pr.closedBy ? this.account(pr.closedBy) : null,
      draft: false,
      queued: false,
    };
  }

  comment(r: Repository, pr: PullRequest, c: PullRequestComment) {
    const self = `/repositories/${fullName(r)}/pullrequests/${pr.id}/comments/${c.id}`;
    return {
      id: c.id,
      created_on: c.createdOn,
      updated_on: c.updatedOn,
      content: { type: 'rendered', raw: c.raw, markup: 'markdown', html: `<p>${escapeHtml(c.raw)}</p>` },
      user: this.account(c.user),
      deleted: false,
      ...(c.inline ? { inline: c.inline } : {}),
      type: 'pullrequest_comment',
      links: {
        self: href(this.api(self)),
        html: href(this.web(`/${fullName(r)}/pull-requests/${pr.id}/_/diff#comment-${c.id}`)),
      },
      pullrequest: { type: 'pullrequest', id: pr.id, title: pr.title, links: { self: href(this.api(`/repositories/${fullName(r)}/pullrequests/${pr.id}`)) } },
    };
  }

  buildStatus(r: Repository, commit: string, s: BuildStatus) {
    const base = `/repositories/${fullName(r)}/commit/${commit}`;
    return {
      ...s.body,
      key: s.key,
      type: 'build',
      created_on: s.createdOn,
      updated_on: s.updatedOn,
      commit: this.commitRef(r, commit),
      repository: this.repositoryRef(r),
      links: { self: href(this.api(`${base}/statuses/build/${encodeURIComponent(s.key)}`)), commit: href(this.api(base)) },
    };
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
