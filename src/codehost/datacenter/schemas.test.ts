import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { activitySchema, browseEntrySchema, changeSchema, commentSchema, commitPageSchema, commitSchema, dcRepositorySchema, minimalRefSchema, pageSchema, pullRequestSchema } from './schemas.ts';

/** The Data Center OpenAPI description the schemas are written from. */
const openapi = JSON.parse(readFileSync(new URL('../../../../shared/reference/bitbucket-datacenter-openapi.json', import.meta.url), 'utf8')) as {
  components: { schemas: Record<string, OpenApiSchema> };
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: OpenApiSchema }> }> }>>;
};
interface OpenApiSchema {
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  $ref?: string;
}

const resolve = (s: OpenApiSchema): OpenApiSchema => (s.$ref ? openapi.components.schemas[s.$ref.split('/').pop()!]! : s);

/** Every field a zod object reads, nested objects and arrays included, must be a property of the OpenAPI schema. */
function missingFields(schema: z.ZodType, doc: OpenApiSchema, where: string, undocumented: readonly string[]): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable) inner = inner.unwrap() as z.ZodType;
  if (inner instanceof z.ZodArray) return doc.items ? missingFields(inner.element as z.ZodType, resolve(doc.items), `${where}[]`, undocumented) : [];
  if (!(inner instanceof z.ZodObject)) return [];
  const props = resolve(doc).properties ?? {};
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, field]) => {
    const path = `${where}.${key}`;
    if (undocumented.includes(path)) return [];
    const prop = props[key];
    return prop ? missingFields(field, resolve(prop), path, undocumented) : [path];
  });
}

const component = (name: string) => openapi.components.schemas[name]!;
const pageOf = (path: string) => openapi.paths[path]!.get!.responses['200']!.content!['application/json']!.schema!;
const repo = '/api/latest/projects/{projectKey}/repos/{repositorySlug}';

describe('Data Center answer schemas follow the OpenAPI description', () => {
  it.each([
    ['RestPullRequest', pullRequestSchema, component('RestPullRequest'), ['$.properties']],
    ['RestCommit', commitSchema, component('RestCommit'), []],
    ['RestMinimalRef', minimalRefSchema, component('RestMinimalRef'), []],
    ['RestChange', changeSchema, component('RestChange'), []],
    ['RestComment', commentSchema, component('RestComment'), []],
    ['RestRepository', dcRepositorySchema, component('RestRepository'), []],
    ['a page of repositories', pageSchema, pageOf('/api/latest/repos'), []],
    ['a page of commits', commitPageSchema, pageOf(`${repo}/commits`), []],
    // The OpenAPI has only the common activity fields; comment activities add these (Atlassian's REST documentation).
    ['RestPullRequestActivity', activitySchema, component('RestPullRequestActivity'), ['$.commentAction', '$.comment']],
    ['a page of changes', pageSchema, pageOf(`${repo}/compare/changes`), []],
  ] as const)('%s', (_name, schema, doc, undocumented) => {
    expect(missingFields(schema, doc, '$', undocumented)).toEqual([]);
  });

  it('browse entries carry a path and a type like RestChange (the OpenAPI leaves browse untyped)', () => {
    // `size` is a file's, as Data Center's browse answers carry it.
    expect(missingFields(browseEntrySchema, component('RestChange'), '$', ['$.type', '$.size'])).toEqual([]);
  });
});
