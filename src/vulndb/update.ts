import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { EcosystemState } from '../scan/deps/osv/layout.ts';
import { ECOSYSTEMS, type Ecosystem } from '../scan/types.ts';
import { addToPackageMap } from '../scan/deps/osv/vuln-index.ts';
import { diffIds, idsOf, isOsvRecord, removeIds, type Changes } from './apply.ts';
import { MirrorClient, type Fetch } from './download.ts';
import { VulnDbError } from './errors.ts';
import { acquireLock, prune, readCurrent, readPackageMap, StagedVersion, type CurrentDb, type PackageMap } from './store.ts';
import { forEachJsonEntry } from './unzip.ts';

export interface UpdateOptions {
  /** Base URL of an OSV export: `<mirrorUrl>/<ecosystem>/all.zip` and `/modified_id.csv`. */
  mirrorUrl: string;
  dataDir: string;
  /** Defaults to every ecosystem the lockfile parsers produce. */
  ecosystems?: readonly Ecosystem[];
  fetch?: Fetch;
  log?: (line: string) => void;
  /** Above this many modified records a delta is slower than the full archive. */
  maxDeltaRecords?: number;
  /** A download that receives nothing for this long is abandoned (default 60 s). */
  stallTimeoutMs?: number;
  /** Take over an update lock written by another host (DATA_DIR_LOCK_OTHER_HOST=take-over). */
  takeOverLockFromOtherHost?: boolean;
}

export interface EcosystemChange extends Changes {
  ecosystem: Ecosystem;
  mode: 'full' | 'delta' | 'unchanged';
  /** Advisories indexed for this ecosystem after the update. */
  total: number;
}

export interface UpdateSummary {
  /** Active database version after the update. */
  version: string;
  previousVersion: string | null;
  /** False when every ecosystem was already up to date and no new version was written. */
  changed: boolean;
  ecosystems: EcosystemChange[];
}

const DEFAULT_MAX_DELTA = 5_000;
const DEFAULT_STALL_MS = 60_000;
const FETCH_CONCURRENCY = 8;

interface Built {
  packages: PackageMap;
  state: EcosystemState;
  change: EcosystemChange;
}

/**
 * Downloads or refreshes the OSV database under DATA_DIR. The first run for an ecosystem
 * reads its all.zip; later runs fetch only the records modified_id.csv lists as changed since
 * the last one. Whatever fails, the version that was active before stays active.
 */
export async function updateVulnDb(options: UpdateOptions): Promise<UpdateSummary> {
  const client = new MirrorClient(options.fetch ?? globalThis.fetch, options.stallTimeoutMs ?? DEFAULT_STALL_MS);
  const log = options.log ?? (() => undefined);
  const mirror = options.mirrorUrl.replace(/\/+$/, '');
  const ecosystems = [...new Set(options.ecosystems ?? ECOSYSTEMS)];
  const unknown = ecosystems.filter((e) => !(ECOSYSTEMS as readonly string[]).includes(e));
  if (unknown.length > 0) throw new VulnDbError(`unknown ecosystem ${unknown.join(', ')}; expected some of ${ECOSYSTEMS.join(', ')}`);

  const release = await acquireLock(options.dataDir, { takeOverFromOtherHost: options.takeOverLockFromOtherHost });
  const staged = new StagedVersion(options.dataDir);
  try {
    const current = await readCurrent(options.dataDir);
    await prune(options.dataDir, current ? [current.version] : []);
    await staged.create();
    await mkdir(staged.scratch, { recursive: true });

    // Each ecosystem is written to the staging folder as soon as it is built, so only one
    // ecosystem's index is in memory at a time.
    const changes: EcosystemChange[] = [];
    const states: Partial<Record<Ecosystem, EcosystemState>> = {};
    for (const ecosystem of ecosystems) {
      const previous = current?.manifest.ecosystems[ecosystem];
      const ctx = { client, mirror, ecosystem, log, scratch: staged.scratch };
      const { packages, state, change } =
        current && previous
          ? await deltaUpdate(ctx, current, previous, options.maxDeltaRecords ?? DEFAULT_MAX_DELTA)
          : await fullUpdate(ctx, new Map());
      if (change.mode === 'unchanged' && current) await staged.carryOver(current, ecosystem);
      else await staged.writeEcosystem(ecosystem, packages);
      states[ecosystem] = state;
      changes.push(change);
    }

    if (current && changes.every((c) => c.mode === 'unchanged')) {
      await staged.discard();
      return { version: current.version, previousVersion: current.version, changed: false, ecosystems: changes };
    }

    // Ecosystems this run was not asked about stay as they were.
    for (const [ecosystem, state] of Object.entries(current?.manifest.ecosystems ?? {}) as [Ecosystem, EcosystemState][]) {
      if (current && !ecosystems.includes(ecosystem)) {
        await staged.carryOver(current, ecosystem);
        states[ecosystem] = state;
      }
    }
    await staged.publish(states);
    await prune(options.dataDir, [staged.version, ...(current ? [current.version] : [])]);
    log(`vulnerability database ${staged.version} is now active`);
    return { version: staged.version, previousVersion: current?.version ?? null, changed: true, ecosystems: changes };
  } catch (error) {
    await staged.discard();
    throw error;
  } finally {
    await release();
  }
}

interface Context {
  client: MirrorClient;
  mirror: string;
  ecosystem: Ecosystem;
  log: (line: string) => void;
  scratch: string;
}

function ecosystemUrl(ctx: Context, file: string): string {
  return `${ctx.mirror}/${encodeURIComponent(ctx.ecosystem)}/${file}`;
}

async function fullUpdate(ctx: Context, before: PackageMap): Promise<Built> {
  const url = ecosystemUrl(ctx, 'all.zip');
  ctx.log(`${ctx.ecosystem}: downloading ${url}`);
  const zipFile = path.join(ctx.scratch, `${ctx.ecosystem}.zip`);
  const bytes = await ctx.client.downloadToFile(url, zipFile);
  const packages: PackageMap = new Map();
  let lastModified = '';
  let skipped = 0;
  await forEachJsonEntry(
    zipFile,
    `${ctx.ecosystem}/all.zip`,
    (_name, value) => {
      if (!isOsvRecord(value)) {
        skipped++;
        return;
      }
      addToPackageMap(packages, value, ctx.ecosystem);
      if (typeof value.modified === 'string' && value.modified > lastModified) lastModified = value.modified;
    },
    (name, reason) => {
      skipped++;
      ctx.log(`${ctx.ecosystem}: skipped ${name} (${reason})`);
    },
  );
  // The archive is not needed once indexed; several ecosystems' archives need not share the disk.
  await rm(zipFile, { force: true });
  const after = idsOf(packages);
  const change = diffIds(idsOf(before), after);
  ctx.log(`${ctx.ecosystem}: indexed ${after.size} advisories from ${(bytes / 1e6).toFixed(1)} MB${skipped ? `, skipped ${skipped} unreadable entries` : ''}`);
  return {
    packages,
    state: { records: after.size, lastModified, updatedAt: new Date().toISOString() },
    change: { ecosystem: ctx.ecosystem, mode: 'full', total: after.size, ...change },
  };
}

/** modified_id.csv lists `<modified>,<id>` newest first (the bucket-wide one as `<ecosystem>/<id>`). */
function parseCsvLine(line: string): { modified: string; id: string } | undefined {
  const comma = line.indexOf(',');
  if (comma === -1) return undefined;
  const modified = line.slice(0, comma).trim();
  const id = line.slice(comma + 1).trim().split('/').pop() ?? '';
  if (!/^\d{4}-\d{2}-\d{2}T/.test(modified) || !/^[A-Za-z0-9._:-]+$/.test(id)) return undefined;
  return { modified, id };
}

async function deltaUpdate(ctx: Context, current: CurrentDb, previous: EcosystemState, maxRecords: number): Promise<Built> {
  const url = ecosystemUrl(ctx, 'modified_id.csv');
  const since = previous.lastModified;
  const wanted = new Map<string, string>();
  let newest = since;
  // Records stamped exactly at the last update's high-water mark are fetched again: one that
  // changed in the same second as the last export would otherwise be missed.
  let first = true;
  for await (const line of ctx.client.readLines(url)) {
    if (line.trim() === '') continue;
    const entry = parseCsvLine(line);
    const header = first && /^[a-z_]+,[a-z_]+$/i.test(line.trim());
    first = false;
    if (header) continue;
    if (!entry) throw new VulnDbError(`${url}: unexpected line "${line.slice(0, 80)}"`);
    if (entry.modified < since) break;
    if (!wanted.has(entry.id)) wanted.set(entry.id, entry.modified);
    if (entry.modified > newest) newest = entry.modified;
    if (wanted.size > maxRecords) {
      ctx.log(`${ctx.ecosystem}: more than ${maxRecords} records changed; downloading the full archive instead`);
      return fullUpdate(ctx, await readPackageMap(current, ctx.ecosystem));
    }
  }

  const packages = await readPackageMap(current, ctx.ecosystem);
  const before = idsOf(packages);
  const fetched = new Map<string, unknown>();
  const queue = [...wanted.keys()];
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      fetched.set(id, await ctx.client.getJson(ecosystemUrl(ctx, `${encodeURIComponent(id)}.json`)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, worker));

  const changes: Changes = { added: 0, updated: 0, withdrawn: 0 };
  removeIds(packages, new Set(wanted.keys()));
  for (const id of wanted.keys()) {
    const record = fetched.get(id);
    const existed = before.has(id);
    // A record that is gone from the mirror or marked withdrawn no longer applies.
    if (record === undefined || (isOsvRecord(record) && record.withdrawn)) {
      if (existed) changes.withdrawn++;
      continue;
    }
    if (!isOsvRecord(record) || record.id !== id) throw new VulnDbError(`${ecosystemUrl(ctx, `${id}.json`)} is not the OSV record ${id}`);
    if (!addToPackageMap(packages, record, ctx.ecosystem)) {
      if (existed) changes.withdrawn++;
    } else if (!existed) changes.added++;
    else if (before.get(id) !== (record.modified ?? '')) changes.updated++;
  }
  const total = idsOf(packages).size;
  const unchanged = changes.added + changes.updated + changes.withdrawn === 0;
  ctx.log(`${ctx.ecosystem}: ${unchanged ? 'up to date' : `${changes.added} added, ${changes.updated} updated, ${changes.withdrawn} withdrawn`}`);
  return {
    packages,
    state: unchanged ? previous : { records: total, lastModified: newest, updatedAt: new Date().toISOString() },
    change: { ecosystem: ctx.ecosystem, mode: unchanged ? 'unchanged' : 'delta', total, ...changes },
  };
}

/** One line per ecosystem, for `gatehouse db update` to print. */
export function formatSummary(summary: UpdateSummary): string {
  const lines = summary.ecosystems.map((e) => {
    const what = e.mode === 'unchanged' ? 'up to date' : `${e.added} added, ${e.updated} updated, ${e.withdrawn} withdrawn`;
    return `${e.ecosystem.padEnd(10)} ${e.mode.padEnd(9)} ${what} (${e.total} advisories)`;
  });
  lines.push(summary.changed ? `database version ${summary.version} is active` : `database version ${summary.version} is already current`);
  return lines.join('\n');
}
