import type { PackageRef } from '../../types.ts';
import { ParseError } from '../errors.ts';
import { isRecord, locateJsonKeys, parseJsonObject, pathKey } from './json-lines.ts';

/**
 * NuGet packages.lock.json: `dependencies` maps each target framework (`net8.0`,
 * `net8.0/linux-x64`) to packages `{ type, requested, resolved, dependencies }`, where
 * `type` is Direct, Transitive, CentralTransitive or Project (another project of the
 * solution, listed as a local package). The same package repeats per framework.
 */
export function parseNugetLock(file: string, content: string): PackageRef[] {
  const parsed = parseJsonObject(content);
  if (!parsed.ok) throw new ParseError(file, parsed.reason);
  const frameworks = parsed.value.dependencies;
  if (!isRecord(frameworks)) throw new ParseError(file, 'no "dependencies" object');
  const lines = locateJsonKeys(content, (p) => p.length === 3 && p[0] === 'dependencies');

  const refs = new Map<string, PackageRef>();
  for (const [framework, packages] of Object.entries(frameworks)) {
    if (!isRecord(packages)) continue;
    // NuGet package ids are case-insensitive; dependencies may spell them differently.
    const resolved = new Map<string, string>();
    for (const [name, entry] of Object.entries(packages)) if (isRecord(entry) && typeof entry.resolved === 'string') resolved.set(name.toLowerCase(), entry.resolved);
    const resolvedIn = (name: string): string | undefined => resolved.get(name.toLowerCase());
    for (const [name, entry] of Object.entries(packages)) {
      if (!isRecord(entry)) continue;
      const project = entry.type === 'Project';
      const version = typeof entry.resolved === 'string' ? entry.resolved : project && typeof entry.version === 'string' ? entry.version : project ? '' : undefined;
      if (version === undefined) continue;
      const id = `${name.toLowerCase()}@${version}`;
      const dependsOn = isRecord(entry.dependencies)
        ? Object.keys(entry.dependencies).flatMap((dep) => {
            const v = resolvedIn(dep);
            return v ? [`${dep}@${v}`] : [];
          })
        : [];
      const existing = refs.get(id);
      if (existing) {
        existing.direct = existing.direct || entry.type === 'Direct';
        for (const d of dependsOn) if (!existing.dependsOn?.includes(d)) existing.dependsOn?.push(d);
        continue;
      }
      refs.set(id, {
        ecosystem: 'NuGet',
        name,
        version,
        path: file,
        line: lines.get(pathKey(['dependencies', framework, name])) ?? 0,
        direct: entry.type === 'Direct' || project,
        dependsOn,
        ...(project ? { source: { kind: 'path' as const, location: '' } } : {}),
      });
    }
  }
  return [...refs.values()];
}
