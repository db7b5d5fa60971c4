import { z } from 'zod';
import type { Actor, RepositoryRef } from '../../core/events.ts';

/**
 * Pieces shared by the Data Center webhook schemas (8.x, 9.x and 10.x). Only fields the app
 * uses are validated; the rest pass unread and are dropped. Values that become parts of
 * REST paths (project keys, slugs, hashes) are checked strictly enough that they cannot
 * smuggle a `/`, `?` or `..` into a URL.
 */

/** Data Center sends full hashes (40 hex; 64 for SHA-256 repositories). */
export const commitHash = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a full hex commit hash');

/** All zeros: the "no commit" of a created (fromHash) or deleted (toHash) ref. */
export function isNullHash(hash: string): boolean {
  return /^0+$/.test(hash);
}

/**
 * 8.x and 9.x send epoch milliseconds, 10.x ISO 8601 text (with `Z`, or `+0000`-style
 * offsets); either must be a real time.
 */
export const timestamp = z.union([
  z.number().int().nonnegative(),
  z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO 8601 time'),
]);

/** `PROJ`, or `~USER` for a personal project. */
export const projectKey = z.string().regex(/^~?[A-Za-z0-9_-]{1,128}$/, 'expected a project key');
export const repoSlug = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected a repository slug').refine((s) => s !== '.' && s !== '..', 'expected a repository slug');

export const repositorySchema = z.object({
  id: z.number().int().positive(),
  slug: repoSlug,
  name: z.string(),
  public: z.boolean().optional(),
  project: z.object({ key: projectKey }),
});

export const actorSchema = z.object({
  name: z.string().optional(),
  slug: z.string().optional(),
  displayName: z.string().optional(),
});

/** A ref as webhooks carry it: `refs/heads/main` with displayId `main`. */
export const refSchema = z.object({
  id: z.string().regex(/^refs\/\S+$/, 'expected a full ref such as refs/heads/main'),
  displayId: z.string().min(1),
  type: z.string().optional(),
});

export const BRANCH_PREFIX = 'refs/heads/';

/**
 * The repository identity the core keys results and job groups by. Data Center has no
 * repository UUID; its numeric id is unique per instance only, so the instance id is part of
 * it: `{dc-<instanceId>-<repoId>}`. Braced letters, digits and dashes, like a Cloud UUID, so
 * the JSON API's repository parameters take it as they are. Stable across renames and moves
 * (the id does not change), unlike PROJECT/slug.
 */
export function repositoryIdentity(instanceId: string, repoId: number): string {
  return `{dc-${instanceId}-${repoId}}`;
}

/** workspace = project key, fullName = PROJECT/slug: the names Data Center's REST paths take. */
export function toRepositoryRef(instanceId: string, repo: z.infer<typeof repositorySchema>): RepositoryRef {
  return {
    uuid: repositoryIdentity(instanceId, repo.id),
    fullName: `${repo.project.key}/${repo.slug}`,
    workspace: repo.project.key,
    name: repo.name,
    isPrivate: repo.public === undefined ? null : !repo.public,
  };
}

/** Data Center users have a slug (their URL name) and a numeric id, no account id or UUID. */
export function toActor(actor: z.infer<typeof actorSchema> | null | undefined): Actor | null {
  if (!actor) return null;
  return { accountId: actor.slug ?? actor.name ?? null, uuid: null, displayName: actor.displayName ?? null };
}
