import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Ecosystem } from '../../types.ts';
import { isEcosystem } from './compact.ts';
import { INDEX_FORMAT, MANIFEST, VERSION_NAME, currentPointer, decodeAdvisories, ecosystemFileName, versionDir, type DbManifest, type EcosystemFile } from './layout.ts';
import { normalizePackageName } from './names.ts';
import type { IndexedAdvisory } from './types.ts';
import type { VulnIndex } from './vuln-index.ts';

/** The database on disk is present but unreadable; distinct from "no database yet". */
export class VulnIndexError extends Error {
  override name = 'VulnIndexError';
}

interface Cached {
  pointer: string;
  mtimeMs: number;
  index: VulnIndex;
}

const opened = new Map<string, Cached>();

/**
 * Opens the active database version under DATA_DIR, or returns null when none has been
 * downloaded yet. Cheap to call before every scan: it re-reads only the CURRENT pointer and
 * reuses the loaded index until `db update` points CURRENT at a newer version.
 * Ecosystem files are loaded on first lookup, so a scan of one go.mod never reads npm's.
 */
export function openVulnIndex(dataDir: string): VulnIndex | null {
  const pointerFile = currentPointer(dataDir);
  let pointer: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(pointerFile).mtimeMs;
    pointer = readFileSync(pointerFile, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new VulnIndexError(`cannot read ${pointerFile}: ${(error as Error).message}`);
  }
  const key = path.resolve(dataDir);
  const cached = opened.get(key);
  if (cached && cached.pointer === pointer && cached.mtimeMs === mtimeMs) return cached.index;
  if (!VERSION_NAME.test(pointer)) throw new VulnIndexError(`${pointerFile} does not name a database version`);
  const index = loadVersion(versionDir(dataDir, pointer), pointer);
  opened.set(key, { pointer, mtimeMs, index });
  return index;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new VulnIndexError(`vulnerability database file ${file} is unreadable (${(error as Error).message}); run gatehouse db update`);
  }
}

function loadVersion(dir: string, version: string): VulnIndex {
  const manifest = readJson(path.join(dir, MANIFEST)) as DbManifest;
  if (manifest?.format !== INDEX_FORMAT) throw new VulnIndexError(`${dir} has an unknown index format; run gatehouse db update`);
  const ecosystems = Object.keys(manifest.ecosystems ?? {}).filter(isEcosystem);
  const loaded = new Map<Ecosystem, Map<string, string | IndexedAdvisory[]>>();

  const packagesOf = (ecosystem: Ecosystem): Map<string, string | IndexedAdvisory[]> | undefined => {
    if (!ecosystems.includes(ecosystem)) return undefined;
    let map = loaded.get(ecosystem);
    if (!map) {
      const fileName = path.join(dir, ecosystemFileName(ecosystem));
      const file = readJson(fileName) as EcosystemFile;
      if (file?.format !== INDEX_FORMAT || file.ecosystem !== ecosystem || typeof file.packages !== 'object') {
        throw new VulnIndexError(`${fileName} is not a ${ecosystem} index; run gatehouse db update`);
      }
      map = new Map(Object.entries(file.packages));
      loaded.set(ecosystem, map);
    }
    return map;
  };

  const advisoriesFor = (ecosystem: Ecosystem, name: string): IndexedAdvisory[] => {
    const map = packagesOf(ecosystem);
    const key = normalizePackageName(ecosystem, name);
    const entry = map?.get(key);
    if (entry === undefined || typeof entry !== 'string') return entry ?? [];
    let decoded: IndexedAdvisory[];
    try {
      decoded = decodeAdvisories(entry);
    } catch (error) {
      throw new VulnIndexError(`${ecosystem} index entry for ${key} is unreadable (${(error as Error).message}); run gatehouse db update`);
    }
    map?.set(key, decoded);
    return decoded;
  };

  return {
    version,
    ecosystems,
    advisoriesFor,
  };
}
