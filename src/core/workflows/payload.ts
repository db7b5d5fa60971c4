import { z } from 'zod';
import type { PullRequestEvent, PushEvent } from '../events.ts';
import { PermanentJobError } from '../worker.ts';

/**
 * Job payloads were validated at the front door, but they come back from disk: check the
 * fields the workflows rely on, so a damaged or foreign payload fails its job once, clearly,
 * instead of being retried.
 */

const repository = z.object({ uuid: z.string().min(1), fullName: z.string().regex(/^[^/]+\/[^/]+$/) }).passthrough();

const pullRequestSchema = z
  .object({
    type: z.literal('pull_request'),
    action: z.enum(['opened', 'updated', 'merged', 'declined', 'deleted']),
    repository,
    pullRequest: z
      .object({
        id: z.number().int().positive(),
        state: z.string(),
        source: z.object({ branch: z.string(), commit: z.string().nullable() }).passthrough(),
        destination: z.object({ branch: z.string(), commit: z.string().nullable() }).passthrough(),
        mergeCommit: z.string().nullable(),
      })
      .passthrough(),
  })
  .passthrough();

const pushSchema = z
  .object({
    type: z.literal('push'),
    repository,
    changes: z.array(
      z
        .object({ kind: z.enum(['branch', 'tag']), name: z.string(), before: z.string().nullable(), after: z.string().nullable(), forced: z.boolean() })
        .passthrough(),
    ),
  })
  .passthrough();

export function pullRequestEvent(payload: unknown): PullRequestEvent {
  const parsed = pullRequestSchema.safeParse(payload);
  if (!parsed.success) throw new PermanentJobError(`job payload is not a pull-request event: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as unknown as PullRequestEvent;
}

export function pushEvent(payload: unknown): PushEvent {
  const parsed = pushSchema.safeParse(payload);
  if (!parsed.success) throw new PermanentJobError(`job payload is not a push event: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as unknown as PushEvent;
}
