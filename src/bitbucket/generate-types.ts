/**
 * Derives the client's response and request types from Bitbucket Cloud's OpenAPI description.
 *
 *   node --import tsx src/bitbucket/generate-types.ts [path/to/bitbucket-cloud-openapi.json]
 *
 * Step 1 (only when a path is given, default ../shared/reference/bitbucket-cloud-openapi.json
 * if it exists): copy the schemas the client uses, and every schema they reference, into
 * `openapi-schemas.json` beside this file. The full description is 1.2 MB and lives outside the
 * repository; the extract is small, committed, and lets CI check the types without it.
 * Step 2: render `openapi-types.ts` from that extract.
 *
 * `generate-types.test.ts` re-runs both steps in memory and fails when a committed file drifts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Component schemas the client's typed methods send or receive. */
export const ROOT_SCHEMAS = [
  'pullrequest',
  'commit',
  'paginated_diffstats',
  'report',
  'paginated_reports',
  'report_annotation',
  'paginated_annotations',
  'commitstatus',
  'pullrequest_comment',
  'paginated_pullrequest_comments',
  'repository',
  'paginated_repositories',
  'error',
] as const;

export type JsonSchema = {
  $ref?: string;
  allOf?: JsonSchema[];
  type?: string;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  [keyword: string]: unknown;
};

export type SchemaMap = Record<string, JsonSchema>;

const REF_PREFIX = '#/components/schemas/';

function refName(ref: string): string {
  if (!ref.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${ref}: only ${REF_PREFIX}* is handled`);
  return ref.slice(REF_PREFIX.length);
}

function collectRefs(value: unknown, into: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.push(refName(child));
      else collectRefs(child, into);
    }
  }
}

/** The root schemas and their transitive references, keys sorted so the output is stable. */
export function extractSchemas(openapi: unknown, roots: readonly string[] = ROOT_SCHEMAS): SchemaMap {
  const all = (openapi as { components?: { schemas?: SchemaMap } })?.components?.schemas;
  if (!all) throw new Error('not an OpenAPI 3 document: components.schemas is missing');
  const found = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (found.has(name)) continue;
    const schema = all[name];
    if (!schema) throw new Error(`schema ${name} is not in components.schemas`);
    found.add(name);
    collectRefs(schema, queue);
  }
  const out: SchemaMap = {};
  for (const name of [...found].sort()) out[name] = all[name] as JsonSchema;
  return out;
}

/** Names that would shadow a TypeScript global get a suffix: `object` must not become `Object`. */
const GLOBAL_NAMES = new Set(['Object', 'Error', 'Array', 'String', 'Number', 'Boolean', 'Date', 'Function', 'Map', 'Set']);

export function typeName(schemaName: string): string {
  const pascal = schemaName
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
  return GLOBAL_NAMES.has(pascal) ? `${pascal}Schema` : pascal;
}

function docComment(text: string | undefined, indent: string): string {
  if (!text) return '';
  const lines = text.trim().replaceAll('*/', '*\\/').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} *${line ? ` ${line}` : ''}`).join('\n')}\n${indent} */\n`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function renderType(schema: JsonSchema, indent: string): string {
  if (schema.$ref) return typeName(refName(schema.$ref));
  if (schema.allOf) return schema.allOf.map((part) => renderType(part, indent)).join(' & ');
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `Array<${schema.items ? renderType(schema.items, indent) : 'unknown'}>`;
    case 'object':
    case undefined:
      break;
    default:
      throw new Error(`unsupported schema type ${String(schema.type)}`);
  }
  if (!schema.properties || Object.keys(schema.properties).length === 0) {
    return schema.type === 'object' || schema.properties ? '{ [key: string]: unknown }' : 'unknown';
  }
  const required = new Set(schema.required ?? []);
  const inner = `${indent}  `;
  const members = Object.entries(schema.properties).map(([key, property]) => {
    const name = IDENTIFIER.test(key) ? key : JSON.stringify(key);
    return `${docComment(property.description, inner)}${inner}${name}${required.has(key) ? '' : '?'}: ${renderType(property, inner)};`;
  });
  return `{\n${members.join('\n')}\n${indent}}`;
}

export function renderTypes(schemas: SchemaMap): string {
  const header =
    '// GENERATED FILE, do not edit. Regenerate with:\n' +
    '//   node --import tsx src/bitbucket/generate-types.ts [path/to/bitbucket-cloud-openapi.json]\n' +
    '// Source: Bitbucket Cloud OpenAPI components/schemas, extracted into openapi-schemas.json.\n' +
    '// Most fields are optional because the description marks few as required.\n';
  const blocks = Object.entries(schemas).map(
    ([name, schema]) =>
      `${docComment(schema.description ?? (schema.title as string | undefined), '')}export type ${typeName(name)} = ${renderType(schema, '')};`,
  );
  return `${header}\n${blocks.join('\n\n')}\n`;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCHEMAS_FILE = path.join(here, 'openapi-schemas.json');
export const TYPES_FILE = path.join(here, 'openapi-types.ts');
export const DEFAULT_OPENAPI_FILE = path.resolve(here, '../../../shared/reference/bitbucket-cloud-openapi.json');

export function serializeSchemas(schemas: SchemaMap): string {
  return `${JSON.stringify(schemas, null, 2)}\n`;
}

function main(): void {
  const source = process.argv[2] ?? (existsSync(DEFAULT_OPENAPI_FILE) ? DEFAULT_OPENAPI_FILE : undefined);
  if (source) {
    const schemas = extractSchemas(JSON.parse(readFileSync(source, 'utf8')));
    writeFileSync(SCHEMAS_FILE, serializeSchemas(schemas));
    console.log(`extracted ${Object.keys(schemas).length} schemas from ${source}`);
  }
  const schemas = JSON.parse(readFileSync(SCHEMAS_FILE, 'utf8')) as SchemaMap;
  writeFileSync(TYPES_FILE, renderTypes(schemas));
  console.log(`wrote ${path.relative(process.cwd(), TYPES_FILE)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
