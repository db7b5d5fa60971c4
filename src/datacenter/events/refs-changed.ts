import { z } from 'zod';
import type { PushEvent, RefChange } from '../../core/events.ts';
import { actorSchema, BRANCH_PREFIX, commitHash, isNullHash, refSchema, repositorySchema, timestamp, toActor, toRepositoryRef } from './common.ts';
import type { Envelope, ParseResult } from './types.ts';

/**
 * `repo:refs_changed`: one delivery per push, with every ref it changed. Branch updates and
 * creations are scanned; tag changes and deletions are acknowledged and ignored (nothing new
 * to scan), and so is a delivery that has nothing else.
 */

const change = z.object({
  ref: refSchema,
  fromHash: commitHash,
  toHash: commitHash,
  type: z.enum(['ADD', 'UPDATE', 'DELETE']),
});

export const refsChangedSchema = z.object({
  date: timestamp.optional(),
  actor: actorSchema.nullish(),
  repository: repositorySchema,
  changes: z.array(change).max(10_000),
});

function toBranchUpdate(c: z.infer<typeof change>): RefChange | null {
  if (!c.ref.id.startsWith(BRANCH_PREFIX) || c.type === 'DELETE' || isNullHash(c.toHash)) return null;
  return {
    kind: 'branch',
    name: c.ref.id.slice(BRANCH_PREFIX.length),
    before: isNullHash(c.fromHash) ? null : c.fromHash,
    after: c.toHash,
    // Data Center does not say whether an update was forced; the scan compares the two heads either way.
    forced: false,
    commits: [],
    truncated: false,
  };
}

export function parseRefsChanged(payload: z.infer<typeof refsChangedSchema>, envelope: Envelope): ParseResult {
  const changes = payload.changes.map(toBranchUpdate).filter((c): c is RefChange => c !== null);
  if (changes.length === 0) return { kind: 'ignored', reason: 'no branch gained commits (tag changes or deletions only)' };
  const event: PushEvent = {
    type: 'push',
    deliveryId: envelope.deliveryId,
    sourceEvent: envelope.sourceEvent,
    repository: toRepositoryRef(envelope.instanceId, payload.repository),
    actor: toActor(payload.actor),
    changes,
  };
  return { kind: 'event', event };
}
