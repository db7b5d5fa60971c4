import type { Ecosystem } from '../../types.ts';
import { indexRecord, isEcosystem } from './compact.ts';
import { normalizePackageName } from './names.ts';
import type { IndexedAdvisory, OsvRecord } from './types.ts';

/** Lookup of advisories by ecosystem and package name; names are normalised by the index. */
export interface VulnIndex {
  /** Identifies the database version (the directory name on disk, or "memory"). */
  readonly version: string;
  /** Ecosystems the database holds; packages of other ecosystems cannot be checked. */
  readonly ecosystems: readonly Ecosystem[];
  advisoriesFor(ecosystem: Ecosystem, name: string): readonly IndexedAdvisory[];
}

/**
 * Files a record under each package of `ecosystem` it names, in the map one ecosystem's
 * advisories are served from; false when it names nothing matchable there.
 */
export function addToPackageMap(map: Map<string, IndexedAdvisory[]>, record: OsvRecord, ecosystem: Ecosystem): boolean {
  const entries = indexRecord(record, ecosystem);
  for (const [name, advisory] of entries) {
    const list = map.get(name);
    if (list) list.push(advisory);
    else map.set(name, [advisory]);
  }
  return entries.size > 0;
}

/** An index held in memory, built straight from OSV records (tests, embedding, one-off checks). */
export function createMemoryIndex(records: readonly OsvRecord[]): VulnIndex {
  const byEcosystem = new Map<Ecosystem, Map<string, IndexedAdvisory[]>>();
  for (const record of records) {
    const mentioned = new Set((record.affected ?? []).map((a) => a.package?.ecosystem ?? ''));
    for (const ecosystem of mentioned) {
      if (!isEcosystem(ecosystem)) continue;
      let map = byEcosystem.get(ecosystem);
      if (!map) byEcosystem.set(ecosystem, (map = new Map()));
      addToPackageMap(map, record, ecosystem);
    }
  }
  return {
    version: 'memory',
    ecosystems: [...byEcosystem.keys()],
    advisoriesFor: (ecosystem, name) => byEcosystem.get(ecosystem)?.get(normalizePackageName(ecosystem, name)) ?? [],
  };
}
