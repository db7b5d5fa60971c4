import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenApiChecker, type DialectOptions, type OpenApiDocument } from '../openapi.ts';

/**
 * How the local Data Center reads Atlassian's Data Center OpenAPI description
 * (reference/bitbucket-datacenter-openapi.json, paths relative to `/rest`), and where the
 * description is wrong about what real Data Center sends and accepts.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
/** The shared reference beside the checkout, as src/codehost/datacenter/schemas.test.ts reads it. */
export const DATACENTER_OPENAPI_FILE = path.resolve(here, '../../../../shared/reference/bitbucket-datacenter-openapi.json');

const PAGE = '/api/latest/projects/{projectKey}/repos/{repositorySlug}';

/**
 * `start`/`limit` page every collection, including the ones whose description forgets them:
 * `browse` pages a directory's children, and webhook listings are pages like any other.
 */
const UNDECLARED_BUT_REAL: Record<string, string[]> = {
  [`${PAGE}/browse`]: ['start', 'limit'],
  [`${PAGE}/browse/{path}`]: ['start', 'limit'],
  [`${PAGE}/webhooks`]: ['start', 'limit'],
  '/api/latest/projects/{projectKey}/webhooks': ['start', 'limit'],
};

function correctDatacenterMistakes(doc: OpenApiDocument): void {
  const schemas = doc.components.schemas;
  // Report data values are booleans, numbers, text or {linktext, href} (LINK), not only objects.
  const data = schemas.RestInsightReportData?.properties as Record<string, Record<string, unknown>> | undefined;
  if (data?.value) delete data.value.type;
  // A pull request's changes are a page of RestChange (start, limit, isLastPage, values), as
  // every other collection; the description gives a single RestChange.
  const changes = (doc.paths[`${PAGE}/pull-requests/{pullRequestId}/changes`]?.get as { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> } | undefined)?.responses?.['200']?.content?.['application/json'];
  if (changes) {
    changes.schema = {
      type: 'object',
      properties: {
        isLastPage: { type: 'boolean' },
        limit: { type: 'number' },
        nextPageStart: { type: 'integer' },
        size: { type: 'number' },
        start: { type: 'integer' },
        values: { type: 'array', items: { $ref: '#/components/schemas/RestChange' } },
      },
    };
  }
}

export const DATACENTER_DIALECT: DialectOptions = {
  apiName: 'the Bitbucket Data Center REST API',
  universalQuery: new Set(),
  undeclaredButReal: UNDECLARED_BUT_REAL,
  greedyParams: new Set(['path']),
  positiveIntegers: [],
  correct: correctDatacenterMistakes,
};

export function loadDatacenterChecker(file = DATACENTER_OPENAPI_FILE): OpenApiChecker {
  return OpenApiChecker.load(file, DATACENTER_DIALECT);
}
