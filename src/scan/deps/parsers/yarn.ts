import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { splitLines } from './lines.ts';
import { isLocation, sourceFromUrl } from './sources.ts';

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
  const resolved = new Map<string, { name: string; version: string; entry: Entry; source?: PackageSource }>();
  const bySpec = new Map<string, string>();
  const directSpecs = new Set<string>();

  for (const entry of entries) {
    const version = entry.fields.get('version');
    if (!version) throw new ParseError(file, `line ${entry.line}: entry has no version`);
    const spec = entry.specs[0] ?? '';
    let read: { name: string; source?: PackageSource } | undefined;
    if (berry) {
      const resolution = entry.fields.get('resolution') ?? '';
      if (/@workspace:/.test(resolution)) {
        for (const [dep, range] of entry.deps) directSpecs.add(berrySpec(dep, range));
      }
      read = fromBerryResolution(resolution);
    } else {
      read = fromClassicSpec(spec, entry.fields.get('resolved') ?? '');
    }
    if (!read) continue;
    const id = `${read.name}@${version}`;
    // Berry suffixes local specs with the workspace that declared them (`::locator=...`), which its dependents do not write.
    for (const s of entry.specs) bySpec.set(s, id).set(s.replace(/::.*$/, ''), id);
    const key = `${id}\u0000${read.source?.location ?? ''}`;
    if (!resolved.has(key)) resolved.set(key, { name: read.name, version, entry, ...(read.source ? { source: read.source } : {}) });
  }

  const directIds = new Set([...directSpecs].map((s) => bySpec.get(s)).filter((s): s is string => s !== undefined));
  const refs: PackageRef[] = [];
  for (const { name, version, entry, source } of resolved.values()) {
    const id = `${name}@${version}`;
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
      ...(source ? { source } : {}),
    });
  }
  return refs;
}

/**
 * Berry writes `resolution: "name@<protocol>:<what>"`. `npm:` is the registry; `patch:`
 * entries repeat a package listed on its own; the root workspace (`workspace:.`) is the
 * project itself; git, archive, file, link and portal resolutions are packages from elsewhere.
 */
function fromBerryResolution(resolution: string): { name: string; source?: PackageSource } | undefined {
  const m = /^((?:@[^/@]+\/)?[^@]+)@([a-z+-]+):(.*)$/.exec(resolution);
  if (!m?.[1] || !m[2]) return undefined;
  const [, name, protocol, rest = ''] = m;
  switch (protocol) {
    case 'npm':
      return { name };
    case 'patch':
      return undefined;
    case 'workspace':
      return rest === '.' ? undefined : { name, source: { kind: 'path', location: rest } };
    case 'file':
    case 'link':
    case 'portal':
      // `file:./libs/a#./libs/a::locator=app%40workspace%3A.`: the path, then where it was declared.
      return { name, source: { kind: 'path', location: rest.replace(/[#:].*$/, '') } };
    default: {
      // `https://github.com/o/r.git#commit=<sha>`, `git+ssh://...#commit=`, archive URLs.
      const source = sourceFromUrl(`${protocol}:${rest}`.replace(/#commit=/, '#').replace(/::.*$/, ''));
      return { name, source };
    }
  }
}

/**
 * Classic entries are keyed by what package.json asked for: `name@range`, with `npm:real@range`
 * for an alias (installed under the alias, but the real package), or a git, archive or
 * `file:` specifier; `resolved` says where it was fetched from.
 */
function fromClassicSpec(spec: string, resolved: string): { name: string; source?: PackageSource } {
  let name = specName(spec);
  let range = spec.slice(name.length + 1);
  if (range.startsWith('npm:')) {
    name = specName(range.slice(4));
    range = range.slice(4 + name.length + 1);
  }
  if (/^(file:|link:)/.test(range)) return { name, source: { kind: 'path', location: range.replace(/^(file|link):/, '') } };
  if (resolved.startsWith('file:')) return { name, source: sourceFromUrl(resolved) };
  if (isLocation(range) || /^[^@./][^/]*\/[^/]+$/.test(range)) {
    // A git specifier resolves to the commit (`...#<sha>`); an archive URL to itself.
    const source = sourceFromUrl(resolved || range);
    return { name, source: source.kind === 'url' ? { kind: 'url', location: range } : source };
  }
  return { name };
}

/** Berry keys dependencies by the descriptor `name@npm:range` unless the range names its protocol. */
function berrySpec(name: string, range: string): string {
  return /^[a-z]+:/.test(range) ? `${name}@${range}` : `${name}@npm:${range}`;
}
