import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Checks every API request against Atlassian's published OpenAPI description of Bitbucket
 * Cloud (or, with DialectOptions, of Data Center): the path must match a path template, the
 * method an operation of it, declared query parameters their schema, and a JSON body the
 * operation's requestBody schema ($refs resolved). `checkResponse` holds an answer to the
 * operation's documented responses the same way (when the description kept them).
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
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: Record<string, string[]>[];
  'x-atlassian-oauth2-scopes'?: { state?: string; scopes?: string[] }[];
}

/** One segment of a path template: a literal, or a parameter with literal text around it (`{id}.diff`). */
interface Segment {
  literal?: string;
  param?: { name: string; prefix: string; suffix: string };
}

interface Template {
  template: string;
  segments: Segment[];
  /** Specificity: 2 per literal segment, 1 per parameter with literal text around it. */
  score: number;
  item: Record<string, unknown>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** What differs between the Cloud and the Data Center descriptions' conventions. */
export interface DialectOptions {
  /** Named in messages ("the Bitbucket Cloud API"). */
  apiName: string;
  /** Query parameters every operation accepts whether or not it declares them. */
  universalQuery: ReadonlySet<string>;
  /** Query parameters real Bitbucket takes on one template although the description omits them. */
  undeclaredButReal: Readonly<Record<string, readonly string[]>>;
  /** Path parameters that may contain `/` when they end the template. */
  greedyParams: ReadonlySet<string>;
  /** Query parameters that must be positive integers wherever they appear. */
  positiveIntegers: readonly string[];
  /** Corrections of the description's mistakes, applied to the in-memory copy. */
  correct: (doc: OpenApiDocument) => void;
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

export const CLOUD_DIALECT: DialectOptions = {
  apiName: 'the Bitbucket Cloud API',
  universalQuery: UNIVERSAL_QUERY,
  undeclaredButReal: UNDECLARED_BUT_REAL,
  greedyParams: GREEDY_PARAMS,
  positiveIntegers: ['page', 'pagelen'],
  correct: correctKnownMistakes,
};

export class OpenApiChecker {
  private readonly templates: Template[];
  private readonly ajv: InstanceType<typeof Ajv>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    private readonly doc: OpenApiDocument,
    private readonly dialect: DialectOptions = CLOUD_DIALECT,
  ) {
    dialect.correct(doc);
    this.templates = Object.entries(doc.paths).map(([template, item]) => {
      const segments = template.split('/').slice(1).map(parseSegment);
      const score = segments.reduce((n, s) => n + (s.literal !== undefined ? 2 : s.param!.prefix || s.param!.suffix ? 1 : 0), 0);
      return { template, segments, score, item };
    });
    // Most specific first: more literal text wins (statuses/build over statuses/{x}, {id}.diff over {id}).
    this.templates.sort((a, b) => b.score - a.score || b.segments.length - a.segments.length);
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(doc as object, 'bitbucket-openapi');
  }

  static load(file = DEFAULT_OPENAPI_FILE, dialect: DialectOptions = CLOUD_DIALECT): OpenApiChecker {
    return new OpenApiChecker(JSON.parse(readFileSync(file, 'utf8')), dialect);
  }

  /** Finds the path template and operation for a request path, or explains why none fits. */
  match(method: string, rawPath: string): { match?: OperationMatch; reason?: string } {
    const parts = rawPath.split('/').slice(1);
    const lower = method.toLowerCase();
    let pathMatched: string | undefined;
    for (const t of this.templates) {
      const params = matchSegments(t.segments, parts, this.dialect.greedyParams);
      if (!params) continue;
      pathMatched ??= t.template;
      const op = t.item[lower] as Operation | undefined;
      if (!op) continue;
      const scopes = (op.security ?? []).flatMap((s) => s.oauth2 ?? []);
      const granularScopes = (op['x-atlassian-oauth2-scopes'] ?? []).find((g) => g.state === undefined || g.state === 'Current')?.scopes ?? [];
      return { match: { template: t.template, method: lower, params, scopes, granularScopes } };
    }
    if (pathMatched) return { reason: `method ${method.toUpperCase()} is not defined for ${pathMatched}` };
    return { reason: `no path template of ${this.dialect.apiName} matches ${rawPath}` };
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
    const extra = new Set(this.dialect.undeclaredButReal[template] ?? []);
    for (const name of new Set(query.keys())) {
      if (name === 'jwt') return 'a JWT in the query string is not accepted by the REST API; send it in the Authorization header';
      const param = declared.get(name);
      if (!param) {
        if (this.dialect.universalQuery.has(name) || extra.has(name)) continue;
        return `query parameter "${name}" is not defined for ${template}`;
      }
      for (const value of query.getAll(name)) {
        const problem = checkScalar(value, param.schema ?? {});
        if (problem) return `query parameter "${name}"=${JSON.stringify(value)} ${problem}`;
      }
    }
    for (const name of this.dialect.positiveIntegers) {
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
    // `*/*` (Data Center's build status) takes JSON as well.
    const media = content['application/json'] ? 'application/json' : content['*/*'] ? '*/*' : undefined;
    if (!media) return `${match.template} does not accept a JSON body`;
    if (!/^application\/json\b/i.test(input.contentType ?? '')) return 'a JSON body must be sent with Content-Type: application/json';
    const validate = this.validator(match, ['requestBody', 'content', media, 'schema']);
    if (validate(input.body)) return undefined;
    return `request body does not match the schema: ${formatErrors(validate.errors ?? [])}`;
  }

  /**
   * Checks an answer against the operation's documented responses: the status must be one of
   * them (or `default`), and a JSON body must match the schema documented for it. Undefined
   * when it conforms. Failures the description need not list (429, 5xx) pass unchecked.
   */
  checkResponse(match: OperationMatch, status: number, contentType: string | undefined, body: unknown): string | undefined {
    if (status === 429 || status >= 500) return undefined;
    const op = (this.doc.paths[match.template] as Record<string, Operation>)[match.method]!;
    const responses = op.responses ?? {};
    const code = String(status) in responses ? String(status) : 'default' in responses ? 'default' : undefined;
    const where = `${match.method.toUpperCase()} ${match.template}`;
    if (code === undefined) return `${where} answered ${status}, which is not one of its documented responses (${Object.keys(responses).join(', ')})`;
    const content = responses[code]?.content ?? {};
    if (body === undefined) return undefined;
    const json = content['application/json'];
    if (!json) return `${where} answered ${status} with JSON, but documents ${Object.keys(content).join(', ') || 'no body'} for it`;
    if (!/^application\/json\b/i.test(contentType ?? '')) return `${where} answered JSON without Content-Type: application/json`;
    if (!json.schema) return undefined;
    const validate = this.validator(match, ['responses', code, 'content', 'application/json', 'schema']);
    if (validate(body)) return undefined;
    return `${where} answer ${status} does not match its schema: ${formatErrors(validate.errors ?? [])}`;
  }

  private validator(match: OperationMatch, at: string[]): ValidateFunction {
    const key = `${match.method} ${match.template} ${at.join('/')}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const pointer = ['paths', match.template, match.method, ...at]
        .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
        .join('/');
      validate = this.ajv.compile({ $ref: `bitbucket-openapi#/${pointer}` });
      this.validators.set(key, validate);
    }
    return validate;
  }
}

function parseSegment(text: string): Segment {
  const m = /^([^{}]*)\{([^{}]+)\}([^{}]*)$/.exec(text);
  return m ? { param: { prefix: m[1]!, name: m[2]!, suffix: m[3]! } } : { literal: text };
}

function matchSegments(template: Segment[], parts: string[], greedy: ReadonlySet<string>): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const seg = template[i]!;
    const part = parts[i];
    const isLast = i === template.length - 1;
    // `src/{commit}/` lists the root directory: Atlassian's description of that operation says
    // the trailing slash is required there, so the file path may be empty when it is the last segment.
    const emptyRootPath = part === '' && seg.param?.name === 'path' && !seg.param.prefix && !seg.param.suffix && isLast && i === parts.length - 1;
    if (part === undefined || (part === '' && !emptyRootPath)) return undefined;
    if (seg.literal !== undefined) {
      if (seg.literal !== part) return undefined;
      continue;
    }
    const { name, prefix, suffix } = seg.param!;
    const spans = isLast && greedy.has(name);
    const whole = spans ? parts.slice(i).join('/') : part;
    // The literal text around the parameter must be there, and leave a value (`.diff` alone is not `{id}.diff`).
    if (!whole.startsWith(prefix) || !whole.endsWith(suffix) || whole.length < prefix.length + suffix.length + (prefix || suffix ? 1 : 0)) return undefined;
    const raw = whole.slice(prefix.length, whole.length - suffix.length);
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (spans) return params;
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
function correctKnownMistakes(doc: OpenApiDocument): void {
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

