import type { Logger } from '../../log.ts';
import type { Job } from '../../store/types.ts';
import { policyOf } from '../policy.ts';
import { annotationId, buildAnnotations, buildReport, postStatus, publishReport } from '../publish.ts';
import type { JobOutcome } from '../worker.ts';
import { fullHash, scanChange, scanRecord, targetOf, type WorkflowDeps } from './context.ts';
import { refreshInventory } from './inventory.ts';
import { pushEvent } from './payload.ts';

/**
 * Push results have their own report id and status key: a branch with an open pull request
 * gets both a push and a PR scan of the same head, and neither may overwrite the other.
 */
export const PUSH_REPORT_ID = 'gatehouse-push';
export const PUSH_STATUS_KEY = 'gatehouse-push';

/**
 * Commits were pushed: scan what each updated branch gained (old head to new head; for a
 * new branch, its head commit) for secrets and vulnerable packages, publish a report and a
 * status on the new head, and on the main branch refresh the dependency inventory and SBOM.
 */
export async function scanPush(deps: WorkflowDeps, job: Job, log: Logger): Promise<JobOutcome | void> {
  const event = pushEvent(job.payload);
  const branches = event.changes.filter((c) => c.kind === 'branch' && c.after !== null);
  if (branches.length === 0) return { skipped: 'no branch gained commits (tags or deletions only)' };
  const fullName = event.repository.fullName;
  const target = await targetOf(deps, job, fullName);
  const repoUuid = event.repository.uuid;
  const policy = await policyOf(deps.results, job.clientKey);
  let mainBranch: string | undefined;

  for (const change of branches) {
    const head = await fullHash(target, change.after!);
    const base = change.before ? await fullHash(target, change.before) : null;
    const link = target.host.commitUrl(target, head);
    const previous = await deps.results.getScan(job.clientKey, repoUuid, head, 'push');
    if (!previous) {
      await postStatus(target, head, { key: PUSH_STATUS_KEY, state: 'INPROGRESS', description: 'Scanning pushed commits', url: link, branch: change.name });
      const scanned = await scanChange(deps, { target, clientKey: job.clientKey, repoUuid, head, base, policy });
      const scan = { ...scanRecord(scanned, { clientKey: job.clientKey, repoUuid, commit: head, kind: 'push', prId: null, policy, at: deps.now() }), branch: change.name };
      await deps.results.putScan(scan);
      await publishReport(target, head, buildReport(scan, policy, link, `Commit ${head.slice(0, 12)}`), buildAnnotations(scan.findings, policy), new Set(), PUSH_REPORT_ID);
      await postStatus(target, head, {
        key: PUSH_STATUS_KEY,
        state: scan.result === 'FAILED' ? 'FAILED' : 'SUCCESSFUL',
        description: scan.result === 'FAILED' ? `${scan.counts.new} new finding(s) in the pushed commits` : 'No blocking findings in the pushed commits',
        url: link,
        branch: change.name,
      });
      log.info({ branch: change.name, commit: head, result: scan.result }, 'push results published');
    } else {
      // A rerun after a crash: publish again what was found (idempotent), without scanning again.
      const ids = new Set(previous.findings.map(annotationId));
      await publishReport(target, head, buildReport(previous, policy, link, `Commit ${head.slice(0, 12)}`), buildAnnotations(previous.findings, policy), ids, PUSH_REPORT_ID);
      await postStatus(target, head, { key: PUSH_STATUS_KEY, state: previous.result === 'FAILED' ? 'FAILED' : 'SUCCESSFUL', url: link, branch: change.name });
    }

    mainBranch ??= (await target.host.getRepository(target)).mainBranch ?? '';
    if (change.name === mainBranch) {
      await refreshInventory(deps, { target, clientKey: job.clientKey, repoUuid, fullName, branch: change.name, commit: head, acceptedAt: job.createdAt }, log);
    }
  }
}

/**
 * A push scan gave up for good: every head it may have marked INPROGRESS and did not finish
 * gets STOPPED instead, so the commit does not show a scan that never ends.
 */
export async function stopPushScan(deps: WorkflowDeps, job: Job, reason: string): Promise<void> {
  const event = pushEvent(job.payload);
  const target = await targetOf(deps, job, event.repository.fullName);
  for (const change of event.changes.filter((c) => c.kind === 'branch' && c.after !== null)) {
    const head = await fullHash(target, change.after!);
    if (await deps.results.getScan(job.clientKey, event.repository.uuid, head, 'push')) continue;
    const description = `Gatehouse could not finish the scan (${reason}); push again to retry`;
    await postStatus(target, head, { key: PUSH_STATUS_KEY, state: 'STOPPED', description, url: target.host.commitUrl(target, head), branch: change.name });
  }
}
