import type { PackageRef, PackageSource } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord, locateJsonKeys, parseJsonObject, pathKey } from './json-lines.ts';
import { stripJsonc } from './jsonc.ts';
import { isLocation, sourceFromUrl } from './sources.ts';

/**
 * bun.lock (Bun 1.1.39+, the text lockfile; JSON with trailing commas). `packages` maps an
 * install path (`react`, `@scope/name`, `parent/child` for a nested copy) to an array whose
 * first element is the resolved `name@version`, or `name@<protocol>:...` for workspace,
 * git, GitHub, archive, `file:` and `link:` packages; a registry entry's third element holds
 * its dependencies. `workspaces` lists each workspace's declared dependencies (the direct ones).
 */
export function parseBunLock(file: string, content: string): PackageRef[] {
  const text = stripJsonc(content);
  const parsed = parseJsonObject(text);
  if (!parsed.ok) throw new ParseError(file, parsed.reason);
  const lock = parsed.value;
  if (!isRecord(lock.packages)) throw new ParseError(file, 'no "packages" object');
  const lines = locateJsonKeys(text, (p) => p.length === 2 && p[0] === 'packages');

  const direct = new Set<string>();
  if (isRecord(lock.workspaces)) {
    for (const workspace of Object.values(lock.workspaces)) {
      if (!isRecord(workspace)) continue;
      for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
        if (isRecord(workspace[field])) for (const name of Object.keys(workspace[field])) direct.add(name);
      }
    }
  }

  const byPath = new Map<string, PackageRef>();
  const deps = new Map<PackageRef, string[]>();
  for (const [installPath, entry] of Object.entries(lock.packages)) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const resolved = readResolved(entry[0]);
    if (!resolved) continue;
    if (resolved.source?.kind === 'path' && resolved.version === '') {
      // A workspace's version is in its `workspaces` entry, keyed by its directory.
      const workspace = isRecord(lock.workspaces) ? lock.workspaces[resolved.source.location] : undefined;
      if (isRecord(workspace) && typeof workspace.version === 'string') resolved.version = workspace.version;
    }
    const info = entry.find((e: unknown, i) => i > 0 && isRecord(e) && !Array.isArray(e));
    const ref: PackageRef = {
      ecosystem: 'npm',
      name: resolved.name,
      version: resolved.version,
      path: file,
      line: lines.get(pathKey(['packages', installPath])) ?? 0,
      // A top-level install path is the name package.json used (an alias, possibly).
      direct: parentOf(installPath) === '' && direct.has(installPath),
      dependsOn: [],
      ...(resolved.source ? { source: resolved.source } : {}),
    };
    byPath.set(installPath, ref);
    const names: string[] = [];
    if (isRecord(info)) for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) if (isRecord(info[field])) names.push(...Object.keys(info[field]));
    deps.set(ref, names);
  }

  // A dependency resolves to the nested copy under the dependent's install path, else the one above it.
  for (const [installPath, ref] of byPath) {
    for (const dep of deps.get(ref) ?? []) {
      let base = installPath;
      for (;;) {
        const target = byPath.get(base ? `${base}/${dep}` : dep);
        if (target) {
          const id = `${target.name}@${target.version}`;
          if (!ref.dependsOn?.includes(id)) ref.dependsOn?.push(id);
          break;
        }
        if (!base) break;
        base = parentOf(base);
      }
    }
  }
  // The same package can sit at several install paths; one entry per distinct package.
  const unique = new Map<string, PackageRef>();
  for (const ref of byPath.values()) {
    const id = `${ref.name}@${ref.version}\u0000${ref.source?.location ?? ''}`;
    const seen = unique.get(id);
    if (!seen) unique.set(id, ref);
    else seen.direct = seen.direct || ref.direct;
  }
  return [...unique.values()];
}

function readResolved(spec: string): { name: string; version: string; source?: PackageSource } | undefined {
  const at = spec.indexOf('@', 1);
  if (at === -1) return undefined;
  const name = spec.slice(0, at);
  const rest = spec.slice(at + 1);
  if (rest.startsWith('workspace:')) return { name, version: '', source: { kind: 'path', location: rest.slice('workspace:'.length) } };
  if (rest.startsWith('link:')) return { name, version: '', source: { kind: 'path', location: rest.slice('link:'.length) } };
  if (isLocation(rest)) {
    const source = sourceFromUrl(rest);
    return { name, version: source.revision ?? '', source };
  }
  // `github:owner/repo#commit` is covered above; a bare `owner/repo#commit` is GitHub too.
  if (/^[^@./][^/]*\/[^/]+#/.test(rest)) {
    const source = sourceFromUrl(`github:${rest}`);
    return { name, version: source.revision ?? '', source };
  }
  return rest === '' ? undefined : { name, version: rest };
}

/** `a/b` → `a`, `@s/a/@t/b` → `@s/a`, `a` and `@s/a` → '' (top level). */
function parentOf(installPath: string): string {
  const cut = installPath.lastIndexOf('/');
  if (cut === -1) return '';
  const scoped = installPath.lastIndexOf('@', cut) > installPath.lastIndexOf('/', cut - 1);
  const nameStart = scoped ? installPath.lastIndexOf('/', cut - 1) : cut;
  return nameStart <= 0 ? '' : installPath.slice(0, nameStart);
}
