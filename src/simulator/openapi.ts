import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Checks every API request against Atlassian's published OpenAPI description of Bitbucket
 * Cloud: the path must match a path template, the method an operation of it, declared query
 * parameters their schema, and a JSON body the operation's requestBody schema ($refs resolved).
 *
 * The description is permissive in places (most schemas allow additional properties) and
 * wrong in a few; each correction below says what real Bitbucket does instead.
 */

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** The committed extract of Atlassian's description (see openapi-extract.ts). */
export const DEFAULT_OPENAPI_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bitbucket-openapi.json');


/**
 * Query parameters Bitbucket accepts on every endpoint although most operations do not declare
 * them: pagination (`page`, `pagelen`), partial responses (`fields`) and filtering (`q`, `sort`).
 * `from_pullrequest_id` appears in the URLs Bitbucket itself hands out for a pull request's diff
 * and diffstat (the 302 target and `links.diff`), yet the description of `diff/{spec}` and
 * `diffstat/{spec}` omits it: an omission in the OpenAPI.
 */
const UNIVERSAL_QUERY = new Set(['page', 'pagelen', 'fields', 'q', 'sort']);
const UNDECLARED_BUT_REAL: Record<string, string[]> = {
  '/repositories/{workspace}/{repo_slug}/diff/{spec}': ['from_pullrequest_id'],
  '/repositories/{workspace}/{repo_slug}/diffstat/{spec}': ['from_pullrequest_id'],
};

/**
 * Path parameters that may contain `/`. OpenAPI path templating does not allow a slash inside
 * a parameter, but `src/{commit}/{path}` takes a file path and Bitbucket's own pull-request diff
 * links use a `diff/{spec}` of the form `ws/repo:src%0Ddst` with a literal slash.
 */
const GREEDY_PARAMS = new Set(['path', 'spec']);

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Record<string, unknown>;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  security?: Record<string, string[]>[];
  'x-atlassian-oauth2-scopes'?: { state?: string; scopes?: string[] }[];
}

interface Template {
  template: string;
  segments: string[];
  literalCount: number;
  item: Record<string, unknown>;
}

export interface OperationMatch {
  /** OpenAPI path template without the server's `/2.0` prefix. */
  template: string;
  method: string;
  params: Record<string, string>;
  /** OAuth scopes the operation requires (any one of the listed sets). */
  scopes: string[];
  /** Granular scopes (`read:repository:bitbucket`...), all required: what a Forge app's token must hold. */
  granularScopes: string[];
}

export type CheckResult =
  | { ok: true; match: OperationMatch }
  | { ok: false; reason: string; match?: OperationMatch };

export interface CheckInput {
  method: string;
  /** Path below the server URL, e.g. `/repositories/ws/repo` (already without `/2.0`). */
  rawPath: string;
  query: URLSearchParams;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
  contentType: string | undefined;
}

export class OpenApiChecker {
  private readonly templates: Template[];
  private readonly ajv: InstanceType<typeof Ajv>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, Record<string, unknown>> } }) {
    correctKnownMistakes(doc);
    this.templates = Object.entries(doc.paths).map(([template, item]) => {
      const segments = template.split('/').slice(1);
      return { template, segments, literalCount: segments.filter((s) => !s.startsWith('{')).length, item };
    });
    // Most specific first: more literal segments win (statuses/build over statuses/{x}).
    this.templates.sort((a, b) => b.literalCount - a.literalCount || b.segments.length - a.segments.length);
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(doc as object, 'bitbucket-openapi');
  }

  static load(file = DEFAULT_OPENAPI_FILE): OpenApiChecker {
    return new OpenApiChecker(JSON.parse(readFileSync(file, 'utf8')));
  }

  /** Finds the path template and operation for a request path, or explains why none fits. */
  match(method: string, rawPath: string): { match?: OperationMatch; reason?: string } {
    const parts = rawPath.split('/').slice(1);
    const lower = method.toLowerCase();
    let pathMatched: string | undefined;
    for (const t of this.templates) {
      const params = matchSegments(t.segments, parts);
      if (!params) continue;
      pathMatched ??= t.template;
      const op = t.item[lower] as Operation | undefined;
      if (!op) continue;
      const scopes = (op.security ?? []).flatMap((s) => s.oauth2 ?? []);
      const granularScopes = (op['x-atlassian-oauth2-scopes'] ?? []).find((g) => g.state === undefined || g.state === 'Current')?.scopes ?? [];
      return { match: { template: t.template, method: lower, params, scopes, granularScopes } };
    }
    if (pathMatched) return { reason: `method ${method.toUpperCase()} is not defined for ${pathMatched}` };
    return { reason: `no path template of the Bitbucket Cloud API matches ${rawPath}` };
  }

  check(input: CheckInput): CheckResult {
    const { match, reason } = this.match(input.method, input.rawPath);
    if (!match) return { ok: false, reason: reason ?? 'unmatched' };
    const item = this.doc.paths[match.template] as Record<string, unknown>;
    const op = item[match.method] as Operation;
    const params = [...((item.parameters as Parameter[] | undefined) ?? []), ...(op.parameters ?? [])];

    for (const param of params.filter((p) => p.in === 'path')) {
      const value = match.params[param.name];
      const problem = value === undefined ? undefined : checkScalar(value, param.schema ?? {});
      if (problem) return { ok: false, reason: `path parameter "${param.name}"=${JSON.stringify(value)} ${problem}`, match };
    }

    const queryProblem = this.checkQuery(match.template, params, input.query);
    if (queryProblem) return { ok: false, reason: queryProblem, match };

    const bodyProblem = this.checkBody(match, op, input);
    if (bodyProblem) return { ok: false, reason: bodyProblem, match };
    return { ok: true, match };
  }

  private checkQuery(template: string, params: Parameter[], query: URLSearchParams): string | undefined {
    const declared = new Map(params.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    const extra = new Set(UNDECLARED_BUT_REAL[template] ?? []);
    for (const name of new Set(query.keys())) {
      if (name === 'jwt') return 'a JWT in the query string is not accepted by the REST API; send it in the Authorization header';
      const param = declared.get(name);
      if (!param) {
        if (UNIVERSAL_QUERY.has(name) || extra.has(name)) continue;
        return `query parameter "${name}" is not defined for ${template}`;
      }
      for (const value of query.getAll(name)) {
        const problem = checkScalar(value, param.schema ?? {});
        if (problem) return `query parameter "${name}"=${JSON.stringify(value)} ${problem}`;
      }
    }
    for (const name of ['page', 'pagelen']) {
      const value = query.get(name);
      if (value !== null && !/^[1-9]\d*$/.test(value)) return `query parameter "${name}" must be a positive integer`;
    }
    for (const param of declared.values()) {
      if (param.required && !query.has(param.name)) return `required query parameter "${param.name}" is missing`;
    }
    return undefined;
  }

  private checkBody(match: OperationMatch, op: Operation, input: CheckInput): string | undefined {
    const content = op.requestBody?.content;
    if (!content) {
      return input.body === undefined ? undefined : `${match.method.toUpperCase()} ${match.template} takes no request body`;
    }
    if (input.body === undefined) {
      return op.requestBody?.required ? `${match.method.toUpperCase()} ${match.template} requires a JSON body` : undefined;
    }
    if (!content['application/json']) return `${match.template} does not accept a JSON body`;
    if (!/^application\/json\b/i.test(input.contentType ?? '')) return 'a JSON body must be sent with Content-Type: application/json';
    const validate = this.validator(match);
    if (validate(input.body)) return undefined;
    return `request body does not match the schema: ${formatErrors(validate.errors ?? [])}`;
  }

  private validator(match: OperationMatch): ValidateFunction {
    const key = `${match.method} ${match.template}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const pointer = ['paths', match.template, match.method, 'requestBody', 'content', 'application/json', 'schema']
        .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
        .join('/');
      validate = this.ajv.compile({ $ref: `bitbucket-openapi#/${pointer}` });
      this.validators.set(key, validate);
    }
    return validate;
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const seg = template[i] as string;
    const part = parts[i];
    // `src/{commit}/` lists the root directory: Atlassian's description of that operation says
    // the trailing slash is required there, so the file path may be empty when it is the last segment.
    const emptyRootPath = part === '' && seg === '{path}' && i === template.length - 1 && i === parts.length - 1;
    if (part === undefined || (part === '' && !emptyRootPath)) return undefined;
    if (!seg.startsWith('{')) {
      if (seg !== part) return undefined;
      continue;
    }
    const name = seg.slice(1, -1);
    const isLast = i === template.length - 1;
    const raw = isLast && GREEDY_PARAMS.has(name) ? parts.slice(i).join('/') : part;
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (isLast && GREEDY_PARAMS.has(name)) return params;
  }
  return template.length === parts.length ? params : undefined;
}

function checkScalar(value: string, schema: Record<string, unknown>): string | undefined {
  const enumValues = schema.enum as unknown[] | undefined;
  if (enumValues && !enumValues.includes(value)) return `is not one of ${enumValues.join(', ')}`;
  switch (schema.type) {
    case 'integer':
      return /^-?\d+$/.test(value) ? undefined : 'is not an integer';
    case 'number':
      return Number.isFinite(Number(value)) && value.trim() !== '' ? undefined : 'is not a number';
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : 'is not true or false';
    default:
      return undefined;
  }
}

function formatErrors(errors: ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

/**
 * Corrections where the description disagrees with Bitbucket's behaviour (and with Atlassian's
 * own examples). Applied to the in-memory copy only.
 */
function correctKnownMistakes(doc: { components: { schemas: Record<string, Record<string, unknown>> } }): void {
  const schemas = doc.components.schemas;
  // `object` (the base of report, annotation, commit status, comment...) marks `type` as
  // required. Bitbucket fills `type` in its responses but does not require it in requests:
  // the Code Insights and build-status examples in Atlassian's documentation omit it.
  const base = schemas.object;
  if (base && Array.isArray(base.required)) delete base.required;
  // `report_data.value` is declared `type: object`, but the documented values are booleans,
  // numbers, strings (DATE as epoch ms, LINK as {text, href}); only LINK is an object.
  const reportData = schemas.report_data?.properties as Record<string, Record<string, unknown>> | undefined;
  if (reportData?.value) delete reportData.value.type;
}

