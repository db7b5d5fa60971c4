import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeAdvisories, ecosystemFileName, versionDir, type EcosystemFile } from '../../scan/deps/osv/layout.ts';
import type { IndexedAdvisory } from '../../scan/deps/osv/types.ts';
import { normalizePackageName } from '../../scan/deps/index.ts';
import type { Ecosystem } from '../../scan/types.ts';
import type { UpdateSummary } from '../../vulndb/update.ts';

/**
 * What an OSV update changed, by package: for every package whose advisories differ between
 * the previous database version and the new one, the advisories before and after. Versions
 * store each package's advisories as one JSON text, so a package changed exactly when its
 * text did; unchanged ecosystems are not read at all, changed ones one at a time.
 */
export interface AdvisoryDelta {
  /** The first database: every package counts as changed, with no advisories before. */
  readonly first: boolean;
  readonly packages: number;
  touched(ecosystem: Ecosystem, name: string): boolean;
  before(ecosystem: Ecosystem, name: string): readonly IndexedAdvisory[];
  after(ecosystem: Ecosystem, name: string): readonly IndexedAdvisory[];
}

interface Change {
  before: string | undefined;
  after: string | undefined;
}

export async function advisoryDelta(dataDir: string, summary: UpdateSummary, current: { advisoriesFor(e: Ecosystem, name: string): readonly IndexedAdvisory[] }): Promise<AdvisoryDelta> {
  if (summary.previousVersion === null) {
    return { first: true, packages: Infinity, touched: () => true, before: () => [], after: (e, n) => current.advisoriesFor(e, n) };
  }
  const changed = new Map<Ecosystem, Map<string, Change>>();
  let count = 0;
  for (const { ecosystem, mode } of summary.ecosystems) {
    if (mode === 'unchanged') continue;
    const [before, after] = await Promise.all([readPackages(dataDir, summary.previousVersion, ecosystem), readPackages(dataDir, summary.version, ecosystem)]);
    const byName = new Map<string, Change>();
    for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[name] !== after[name]) byName.set(name, { before: before[name], after: after[name] });
    }
    count += byName.size;
    if (byName.size > 0) changed.set(ecosystem, byName);
  }
  const find = (e: Ecosystem, name: string) => changed.get(e)?.get(normalizePackageName(e, name));
  return {
    first: false,
    packages: count,
    touched: (e, name) => find(e, name) !== undefined,
    before: (e, name) => decode(find(e, name)?.before),
    after: (e, name) => decode(find(e, name)?.after),
  };
}

function decode(text: string | undefined): IndexedAdvisory[] {
  return text === undefined ? [] : decodeAdvisories(text);
}

/** An ecosystem a version does not hold has no advisories in it. */
async function readPackages(dataDir: string, version: string, ecosystem: Ecosystem): Promise<Record<string, string>> {
  try {
    return (JSON.parse(await readFile(path.join(versionDir(dataDir, version), ecosystemFileName(ecosystem)), 'utf8')) as EcosystemFile).packages;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}
