import { z } from 'zod';
import type { PullRequestAction, PullRequestEvent, PullRequestSide } from '../../core/events.ts';
import { actorSchema, BRANCH_PREFIX, commitHash, refSchema, repositorySchema, timestamp, toActor, toRepositoryRef } from './common.ts';
import type { Envelope, ParseResult } from './types.ts';

/**
 * `pr:opened`, `pr:from_ref_updated`, `pr:modified`, `pr:merged`, `pr:declined`,
 * `pr:deleted`: one schema, the action from the event key.
 *
 * - `pr:modified` is sent for a new title, description or target branch; only a new target
 *   changes what the pull request adds, so only that rescans (`previousTarget` names the old one).
 * - `pr:deleted`: the pull request is gone, with nothing left to publish on; its record is
 *   marked deleted (and scans of it still queued are superseded), without a call to Data Center.
 * - A pull request from a tag (Data Center allows it) has no source branch to set a build
 *   status on; acknowledged and not scanned.
 */

const side = refSchema.extend({
  latestCommit: commitHash,
  repository: repositorySchema,
});

export const pullRequestSchema = z.object({
  date: timestamp.optional(),
  actor: actorSchema.nullish(),
  pullRequest: z.object({
    id: z.number().int().positive(),
    title: z.string(),
    state: z.enum(['OPEN', 'MERGED', 'DECLINED']),
    draft: z.boolean().optional(),
    createdDate: timestamp,
    updatedDate: timestamp,
    fromRef: side,
    toRef: side,
    author: z.object({ user: actorSchema }).nullish(),
    properties: z.object({ mergeCommit: z.object({ id: commitHash }).nullish() }).nullish(),
  }),
  /** pr:modified only. */
  previousTarget: z.object({ id: z.string() }).nullish(),
});

type Payload = z.infer<typeof pullRequestSchema>;

const ACTIONS: Readonly<Record<string, PullRequestAction | 'modified'>> = {
  'pr:opened': 'opened',
  'pr:from_ref_updated': 'updated',
  'pr:modified': 'modified',
  'pr:merged': 'merged',
  'pr:declined': 'declined',
  'pr:deleted': 'deleted',
};

export const PULL_REQUEST_EVENTS: readonly string[] = Object.keys(ACTIONS);

function toSide(instanceId: string, ref: z.infer<typeof side>): PullRequestSide {
  return { branch: ref.id.slice(BRANCH_PREFIX.length), commit: ref.latestCommit, repository: toRepositoryRef(instanceId, ref.repository) };
}

function actionOf(payload: Payload, sourceEvent: string): { action: PullRequestAction } | { ignored: string } {
  const action = ACTIONS[sourceEvent];
  if (action === 'modified') {
    const previous = payload.previousTarget?.id;
    if (previous === undefined || previous === payload.pullRequest.toRef.id) return { ignored: 'title or description changed; the changes to scan did not' };
    return { action: 'updated' };
  }
  if (action === undefined) throw new Error(`not a pull request event: ${sourceEvent}`);
  return { action };
}

export function parsePullRequest(payload: Payload, envelope: Envelope): ParseResult {
  const decided = actionOf(payload, envelope.sourceEvent);
  if ('ignored' in decided) return { kind: 'ignored', reason: decided.ignored };
  const pr = payload.pullRequest;
  if (!pr.fromRef.id.startsWith(BRANCH_PREFIX) || !pr.toRef.id.startsWith(BRANCH_PREFIX)) {
    return { kind: 'ignored', reason: `the pull request is not between branches (${pr.fromRef.id} into ${pr.toRef.id}); it is not scanned` };
  }
  const event: PullRequestEvent = {
    type: 'pull_request',
    action: decided.action,
    deliveryId: envelope.deliveryId,
    sourceEvent: envelope.sourceEvent,
    // Results are published where the pull request lives: its target repository.
    repository: toRepositoryRef(envelope.instanceId, pr.toRef.repository),
    actor: toActor(payload.actor),
    pullRequest: {
      id: pr.id,
      title: pr.title,
      state: pr.state,
      draft: pr.draft ?? false,
      source: toSide(envelope.instanceId, pr.fromRef),
      destination: toSide(envelope.instanceId, pr.toRef),
      mergeCommit: pr.properties?.mergeCommit?.id ?? null,
      author: toActor(pr.author?.user),
    },
  };
  return { kind: 'event', event };
}
