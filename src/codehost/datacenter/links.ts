import type { CodeHostLinks, RepoRef } from '../../core/code-host.ts';
import { encodePath } from '../encode-path.ts';

/**
 * Bitbucket Data Center's pages under an instance's base URL (context path included, no
 * trailing slash): `/projects/{KEY}/repos/{slug}/...`. The source view takes the commit as
 * `?at=` and the line as the bare fragment.
 */
export function datacenterLinks(baseUrl: string): CodeHostLinks {
  const web = baseUrl.replace(/\/+$/, '');
  const page = (repo: RepoRef) => `${web}/projects/${encodeURIComponent(repo.workspace)}/repos/${encodeURIComponent(repo.slug)}`;
  return {
    pullRequestUrl: (repo, prId) => `${page(repo)}/pull-requests/${prId}`,
    commitUrl: (repo, commit) => `${page(repo)}/commits/${commit}`,
    sourceUrl: (repo, commit, path, line) => `${page(repo)}/browse/${encodePath(path)}?at=${encodeURIComponent(commit)}${line > 0 ? `#${line}` : ''}`,
  };
}
