import type { CommitInfo } from './git.ts';
import { fullName } from './model.ts';
import type { Account, PullRequest, Repository } from './model.ts';
import type { Resources } from './resources.ts';

/**
 * Webhook bodies in the shapes Bitbucket Cloud sends (see the captured deliveries in
 * ../shared/reference/payloads/cloud): `repository` + `actor` everywhere, `push.changes[]`
 * with full 40-character hashes, `pullrequest` with 12-character ones.
 */

/** Bitbucket lists at most five commits per change and marks the rest as truncated. */
const MAX_COMMITS_PER_CHANGE = 5;

export interface BranchMove {
  branch: string;
  oldHash: string | null;
  newHash: string | null;
  /** Commit details for new..old, newest first. */
  commits: CommitInfo[];
  newTip: CommitInfo | null;
  oldTip: CommitInfo | null;
}

export function pushPayload(res: Resources, origins: { web: string; api: string }, repo: Repository, actor: Account, move: BranchMove) {
  const base = `${origins.api}/2.0/repositories/${fullName(repo)}`;
  const ref = (tip: CommitInfo | null) => (tip ? res.branch(repo, move.branch, res.commit(repo, tip)) : null);
  const links: Record<string, { href: string }> = {
    html: { href: `${origins.web}/${fullName(repo)}/branch/${encodeURIComponent(move.branch)}` },
  };
  if (move.newHash) {
    links.commits = { href: `${base}/commits?include=${move.newHash}${move.oldHash ? `&exclude=${move.oldHash}` : ''}` };
  }
  if (move.newHash && move.oldHash) {
    links.diff = { href: `${base}/diff/${move.newHash}..${move.oldHash}` };
    links.html = { href: `${origins.web}/${fullName(repo)}/branches/compare/${move.newHash}..${move.oldHash}` };
  }
  return {
    push: {
      changes: [
        {
          forced: false,
          old: ref(move.oldTip),
          new: ref(move.newTip),
          links,
          created: move.oldHash === null,
          closed: move.newHash === null,
          truncated: move.commits.length > MAX_COMMITS_PER_CHANGE,
          commits: move.commits.slice(0, MAX_COMMITS_PER_CHANGE).map((c) => res.commit(repo, c)),
        },
      ],
    },
    actor: res.account(actor),
    repository: res.repository(repo),
  };
}

export function pullRequestPayload(res: Resources, repo: Repository, pr: PullRequest, actor: Account) {
  return {
    pullrequest: res.pullRequest(repo, pr),
    actor: res.account(actor),
    repository: res.repository(repo),
  };
}
