import { z } from 'zod';

/**
 * The parts of Data Center's answers the code host reads, named as in
 * reference/bitbucket-datacenter-openapi.json (schemas.test.ts checks every field against it).
 * Loose objects: Data Center adds fields between versions, and only these are relied on.
 */

/** `start`/`limit` paging: `nextPageStart` is where the next page begins, absent on the last one. */
export const pageSchema = z.looseObject({
  values: z.array(z.unknown()),
  isLastPage: z.boolean(),
  start: z.number().int().optional(),
  nextPageStart: z.number().int().nullable().optional(),
});

const repositorySchema = z.looseObject({
  slug: z.string().min(1),
  project: z.looseObject({ key: z.string().min(1) }),
});

const pullRequestRefSchema = z.looseObject({
  id: z.string(),
  displayId: z.string(),
  latestCommit: z.string().optional(),
  repository: repositorySchema,
});

export const pullRequestSchema = z.looseObject({
  id: z.number().int(),
  state: z.enum(['OPEN', 'MERGED', 'DECLINED']),
  fromRef: pullRequestRefSchema,
  toRef: pullRequestRefSchema,
  /** Not in the OpenAPI's RestPullRequest, but sent by every version once merged (and in pr:merged payloads). */
  properties: z.looseObject({ mergeCommit: z.looseObject({ id: z.string() }).optional() }).optional(),
});

export const commitSchema = z.looseObject({ id: z.string() });

/** A page of `commits`, newest first. */
export const commitPageSchema = pageSchema.extend({ values: z.array(commitSchema) });

export const minimalRefSchema = z.looseObject({ id: z.string(), displayId: z.string() });

const pathSchema = z.looseObject({ components: z.array(z.string()) });

export const changeSchema = z.looseObject({
  path: pathSchema,
  srcPath: pathSchema.optional(),
});

/** `browse/{dir}`: the directory's children, paged inside the answer. */
export const browseSchema = z.looseObject({
  children: pageSchema,
});

export const browseEntrySchema = z.looseObject({
  path: pathSchema,
  type: z.string(),
  /** Bytes, on a file. */
  size: z.number().optional(),
});

/** A repository as `GET /repos` lists it and `GET /projects/{p}/repos/{r}` answers (`defaultBranch` only on newer versions). */
export const dcRepositorySchema = z.looseObject({
  id: z.number().int(),
  slug: z.string().min(1),
  name: z.string().optional(),
  public: z.boolean().optional(),
  defaultBranch: z.string().optional(),
  project: z.looseObject({ key: z.string().min(1), name: z.string().optional() }),
});

export type DcRepository = z.infer<typeof dcRepositorySchema>;

export const commentSchema = z.looseObject({
  id: z.number().int(),
  version: z.number().int(),
  text: z.string(),
});

/** A pull request activity; a general comment is action COMMENTED with commentAction ADDED and its `comment` (current text). */
export const activitySchema = z.looseObject({
  action: z.string(),
  commentAction: z.string().optional(),
  comment: commentSchema.optional(),
});

export type DcPullRequest = z.infer<typeof pullRequestSchema>;
