import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../../log.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Job, Store } from '../../store/types.ts';
import { pullRequestGroup } from '../events.ts';
import { policyOf } from '../policy.ts';
import { PermanentJobError, type JobOutcome } from '../worker.ts';
import { applyTriage, newerJobInGroup, scanRecord, targetOf, type WorkflowDeps } from './context.ts';
import { publishPullRequest, pullRequestTargets } from './pull-request.ts';

/**
 * A triage mark changed: the open pull requests of that repository show it at once, without
 * waiting for their next push. Their last scan is re-evaluated with the current marks and
 * published again (same report id, annotation ids and comment, so nothing is duplicated).
 */
export const REPUBLISH_JOB_TYPE = 'triage:republish';

const payloadSchema = z.object({ repoUuid: z.string().min(1), prId: z.number().int().positive() });

/**
 * Queues a re-publication for each open pull request of the repository that has results.
 * The Store queues jobs only with a delivery record, so each gets a delivery id of its own
 * (prefixed `gatehouse:`, never a Bitbucket request UUID). Returns how many were queued.
 */
export async function queueRepublish(store: Pick<Store, 'acceptDelivery'>, results: ResultsStore, clientKey: string, repoUuid: string): Promise<number> {
  const open = (await results.listPullRequests(clientKey, repoUuid)).filter((r) => r.state === 'OPEN' && r.publishedCommit !== null);
  for (const record of open) {
    await store.acceptDelivery(
      { id: `gatehouse:triage:${randomUUID()}`, clientKey, event: 'gatehouse:triage' },
      { clientKey, type: REPUBLISH_JOB_TYPE, payload: { repoUuid, prId: record.prId }, group: pullRequestGroup(repoUuid, record.prId) },
    );
  }
  return open.length;
}

export async function republishPullRequest(deps: WorkflowDeps, job: Job, log: Logger): Promise<JobOutcome | void> {
  const parsed = payloadSchema.safeParse(job.payload);
  if (!parsed.success) throw new PermanentJobError('job payload is not a re-publication request');
  const { repoUuid, prId } = parsed.data;
  const newer = await newerJobInGroup(deps, job);
  if (newer) return { skipped: `job ${newer.id} scans the pull request again and applies the marks` };
  const record = await deps.results.getPullRequest(job.clientKey, repoUuid, prId);
  const commit = record?.publishedCommit;
  const previous = commit ? await deps.results.getScan(job.clientKey, repoUuid, commit, 'pull_request', prId) : undefined;
  if (!record || record.state !== 'OPEN' || !commit || !previous) return { skipped: 'no published results of an open pull request' };

  const target = await targetOf(deps, job, record.repoFullName);
  const pr = await target.host.getPullRequest(target, prId);
  const head = pr.source.commit ?? '';
  if (pr.state !== 'OPEN' || head === '' || !commit.startsWith(head)) return { skipped: 'the pull request moved on; its next scan applies the marks' };

  const policy = await policyOf(deps.results, job.clientKey);
  const findings = await applyTriage(deps, job.clientKey, repoUuid, previous.findings);
  const scan = scanRecord(
    { findings, skipped: previous.skipped, notices: previous.notices, configChanges: previous.configChanges ?? [], durationMs: previous.durationMs, ...(previous.unfinished ? { unfinished: previous.unfinished } : {}) },
    { clientKey: job.clientKey, repoUuid, commit, kind: 'pull_request', prId, policy, at: deps.now() },
  );
  await publishPullRequest(deps, {
    target: pullRequestTargets(target, pr),
    fullName: record.repoFullName,
    sourceBranch: record.sourceBranch,
    destinationBranch: record.destinationBranch,
    link: target.host.pullRequestUrl(target, prId),
    scan,
    policy,
    previous,
    record,
  });
  log.info({ prId, commit, result: scan.result }, 'results re-published after a triage change');
}
