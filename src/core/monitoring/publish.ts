import type { Logger } from '../../log.ts';
import type { Job } from '../../store/types.ts';
import { BRANCH_REPORT_ID, BRANCH_STATUS_KEY } from '../coverage/backfill.ts';
import { policyOf } from '../policy.ts';
import { buildAnnotations, buildReport, postStatus, publishReport } from '../publish.ts';
import type { JobOutcome } from '../worker.ts';
import { PermanentJobError } from '../worker.ts';
import { scanRecord, targetOf, type WorkflowDeps } from '../workflows/context.ts';
import { withTriage, type MonitorPublishPayload } from './reevaluate.ts';

/**
 * The job advisory monitoring queues when a default branch's verdict changed: the branch's
 * Code Insights report (`gatehouse-branch`) and build status on the evaluated commit are
 * replaced with the re-evaluated findings (the whole-branch scan's secrets at that commit,
 * if it had one, and the dependency findings as of the new database), and the change is
 * marked published. A newer evaluation of another commit makes this one moot.
 */
export async function publishVerdictChange(deps: WorkflowDeps, job: Job, log: Logger): Promise<JobOutcome | void> {
  const payload = job.payload as Partial<MonitorPublishPayload>;
  if (typeof payload?.repoUuid !== 'string' || typeof payload.commit !== 'string') throw new PermanentJobError('monitoring job without repoUuid and commit');
  const state = await deps.results.getAdvisoryState(job.clientKey, payload.repoUuid);
  if (!state || state.commit !== payload.commit) return { skipped: 'the branch was evaluated again at another commit' };
  const repo = await deps.results.getRepository(job.clientKey, payload.repoUuid);
  if (!repo || repo.deletedAt !== null) return { skipped: 'the repository is gone' };

  const policy = await policyOf(deps.results, job.clientKey);
  const scan = await deps.results.getScan(job.clientKey, state.repoUuid, state.commit, 'branch');
  const marks = new Map((await deps.results.listTriage(job.clientKey, state.repoUuid)).map((m) => [m.fingerprint, m]));
  const findings = withTriage([...(scan?.findings ?? []).filter((f) => f.kind === 'secret'), ...state.findings], marks);
  const fresh = state.findings.filter((f) => f.newAdvisory).length;
  const record = scanRecord(
    {
      findings,
      skipped: scan?.skipped ?? [],
      notices: [
        `Re-evaluated after an OSV database update (${state.dbVersion}) without a new commit${fresh > 0 ? `: ${fresh} finding(s) from newly published or changed advisories` : ''}.`,
        ...(scan ? [] : ['Secrets: this commit was not scanned as a whole branch; its pushes were scanned as they came.']),
      ],
      durationMs: 0,
    },
    { clientKey: job.clientKey, repoUuid: state.repoUuid, commit: state.commit, kind: 'branch', prId: null, policy, at: deps.now() },
  );
  const target = await targetOf(deps, job, repo.fullName);
  const link = target.host.commitUrl(target, state.commit);
  await publishReport(target, state.commit, buildReport(record, policy, link, `Branch ${state.branch} at ${state.commit.slice(0, 12)}`), buildAnnotations(record.findings, policy), new Set(), BRANCH_REPORT_ID);
  await postStatus(target, state.commit, {
    key: BRANCH_STATUS_KEY,
    state: record.result === 'FAILED' ? 'FAILED' : 'SUCCESSFUL',
    description: record.result === 'FAILED' ? `${record.counts.new} finding(s) on ${state.branch} at or above ${policy.threshold} (advisories updated)` : `No blocking findings on ${state.branch} (advisories updated)`,
    url: link,
    branch: state.branch,
  });

  // Marked on the latest state: a re-evaluation may have replaced it meanwhile.
  const latest = await deps.results.getAdvisoryState(job.clientKey, state.repoUuid);
  if (latest && latest.commit === state.commit) {
    const at = deps.now().toISOString();
    await deps.results.putAdvisoryState({ ...latest, changes: latest.changes.map((c) => (c.publishedAt === null ? { ...c, publishedAt: at } : c)) });
  }
  log.info({ repo: repo.fullName, commit: state.commit, result: record.result }, 'default branch report and status updated after an OSV update');
}
