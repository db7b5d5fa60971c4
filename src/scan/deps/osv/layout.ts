import path from 'node:path';
import type { IndexedAdvisory } from './types.ts';
import type { Ecosystem } from '../../types.ts';

/**
 * On-disk layout of the vulnerability database, shared by the reader (here) and the
 * writer (src/vulndb):
 *
 *   DATA_DIR/osv/CURRENT                  name of the active version directory
 *   DATA_DIR/osv/<version>/manifest.json  DbManifest
 *   DATA_DIR/osv/<version>/<ecosystem>.json  EcosystemFile
 *
 * A version directory is complete before CURRENT names it and is never modified after.
 */
export const INDEX_FORMAT = 1;

export interface EcosystemState {
  /** Number of (non-withdrawn) OSV records indexed. */
  records: number;
  /** Latest `modified` among them: the next delta asks for records modified since. */
  lastModified: string;
  updatedAt: string;
}

export interface DbManifest {
  format: number;
  createdAt: string;
  ecosystems: Partial<Record<Ecosystem, EcosystemState>>;
}

export interface EcosystemFile {
  format: number;
  ecosystem: Ecosystem;
  /**
   * Normalised package name → the JSON text of the advisories naming it (IndexedAdvisory[]),
   * cut down to that package. Kept as text so that loading an ecosystem builds one string per
   * package instead of every advisory object: a scan decodes only the packages it looks up.
   */
  packages: Record<string, string>;
}

export const VERSION_NAME = /^v\d{8}T\d{6}\d{3}Z-[0-9a-f]{6}$/;

export function osvRoot(dataDir: string): string {
  return path.resolve(dataDir, 'osv');
}

export function currentPointer(dataDir: string): string {
  return path.join(osvRoot(dataDir), 'CURRENT');
}

export function versionDir(dataDir: string, version: string): string {
  return path.join(osvRoot(dataDir), version);
}

export function ecosystemFileName(ecosystem: Ecosystem): string {
  return `${ecosystem}.json`;
}

export const MANIFEST = 'manifest.json';

export function decodeAdvisories(text: string): IndexedAdvisory[] {
  return JSON.parse(text) as IndexedAdvisory[];
}

export function encodeAdvisories(advisories: readonly IndexedAdvisory[]): string {
  return JSON.stringify(advisories);
}
