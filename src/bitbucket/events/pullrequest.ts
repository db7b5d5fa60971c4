import { z } from 'zod';
import type { PullRequestAction, PullRequestEvent, PullRequestSide } from '../../core/events.ts';
import { actorSchema, commitHash, repositorySchema, toActor, toRepositoryRef } from './common.ts';

/** `pullrequest:created|updated|fulfilled|rejected`: one schema, the action comes from the key. */

export const PULL_REQUEST_ACTIONS = {
  'pullrequest:created': 'opened',
  'pullrequest:updated': 'updated',
  'pullrequest:fulfilled': 'merged',
  'pullrequest:rejected': 'declined',
} as const satisfies Record<string, PullRequestAction>;

export type PullRequestEventKey = keyof typeof PULL_REQUEST_ACTIONS;

const side = z.object({
  branch: z.object({ name: z.string().min(1) }),
  // A side whose branch or fork was deleted can come without a commit or repository.
  commit: z.object({ hash: commitHash }).nullish(),
  repository: repositorySchema.nullish(),
});

export const pullRequestSchema = z.object({
  actor: actorSchema.nullish(),
  repository: repositorySchema,
  pullrequest: z.object({
    id: z.number().int().positive(),
    title: z.string(),
    state: z.enum(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']),
    draft: z.boolean().optional(),
    source: side,
    destination: side,
    merge_commit: z.object({ hash: commitHash }).nullish(),
    author: actorSchema.nullish(),
  }),
});

export type PullRequestPayload = z.infer<typeof pullRequestSchema>;

function toSide(s: z.infer<typeof side>): PullRequestSide {
  return {
    branch: s.branch.name,
    commit: s.commit?.hash ?? null,
    repository: s.repository ? toRepositoryRef(s.repository) : null,
  };
}

export function normalisePullRequest(
  payload: PullRequestPayload,
  envelope: { deliveryId: string; sourceEvent: PullRequestEventKey },
): PullRequestEvent {
  const pr = payload.pullrequest;
  return {
    type: 'pull_request',
    action: PULL_REQUEST_ACTIONS[envelope.sourceEvent],
    ...envelope,
    repository: toRepositoryRef(payload.repository),
    actor: toActor(payload.actor),
    pullRequest: {
      id: pr.id,
      title: pr.title,
      state: pr.state,
      draft: pr.draft ?? false,
      source: toSide(pr.source),
      destination: toSide(pr.destination),
      mergeCommit: pr.merge_commit?.hash ?? null,
      author: toActor(pr.author),
    },
  };
}
