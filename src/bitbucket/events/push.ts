import { z } from 'zod';
import type { PushEvent, RefChange } from '../../core/events.ts';
import { actorSchema, commitHash, repositorySchema, toActor, toRepositoryRef } from './common.ts';

/** `repo:push`: one delivery may carry several ref changes (branches and tags). */

const refState = z.object({
  type: z.string(),
  name: z.string().min(1),
  target: z.object({ hash: commitHash }),
});

const change = z.object({
  old: refState.nullable(),
  new: refState.nullable(),
  forced: z.boolean().optional(),
  truncated: z.boolean().optional(),
  commits: z.array(z.object({ hash: commitHash })).optional(),
});

export const pushSchema = z.object({
  actor: actorSchema.nullish(),
  repository: repositorySchema,
  push: z.object({ changes: z.array(change) }),
});

export type PushPayload = z.infer<typeof pushSchema>;

function toRefChange(c: z.infer<typeof change>): RefChange | null {
  const ref = c.new ?? c.old;
  // Both null does not happen in practice; `branch`, `named_branch`, `bookmark` are
  // branch-like (the latter two from Mercurial days), `tag` and `annotated_tag` are tags.
  if (!ref) return null;
  const kind = ref.type === 'tag' || ref.type === 'annotated_tag' ? 'tag' : 'branch';
  return {
    kind,
    name: ref.name,
    before: c.old?.target.hash ?? null,
    after: c.new?.target.hash ?? null,
    forced: c.forced ?? false,
    commits: (c.commits ?? []).map((commit) => commit.hash),
    truncated: c.truncated ?? false,
  };
}

export function normalisePush(payload: PushPayload, envelope: { deliveryId: string; sourceEvent: string }): PushEvent {
  return {
    type: 'push',
    ...envelope,
    repository: toRepositoryRef(payload.repository),
    actor: toActor(payload.actor),
    changes: payload.push.changes.map(toRefChange).filter((c): c is RefChange => c !== null),
  };
}
