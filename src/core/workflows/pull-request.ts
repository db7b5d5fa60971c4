import { BitbucketApiError } from '../../bitbucket/errors.ts';
import type { PullRequestInfo } from '../code-host.ts';
import type { Logger } from '../../log.ts';
import type { Policy, PullRequestRecord, ScanRecord } from '../../store/results-types.ts';
import type { Job } from '../../store/types.ts';
import type { PullRequestEvent } from '../events.ts';
import { renderComment } from '../comment.ts';
import { policyOf } from '../policy.ts';
import { annotationId, buildAnnotations, buildReport, postStatus, publishReport, upsertComment, type Target } from '../publish.ts';
import type { JobOutcome } from '../worker.ts';
import { refreshInventory } from './inventory.ts';
import { fullHash, newerJobInGroup, scanChange, scanRecord, splitFullName, targetOf, type WorkflowDeps } from './context.ts';
import { pullRequestEvent } from './payload.ts';

/**
 * Where a pull request's parts live. The PR itself (diff, comments) is in the destination
 * repository; its source commit, and so the files at it and the Code Insights report and build
 * status on it, are in the source repository, which for a PR from a fork is the fork: reports and
 * statuses are stored per repository and commit, and the destination repository does not even
 * resolve a fork's commits (it answers 404).
 */
export interface PullRequestTargets {
  destination: Target;
  source: Target;
  fork: boolean;
}

export function pullRequestTargets(destination: Target, pr: PullRequestInfo, event?: PullRequestEvent): PullRequestTargets {
  // By UUID first: a Forge tenant names the destination `{workspace-uuid}/{repo-uuid}` while
  // Bitbucket names the source by slug, and the two are still the same repository.
  const sourceUuid = pr.source.repositoryUuid?.toLowerCase();
  const destinationUuid = (pr.destination.repositoryUuid ?? event?.repository.uuid)?.toLowerCase();
  if (sourceUuid && sourceUuid === destinationUuid) return { destination, source: destination, fork: false };
  const sourceName = pr.source.repository ?? event?.pullRequest.source.repository?.fullName;
  const destinationName = `${destination.workspace}/${destination.slug}`;
  if (!sourceName || sourceName.toLowerCase() === destinationName.toLowerCase()) return { destination, source: destination, fork: false };
  return { destination, source: { host: destination.host, ...splitFullName(sourceName) }, fork: true };
}

/**
 * A pull request was opened or updated: scan its current head against its destination and
 * publish the report, annotations, build status and the one summary comment.
 *
 * Always the PR's current head, read from Bitbucket, not the commit in the event: a job that
 * ran late can then only publish the newest results, never older ones. The head is read
 * again just before publishing; if it moved meanwhile the job stops, and the job of the
 * newer push publishes.
 */
export async function scanPullRequest(deps: WorkflowDeps, job: Job, log: Logger): Promise<JobOutcome | void> {
  const event = pullRequestEvent(job.payload);
  const newer = await newerJobInGroup(deps, job);
  if (newer) return { skipped: `superseded by job ${newer.id} for the same pull request` };

  const fullName = event.repository.fullName;
  const target = await targetOf(deps, job, fullName);
  const prId = event.pullRequest.id;
  const pr = await target.host.getPullRequest(target, prId);
  const sides = pullRequestTargets(target, pr, event);
  const record = await deps.results.getPullRequest(job.clientKey, event.repository.uuid, prId);
  if (pr.state !== 'OPEN') {
    await recordState(deps, job.clientKey, event, pr, record);
    return { skipped: `pull request is ${pr.state ?? 'closed'}` };
  }
  const sourceBranch = pr.source.branch ?? event.pullRequest.source.branch;
  const link = target.host.pullRequestUrl(target, prId);
  const head = await sourceHead(sides, requireHash(pr.source.commit, 'source'));
  if (head === null) return unscannableFork(deps, { clientKey: job.clientKey, target, event, pr, record, fork: sides.source, sourceBranch });
  const base = await fullHash(target, requireHash(pr.destination.commit, 'destination'));
  const previous = await deps.results.getScan(job.clientKey, event.repository.uuid, head, 'pull_request', prId);
  if (record?.publishedCommit === head && previous) return { skipped: `results for ${head.slice(0, 12)} already published` };

  const policy = await policyOf(deps.results, job.clientKey);
  const destinationBranch = pr.destination.branch ?? event.pullRequest.destination.branch;
  if (previous && publicationCutShort(previous, record)) {
    // This job stored that scan, started publishing it and died before recording it (kill -9
    // between the report PUT and the record): publish the same scan again, so whatever of
    // it reached Bitbucket is repeated as it was (same report, same status, the comment
    // found by its marker and edited), never replaced by a different rescan's.
    await publishPullRequest(deps, { target: sides, fullName, sourceBranch, destinationBranch, link, scan: previous, policy, previous, record });
    log.info({ prId, commit: head, result: previous.result }, 'interrupted publication of pull request results finished');
    return;
  }
  await postStatus(sides.source, head, { state: 'INPROGRESS', description: 'Scanning for secrets and vulnerable dependencies', url: link, branch: sourceBranch });
  const scanned = await scanChange(deps, {
    target: sides.source,
    clientKey: job.clientKey,
    repoUuid: event.repository.uuid,
    head,
    base,
    policy,
    ...(sides.fork ? { fork: { destination: target, pullRequestId: prId } } : {}),
    configFromBase: true,
  });

  const now = await target.host.getPullRequest(target, prId);
  const nowHead = now.source.commit ?? '';
  if (now.state !== 'OPEN' || !head.startsWith(nowHead) || nowHead === '') {
    await postStatus(sides.source, head, { state: 'STOPPED', description: 'Superseded by a newer commit', url: link, branch: sourceBranch });
    return { skipped: `pull request moved on (head ${nowHead.slice(0, 12) || 'unknown'}, state ${now.state}) while ${head.slice(0, 12)} was scanned` };
  }

  const scan = scanRecord(scanned, { clientKey: job.clientKey, repoUuid: event.repository.uuid, commit: head, kind: 'pull_request', prId, policy, at: deps.now() });
  await publishPullRequest(deps, {
    target: sides,
    fullName,
    sourceBranch,
    destinationBranch,
    link,
    scan,
    policy,
    previous,
    record,
  });
  log.info({ prId, commit: head, result: scan.result, findings: scan.findings.length }, 'pull request results published');
}

/**
 * The scan of this head was stored (the first step of publishing it) after the pull
 * request's record last changed, and the record does not name it as published: the
 * publication was cut short. A scan of a head published earlier and then left (pushed away
 * from and back to) is older than the record, and is scanned again instead.
 */
function publicationCutShort(stored: ScanRecord, record: PullRequestRecord | undefined): boolean {
  return record === undefined || (record.publishedCommit !== stored.commit && stored.createdAt > record.updatedAt);
}

/**
 * A PR scan gave up for good: its INPROGRESS build status must not spin forever, and must
 * not read as a pass either. STOPPED on the PR's current head says "not scanned", which
 * merge checks that require a successful build treat as a block.
 */
export async function stopPullRequestScan(deps: WorkflowDeps, job: Job, reason: string): Promise<void> {
  const event = pullRequestEvent(job.payload);
  const target = await targetOf(deps, job, event.repository.fullName);
  const pr = await target.host.getPullRequest(target, event.pullRequest.id);
  if (pr.state !== 'OPEN') return;
  const sides = pullRequestTargets(target, pr, event);
  const head = await sourceHead(sides, requireHash(pr.source.commit, 'source'));
  // A fork the installation cannot read cannot carry a status either; the PR comment said so.
  if (head === null) return;
  await postStatus(sides.source, head, {
    state: 'STOPPED',
    description: `Gatehouse could not finish the scan (${reason}); push again to retry`,
    url: target.host.pullRequestUrl(target, event.pullRequest.id),
    branch: pr.source.branch ?? event.pullRequest.source.branch,
  });
}

export interface PullRequestPublication {
  target: PullRequestTargets;
  fullName: string;
  sourceBranch: string;
  destinationBranch: string;
  link: string;
  scan: ScanRecord;
  policy: Policy;
  /** What was published on this commit before, if anything (its annotations may need removing). */
  previous: ScanRecord | undefined;
  record: PullRequestRecord | undefined;
}

/** Stores the scan and publishes it: report, annotations, build status, the one comment; then records the PR. */
export async function publishPullRequest(deps: WorkflowDeps, p: PullRequestPublication): Promise<void> {
  const { target, scan, policy, link } = p;
  const prId = scan.prId!;
  await deps.results.putScan(scan);
  const published = new Set((p.previous?.findings ?? []).map(annotationId));
  await publishReport(target.source, scan.commit, buildReport(scan, policy, link, `Pull request #${prId}`), buildAnnotations(scan.findings, policy), published);
  await postStatus(target.source, scan.commit, {
    state: scan.result === 'FAILED' ? 'FAILED' : 'SUCCESSFUL',
    description: scan.result === 'FAILED' ? `${scan.counts.new} new finding(s); fails on ${policy.threshold} or above` : 'No blocking findings',
    url: link,
    branch: p.sourceBranch,
  });
  const commentId = await upsertComment(target.destination, prId, p.record?.commentId ?? null, renderComment({ scan, policy, previousResult: p.record?.lastResult ?? null, link }));
  await deps.results.putPullRequest({
    clientKey: scan.clientKey,
    repoUuid: scan.repoUuid,
    repoFullName: p.fullName,
    prId,
    state: 'OPEN',
    sourceBranch: p.sourceBranch,
    destinationBranch: p.destinationBranch,
    publishedCommit: scan.commit,
    commentId,
    lastResult: scan.result,
    mergeCommit: null,
    updatedAt: deps.now().toISOString(),
  });
}

/** Merged or declined: remember the state; a merge into the main branch refreshes its inventory. */
export async function closePullRequest(deps: WorkflowDeps, job: Job, log: Logger): Promise<JobOutcome | void> {
  const event = pullRequestEvent(job.payload);
  const target = await targetOf(deps, job, event.repository.fullName);
  const pr = await target.host.getPullRequest(target, event.pullRequest.id);
  const record = await deps.results.getPullRequest(job.clientKey, event.repository.uuid, event.pullRequest.id);
  const mergeShort = pr.mergeCommit ?? event.pullRequest.mergeCommit;
  const mergeCommit = event.action === 'merged' && mergeShort ? await fullHash(target, mergeShort) : null;
  await recordState(deps, job.clientKey, event, pr, record, mergeCommit);
  if (mergeCommit) {
    const repo = await target.host.getRepository(target);
    const destination = pr.destination.branch ?? event.pullRequest.destination.branch;
    if (repo.mainBranch === destination) {
      await refreshInventory(deps, { target, clientKey: job.clientKey, repoUuid: event.repository.uuid, fullName: event.repository.fullName, branch: destination, commit: mergeCommit, acceptedAt: job.createdAt }, log);
    }
  }
}

/**
 * The pull request was deleted on the code host: there is nothing left to read or publish on,
 * so no call is made; its record says DELETED (the job supersedes any scan of it still queued).
 */
export async function recordPullRequestDeleted(deps: WorkflowDeps, job: Job): Promise<JobOutcome | void> {
  const event = pullRequestEvent(job.payload);
  const record = await deps.results.getPullRequest(job.clientKey, event.repository.uuid, event.pullRequest.id);
  await deps.results.putPullRequest({
    clientKey: job.clientKey,
    repoUuid: event.repository.uuid,
    repoFullName: event.repository.fullName,
    prId: event.pullRequest.id,
    state: 'DELETED',
    sourceBranch: record?.sourceBranch ?? event.pullRequest.source.branch,
    destinationBranch: record?.destinationBranch ?? event.pullRequest.destination.branch,
    publishedCommit: record?.publishedCommit ?? null,
    commentId: record?.commentId ?? null,
    lastResult: record?.lastResult ?? null,
    mergeCommit: record?.mergeCommit ?? null,
    updatedAt: deps.now().toISOString(),
  });
}

async function recordState(
  deps: WorkflowDeps,
  clientKey: string,
  event: PullRequestEvent,
  pr: PullRequestInfo,
  record: PullRequestRecord | undefined,
  mergeCommit: string | null = null,
): Promise<void> {
  const state = pr.state === 'MERGED' || pr.state === 'DECLINED' || pr.state === 'SUPERSEDED' || pr.state === 'OPEN' ? pr.state : event.pullRequest.state;
  await deps.results.putPullRequest({
    clientKey,
    repoUuid: event.repository.uuid,
    repoFullName: event.repository.fullName,
    prId: event.pullRequest.id,
    state,
    sourceBranch: pr.source.branch ?? event.pullRequest.source.branch,
    destinationBranch: pr.destination.branch ?? event.pullRequest.destination.branch,
    publishedCommit: record?.publishedCommit ?? null,
    commentId: record?.commentId ?? null,
    lastResult: record?.lastResult ?? null,
    mergeCommit: mergeCommit ?? record?.mergeCommit ?? null,
    updatedAt: deps.now().toISOString(),
  });
}

/**
 * The full hash of the PR's head, from its source repository. Null when that is a fork the
 * installation cannot read (a fork in another workspace, private to it): then neither the
 * head's files nor its Code Insights are reachable, only the PR in the destination.
 */
async function sourceHead(sides: PullRequestTargets, hash: string): Promise<string | null> {
  try {
    return await fullHash(sides.source, hash);
  } catch (error) {
    if (sides.fork && error instanceof BitbucketApiError && (error.status === 404 || error.status === 403)) return null;
    throw error;
  }
}

/** Says on the PR why it has no results (a comment is all the destination repository takes), and records it. */
async function unscannableFork(
  deps: WorkflowDeps,
  p: { clientKey: string; target: Target; event: PullRequestEvent; pr: PullRequestInfo; record: PullRequestRecord | undefined; fork: Target; sourceBranch: string },
): Promise<JobOutcome> {
  const { event } = p;
  const commentId = await upsertComment(p.target, event.pullRequest.id, p.record?.commentId ?? null, unreadableForkComment(p.fork));
  await deps.results.putPullRequest({
    clientKey: p.clientKey,
    repoUuid: event.repository.uuid,
    repoFullName: event.repository.fullName,
    prId: event.pullRequest.id,
    state: 'OPEN',
    sourceBranch: p.sourceBranch,
    destinationBranch: p.pr.destination.branch ?? event.pullRequest.destination.branch,
    publishedCommit: null,
    commentId,
    lastResult: null,
    mergeCommit: null,
    updatedAt: deps.now().toISOString(),
  });
  return { skipped: `source repository ${p.fork.workspace}/${p.fork.slug} (a fork) is not readable with this installation` };
}

function unreadableForkComment(source: Target): string {
  return [
    '**Gatehouse did not scan this pull request.**',
    '',
    `Its source is the fork \`${source.workspace}/${source.slug}\`, which Gatehouse cannot read from this workspace, so the`,
    "changes were not checked for secrets or vulnerable dependencies and no build status was set. Push the branch to",
    'this repository, or install Gatehouse where the fork lives, to have it scanned.',
  ].join('\n');
}

function requireHash(hash: string | null, side: string): string {
  if (!hash || !/^[0-9a-f]{7,40}$/.test(hash)) throw new Error(`the code host returned the pull request without a ${side} commit hash`);
  return hash;
}
