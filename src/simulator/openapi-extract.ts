import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * What the simulator's request checker needs from Atlassian's Bitbucket Cloud OpenAPI
 * description, committed as `bitbucket-openapi.json` so the simulator (and every end-to-end
 * test and the demo) runs on a fresh clone: every path template with its parameters, request
 * bodies and required scopes (the classic `security` ones Connect apps hold, and the granular
 * `x-atlassian-oauth2-scopes` Forge apps hold), and the component schemas those bodies reference. Responses,
 * prose and examples are dropped; the full description is 1.2 MB and lives outside the
 * repository (../shared/reference).
 *
 *   node --import tsx src/simulator/openapi-extract.ts [path/to/bitbucket-cloud-openapi.json]
 */

const here = path.dirname(fileURLToPath(import.meta.url));
export const FULL_OPENAPI_FILE = path.resolve(here, '../../../shared/reference/bitbucket-cloud-openapi.json');
export const EXTRACT_FILE = path.join(here, 'bitbucket-openapi.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
/** Annotation keywords; never dropped inside a `properties` map, where they are property names. */
const PROSE = new Set(['description', 'summary', 'title', 'example', 'examples', 'externalDocs']);
/** The one vendor extension the checker reads: an operation's granular (Forge) scopes. */
const GRANULAR_SCOPES = 'x-atlassian-oauth2-scopes';

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stripProse(node: Json, isPropertyMap = false): Json {
  if (Array.isArray(node)) return node.map((n) => stripProse(n));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (!isPropertyMap && (PROSE.has(key) || (key.startsWith('x-') && key !== GRANULAR_SCOPES))) continue;
    out[key] = stripProse(value, !isPropertyMap && (key === 'properties' || key === 'patternProperties'));
  }
  return out;
}

function refsIn(node: Json, found: Set<string>): void {
  if (Array.isArray(node)) for (const n of node) refsIn(n, found);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.add(value);
      else refsIn(value, found);
    }
  }
}

function pick(source: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k] as Json]));
}

export function extractOpenApi(doc: JsonObject): JsonObject {
  const paths: JsonObject = {};
  for (const [template, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    const kept: JsonObject = pick(item, ['parameters']);
    for (const method of METHODS) {
      const op = item[method];
      if (isObject(op)) kept[method] = pick(op, ['parameters', 'requestBody', 'security', GRANULAR_SCOPES]);
    }
    paths[template] = stripProse(kept);
  }

  // Components reachable from what is kept, following $refs through components too.
  const components = isObject(doc.components) ? doc.components : {};
  const keptComponents: Record<string, JsonObject> = {};
  const pending = new Set<string>();
  refsIn(paths, pending);
  const seen = new Set<string>();
  for (const ref of pending) {
    if (seen.has(ref)) continue;
    seen.add(ref);
    const m = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
    if (!m) throw new Error(`unsupported $ref ${ref}: only #/components/<kind>/<name> is followed`);
    const [, kind, name] = m as unknown as [string, string, string];
    const source = isObject(components[kind]) ? (components[kind] as JsonObject)[name] : undefined;
    if (source === undefined) throw new Error(`$ref ${ref} points at nothing`);
    const stripped = stripProse(source);
    (keptComponents[kind] ??= {})[name] = stripped;
    const more = new Set<string>();
    refsIn(stripped, more);
    for (const r of more) pending.add(r);
  }
  const sorted = Object.fromEntries(
    Object.entries(keptComponents)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, entries]) => [kind, Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)))]),
  );
  return { openapi: doc.openapi ?? null, info: pick(isObject(doc.info) ? doc.info : {}, ['title', 'version']), paths, components: { schemas: {}, ...sorted } };
}

export function renderExtract(doc: JsonObject): string {
  return `${JSON.stringify(extractOpenApi(doc), null, 1)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const source = process.argv[2] ?? FULL_OPENAPI_FILE;
  if (!existsSync(source)) {
    process.stderr.write(`openapi-extract: ${source} does not exist; pass the path of bitbucket-cloud-openapi.json\n`);
    process.exit(2);
  }
  writeFileSync(EXTRACT_FILE, renderExtract(JSON.parse(readFileSync(source, 'utf8')) as JsonObject));
  process.stdout.write(`wrote ${path.relative(process.cwd(), EXTRACT_FILE)}\n`);
}
