import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';

/**
 * yarn.lock, classic (v1, its own `key "value"` syntax) and Berry (v2+, YAML with
 * `__metadata`). Both are read line by line: each unindented `spec, spec:` line opens an
 * entry and its indented fields follow, which is all the structure either format uses.
 */
interface Entry {
  specs: string[];
  line: number;
  fields: Map<string, string>;
  deps: Map<string, string>;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** `name@range` → name, leaving the `@` of a scope alone. */
function specName(spec: string): string {
  const at = spec.indexOf('@', 1);
  return at === -1 ? spec : spec.slice(0, at);
}

/** A field line is `key value` (v1) or `key: value` (Berry); keys may be quoted. */
function splitField(text: string): [string, string] {
  const m = /^("(?:[^"\\]|\\.)*"|[^\s:]+):?\s*(.*)$/.exec(text);
  if (!m) return [text, ''];
  return [unquote(m[1] ?? ''), unquote(m[2] ?? '')];
}

function readEntries(file: string, content: string): { entries: Entry[]; berry: boolean } {
  const entries: Entry[] = [];
  let berry = false;
  let current: Entry | undefined;
  let inDeps = false;
  const lines = splitLines(content);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (indent === 0) {
      if (!text.endsWith(':')) throw new ParseError(file, `line ${i + 1}: expected an entry such as "name@range:"`);
      const key = text.slice(0, -1);
      if (key === '__metadata') {
        berry = true;
        current = undefined;
        continue;
      }
      // v1 quotes each spec (`"a@1", "a@2"`), Berry the whole list (`"a@npm:1, a@npm:2"`).
      current = { specs: key.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).filter(Boolean), line: i + 1, fields: new Map(), deps: new Map() };
      entries.push(current);
      inDeps = false;
      continue;
    }
    if (!current) continue;
    if (indent <= 2) {
      const [key, value] = splitField(text);
      inDeps = (key === 'dependencies' || key === 'optionalDependencies') && value === '';
      if (value !== '') current.fields.set(key, value);
    } else if (inDeps) {
      const [name, range] = splitField(text);
      current.deps.set(name, range);
    }
  }
  return { entries, berry };
}

export function parseYarnLock(file: string, content: string): PackageRef[] {
  const { entries, berry } = readEntries(file, content);
  // Berry writes `resolution: "name@npm:1.2.3"`; anything not from the npm protocol
  // (workspace:, patch:, link:, portal:, file:, git) is local or a duplicate of an npm entry.
  const resolved = new Map<string, { name: string; version: string; entry: Entry }>();
  const bySpec = new Map<string, string>();
  const directSpecs = new Set<string>();

  for (const entry of entries) {
    const version = entry.fields.get('version');
    if (!version) throw new ParseError(file, `line ${entry.line}: entry has no version`);
    let name = specName(entry.specs[0] ?? '');
    if (berry) {
      const resolution = entry.fields.get('resolution') ?? '';
      if (/@workspace:/.test(resolution)) {
        for (const [dep, range] of entry.deps) directSpecs.add(berrySpec(dep, range));
        continue;
      }
      const m = /^((?:@[^/@]+\/)?[^@]+)@npm:(.+)$/.exec(resolution);
      if (!m) continue;
      name = m[1] ?? name;
    } else {
      const resolvedUrl = entry.fields.get('resolved') ?? '';
      if (/^(file:|link:)/.test(resolvedUrl)) continue;
    }
    const id = `${name}@${version}`;
    for (const spec of entry.specs) bySpec.set(spec, id);
    if (!resolved.has(id)) resolved.set(id, { name, version, entry });
  }

  const directIds = new Set([...directSpecs].map((s) => bySpec.get(s)).filter((s): s is string => s !== undefined));
  const refs: PackageRef[] = [];
  for (const [id, { name, version, entry }] of resolved) {
    const dependsOn: string[] = [];
    for (const [dep, range] of entry.deps) {
      const target = bySpec.get(berry ? berrySpec(dep, range) : `${dep}@${range}`);
      if (target) dependsOn.push(target);
    }
    refs.push({
      ecosystem: 'npm',
      name,
      version,
      path: file,
      line: entry.line,
      // Classic yarn.lock does not record which packages package.json asked for.
      ...(berry ? { direct: directIds.has(id) } : {}),
      dependsOn,
    });
  }
  return refs;
}

/** Berry keys dependencies by the descriptor `name@npm:range` unless the range names its protocol. */
function berrySpec(name: string, range: string): string {
  return /^[a-z]+:/.test(range) ? `${name}@${range}` : `${name}@npm:${range}`;
}
