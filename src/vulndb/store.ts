import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  INDEX_FORMAT,
  MANIFEST,
  VERSION_NAME,
  currentPointer,
  decodeAdvisories,
  ecosystemFileName,
  encodeAdvisories,
  osvRoot,
  versionDir,
  type DbManifest,
  type EcosystemFile,
  type EcosystemState,
} from '../scan/deps/osv/layout.ts';
import type { IndexedAdvisory } from '../scan/deps/osv/types.ts';
import type { Ecosystem } from '../scan/types.ts';
import { lockDirectory } from '../store/process-lock.ts';
import { VulnDbError } from './errors.ts';

export const UPDATE_LOCK_FILE = '.update.lock';

/**
 * The write side of the database layout described in src/scan/deps/osv/layout.ts. A new
 * version is assembled in a staging directory, flushed, renamed into place, and only then
 * named by CURRENT (itself replaced by rename), so a reader sees the old version or the
 * new one, never a mixture, and an interrupted update leaves nothing but a staging folder.
 */
export type PackageMap = Map<string, IndexedAdvisory[]>;

export interface CurrentDb {
  version: string;
  dir: string;
  manifest: DbManifest;
}

export async function readCurrent(dataDir: string): Promise<CurrentDb | null> {
  let version: string;
  try {
    version = (await readFile(currentPointer(dataDir), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (!VERSION_NAME.test(version)) return null;
  const dir = versionDir(dataDir, version);
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as DbManifest;
    if (manifest.format !== INDEX_FORMAT) return null;
    return { version, dir, manifest };
  } catch {
    // An unreadable current version is rebuilt from full downloads rather than patched.
    return null;
  }
}

export async function readPackageMap(db: CurrentDb, ecosystem: Ecosystem): Promise<PackageMap> {
  const file = JSON.parse(await readFile(path.join(db.dir, ecosystemFileName(ecosystem)), 'utf8')) as EcosystemFile;
  return new Map(Object.entries(file.packages).map(([name, text]) => [name, decodeAdvisories(text)]));
}

export function newVersionName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `v${stamp.slice(0, -1)}Z-${randomBytes(3).toString('hex')}`;
}

async function writeDurably(file: string, data: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class StagedVersion {
  readonly version = newVersionName();
  readonly dir: string;

  constructor(private readonly dataDir: string) {
    this.dir = path.join(osvRoot(dataDir), `.staging-${this.version}`);
  }

  async create(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Scratch space for downloads, removed before the version is published. */
  get scratch(): string {
    return path.join(this.dir, '.download');
  }

  async writeEcosystem(ecosystem: Ecosystem, packages: PackageMap): Promise<void> {
    const encoded = Object.fromEntries([...packages].map(([name, advisories]) => [name, encodeAdvisories(advisories)]));
    const file: EcosystemFile = { format: INDEX_FORMAT, ecosystem, packages: encoded };
    await writeDurably(path.join(this.dir, ecosystemFileName(ecosystem)), JSON.stringify(file));
  }

  /** Versions are immutable, so an unchanged ecosystem is carried over by copy. */
  async carryOver(from: CurrentDb, ecosystem: Ecosystem): Promise<void> {
    const target = path.join(this.dir, ecosystemFileName(ecosystem));
    await copyFile(path.join(from.dir, ecosystemFileName(ecosystem)), target, constants.COPYFILE_FICLONE);
    const handle = await open(target, 'r+');
    await handle.sync().finally(() => handle.close());
  }

  async publish(ecosystems: Partial<Record<Ecosystem, EcosystemState>>): Promise<void> {
    await rm(this.scratch, { recursive: true, force: true });
    const manifest: DbManifest = { format: INDEX_FORMAT, createdAt: new Date().toISOString(), ecosystems };
    await writeDurably(path.join(this.dir, MANIFEST), JSON.stringify(manifest, null, 2));
    await syncDir(this.dir);
    const root = osvRoot(this.dataDir);
    await rename(this.dir, versionDir(this.dataDir, this.version));
    await syncDir(root);
    const pointerTmp = path.join(root, `.CURRENT-${this.version}`);
    await writeDurably(pointerTmp, `${this.version}\n`);
    await rename(pointerTmp, currentPointer(this.dataDir));
    await syncDir(root);
  }

  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Removes versions older than the previous one (a scan that opened the previous version just
 * before the swap may still be loading its files) and staging folders of interrupted runs.
 */
export async function prune(dataDir: string, keep: readonly string[]): Promise<void> {
  const root = osvRoot(dataDir);
  if (!existsSync(root)) return;
  for (const name of await readdir(root)) {
    const stale = (VERSION_NAME.test(name) && !keep.includes(name)) || name.startsWith('.staging-') || name.startsWith('.CURRENT-');
    if (stale) await rm(path.join(root, name), { recursive: true, force: true });
  }
}

/**
 * One `db update` at a time per DATA_DIR, held until the returned function runs or the
 * process dies (the kernel frees it; see src/store/process-lock.ts).
 */
export async function acquireLock(dataDir: string, options: { takeOverFromOtherHost?: boolean } = {}): Promise<() => Promise<void>> {
  const root = osvRoot(dataDir);
  await mkdir(root, { recursive: true });
  return lockDirectory(root, {
    purpose: 'vulndb-update',
    file: UPDATE_LOCK_FILE,
    takeOverFromOtherHost: options.takeOverFromOtherHost,
    held: (message) => new VulnDbError(`another db update is running: ${message}`),
  });
}
