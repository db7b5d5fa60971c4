import type { CodeHostLinks, RepoRef } from '../../core/code-host.ts';
import { encodePath } from '../encode-path.ts';

/**
 * Bitbucket Cloud's pages under its web origin (`webBaseUrl`, e.g. https://bitbucket.org).
 * Workspace and slug are encoded: a repository Forge names by `{uuid}` braces must still give a
 * URI, which a Code Insights report's link has to be.
 */
export function cloudLinks(webBaseUrl: string): CodeHostLinks {
  const web = webBaseUrl.replace(/\/+$/, '');
  const page = (repo: RepoRef) => `${web}/${encodeURIComponent(repo.workspace)}/${encodeURIComponent(repo.slug)}`;
  return {
    pullRequestUrl: (repo, prId) => `${page(repo)}/pull-requests/${prId}`,
    commitUrl: (repo, commit) => `${page(repo)}/commits/${commit}`,
    sourceUrl: (repo, commit, path, line) => `${page(repo)}/src/${commit}/${encodePath(path)}${line > 0 ? `#lines-${line}` : ''}`,
  };
}
