import type { OsvRecord } from '../scan/deps/osv/types.ts';
import type { PackageMap } from './store.ts';

/** Per-ecosystem advisories with the `modified` stamp of each, for telling what changed. */
export function idsOf(packages: PackageMap): Map<string, string> {
  const ids = new Map<string, string>();
  for (const list of packages.values()) for (const a of list) ids.set(a.id, a.modified);
  return ids;
}

export function isOsvRecord(value: unknown): value is OsvRecord {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string';
}

/** Drops every advisory whose id is in `ids`, wherever it is filed. */
export function removeIds(packages: PackageMap, ids: ReadonlySet<string>): void {
  if (ids.size === 0) return;
  for (const [name, list] of packages) {
    const kept = list.filter((a) => !ids.has(a.id));
    if (kept.length === 0) packages.delete(name);
    else if (kept.length !== list.length) packages.set(name, kept);
  }
}

export interface Changes {
  added: number;
  updated: number;
  withdrawn: number;
}

/** Compares the ids (and their `modified`) before and after to count what an update changed. */
export function diffIds(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Changes {
  let added = 0;
  let updated = 0;
  let withdrawn = 0;
  for (const [id, modified] of after) {
    const old = before.get(id);
    if (old === undefined) added++;
    else if (old !== modified) updated++;
  }
  for (const id of before.keys()) if (!after.has(id)) withdrawn++;
  return { added, updated, withdrawn };
}
