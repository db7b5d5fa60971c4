import { z } from 'zod';
import type { Actor, RepositoryRef } from '../../core/events.ts';

/**
 * Pieces shared by the Bitbucket Cloud webhook schemas. Only fields the app uses are
 * validated. Unknown fields pass but are dropped (zod's default), so fields Bitbucket adds
 * over the years are accepted without being copied: a payload carries dozens of links and
 * nested objects the app never reads, and copying them was most of the validation time.
 * Values that later become parts of REST paths (hashes, UUIDs, full names) are checked
 * strictly enough that they cannot smuggle a `/`, `?` or `..` into a URL.
 */

/** Abbreviated (PR events: 12) or full (push events: 40) lower-case hex commit hash. */
export const commitHash = z.string().regex(/^[0-9a-f]{7,40}$/, 'expected a hex commit hash');

/** `{...}`-braced UUID. Letters outside hex are tolerated: hand-anonymised fixtures use them. */
export const braceUuid = z.string().regex(/^\{[0-9A-Za-z-]{1,64}\}$/, 'expected a braced UUID');

export const fullName = z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected workspace/repository');

export const repositorySchema = z.object({
  uuid: braceUuid,
  full_name: fullName,
  name: z.string(),
  is_private: z.boolean().optional(),
  workspace: z.object({ slug: z.string() }).optional(),
});

export const actorSchema = z.object({
  account_id: z.string().nullish(),
  uuid: z.string().nullish(),
  display_name: z.string().nullish(),
});

export function toRepositoryRef(repo: z.infer<typeof repositorySchema>): RepositoryRef {
  return {
    uuid: repo.uuid,
    fullName: repo.full_name,
    // Older payloads have no `workspace`; the full name always starts with its slug.
    workspace: repo.workspace?.slug ?? repo.full_name.slice(0, repo.full_name.indexOf('/')),
    name: repo.name,
    isPrivate: repo.is_private ?? null,
  };
}

export function toActor(actor: z.infer<typeof actorSchema> | null | undefined): Actor | null {
  if (!actor) return null;
  return { accountId: actor.account_id ?? null, uuid: actor.uuid ?? null, displayName: actor.display_name ?? null };
}
