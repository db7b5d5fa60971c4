import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { ENTITY_TYPES, type EntityType, type InventoryEntity } from './model.ts';

/**
 * The export mapping language (docs/inventory.md "Mapping"): a YAML or JSON document that
 * selects entity types and says which output fields each row has, in order, each taken
 * from a path into the entity, given a constant, or a default when the path is missing.
 * Nothing in it is executed: a path is dot-separated names and `[n]` indexes, nothing more.
 *
 *   version: 1
 *   types: [finding]
 *   fields:
 *     repo: repositoryFullName
 *     severity: severity
 *     triaged_by: { path: triage.by, default: "" }
 *     source: { const: gatehouse }
 *
 * A mapping that does not parse or names something unknown is refused with the line and
 * column of the problem.
 */

export const MAX_MAPPING_BYTES = 64 * 1024;
const MAX_FIELDS = 200;
const MAX_SEGMENTS = 20;

type Segment = string | number;
type Scalar = string | number | boolean | null;

export interface Field {
  name: string;
  path: Segment[] | null;
  value: Scalar;
}

export interface Mapping {
  /** Null: every type. */
  types: EntityType[] | null;
  fields: Field[];
  /** The text it was parsed from, as given (what is stored and shown back). */
  source: string;
}

export class MappingError extends Error {
  override name = 'MappingError';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

export function parseMapping(text: string): Mapping {
  if (Buffer.byteLength(text) > MAX_MAPPING_BYTES) throw new MappingError(`the mapping is over ${MAX_MAPPING_BYTES / 1024} KB`, 1, 1);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = lines.linePos(first.pos[0]);
    throw new MappingError(first.message.split('\n')[0] ?? 'not YAML or JSON', at.line, at.col);
  }
  const fail = (node: Node | Pair | null | undefined, reason: string): never => {
    const offset = (node && 'range' in node ? node.range?.[0] : node && 'key' in node ? (node.key as Node | null)?.range?.[0] : undefined) ?? 0;
    const at = lines.linePos(offset);
    throw new MappingError(reason, at.line, at.col);
  };
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'the mapping is a map with version, fields and optionally types');
  let version: unknown;
  let types: EntityType[] | null = null;
  let fields: Field[] | null = null;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    const value = pair.value as Node | null;
    if (key === 'version') {
      version = isScalar(value) ? value.value : undefined;
      if (version !== 1) fail(value ?? pair, 'version must be 1');
    } else if (key === 'types') {
      if (!isSeq(value) || value.items.length === 0) return fail(value ?? pair, `types is a list of ${ENTITY_TYPES.join(', ')}`);
      types = value.items.map((item) => {
        const name = isScalar(item) ? item.value : undefined;
        if (!(ENTITY_TYPES as readonly unknown[]).includes(name)) fail(item as Node, `unknown type ${JSON.stringify(name)}; expected one of ${ENTITY_TYPES.join(', ')}`);
        return name as EntityType;
      });
    } else if (key === 'fields') {
      fields = parseFields(value, pair, fail);
    } else {
      fail(pair, `unknown key ${JSON.stringify(key)}; expected version, types or fields`);
    }
  }
  if (version === undefined) fail(root, 'version: 1 is missing');
  if (fields === null) return fail(root, 'fields is missing');
  return { types, fields, source: text };
}

function parseFields(value: Node | null, pair: Pair, fail: (node: Node | Pair | null | undefined, reason: string) => never): Field[] {
  if (!isMap(value) || value.items.length === 0) return fail(value ?? pair, 'fields maps output names to paths (or {path, default} or {const})');
  if (value.items.length > MAX_FIELDS) fail(value, `at most ${MAX_FIELDS} fields`);
  return value.items.map((item) => {
    const name = isScalar(item.key) ? item.key.value : undefined;
    if (typeof name !== 'string' || !/^[^\p{Cc}]{1,100}$/u.test(name)) return fail(item, 'a field name is a string of 1 to 100 characters');
    const spec = item.value as Node | null;
    if (isScalar(spec)) {
      if (typeof spec.value !== 'string') return fail(spec, `${name}: a path is a string such as triage.by; a constant is written { const: value }`);
      return { name, path: parsePath(spec.value, spec, fail), value: null };
    }
    if (!isMap(spec)) return fail(spec ?? item, `${name}: a path, { path, default } or { const }`);
    let path: Segment[] | null = null;
    let constant: Scalar | undefined;
    let fallback: Scalar = null;
    for (const p of spec.items) {
      const key = isScalar(p.key) ? p.key.value : undefined;
      const v = p.value as Node | null;
      if (key === 'path') {
        if (!isScalar(v) || typeof v.value !== 'string') return fail(v ?? p, `${name}: path is a string`);
        path = parsePath(v.value, v, fail);
      } else if (key === 'const' || key === 'default') {
        if (!isScalar(v)) return fail(v ?? p, `${name}: ${key} is a string, number, boolean or null`);
        const scalar = v.value as Scalar;
        if (key === 'const') constant = scalar;
        else fallback = scalar;
      } else {
        fail(p, `${name}: unknown key ${JSON.stringify(key)}; expected path, default or const`);
      }
    }
    if ((path === null) === (constant === undefined)) return fail(spec, `${name}: give either path (with an optional default) or const`);
    return path ? { name, path, value: fallback } : { name, path: null, value: constant ?? null };
  });
}

function parsePath(text: string, node: Node, fail: (node: Node, reason: string) => never): Segment[] {
  const segments: Segment[] = [];
  const grammar = /^(?:([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,6})\])/;
  let rest = text;
  let expectName = true;
  while (rest.length > 0) {
    if (!expectName && rest.startsWith('.')) {
      rest = rest.slice(1);
      expectName = true;
      continue;
    }
    const m = grammar.exec(rest);
    if (!m || (m[1] !== undefined && !expectName) || (m[2] !== undefined && segments.length === 0)) return fail(node, `${JSON.stringify(text)} is not a path: names joined by dots, with optional [n] indexes`);
    segments.push(m[1] ?? Number(m[2]));
    rest = rest.slice(m[0].length);
    expectName = false;
  }
  if (segments.length === 0 || expectName) return fail(node, `${JSON.stringify(text)} is not a path: names joined by dots, with optional [n] indexes`);
  if (segments.length > MAX_SEGMENTS) return fail(node, `a path has at most ${MAX_SEGMENTS} parts`);
  return segments;
}

/** The row for one entity, or null when the mapping does not select its type. */
export function applyMapping(mapping: Mapping, entity: InventoryEntity): Record<string, unknown> | null {
  if (mapping.types && !mapping.types.includes(entity.type)) return null;
  const row: Record<string, unknown> = {};
  for (const field of mapping.fields) row[field.name] = field.path ? (lookup(entity, field.path) ?? field.value) : field.value;
  return row;
}

function lookup(value: unknown, path: Segment[]): unknown {
  let at = value;
  for (const segment of path) {
    if (at === null || typeof at !== 'object') return undefined;
    if (typeof segment === 'number') {
      if (!Array.isArray(at)) return undefined;
      at = at[segment];
    } else {
      if (Array.isArray(at) || !Object.hasOwn(at, segment)) return undefined;
      at = (at as Record<string, unknown>)[segment];
    }
  }
  return at === null ? null : at;
}
