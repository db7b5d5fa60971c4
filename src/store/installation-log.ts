import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DurableJsonFile } from './durable-json-file.ts';

/**
 * Installations on disk: a lowdb snapshot (installations.json) plus an append-only log of
 * the changes since (installations.log, one JSON installation a line). Forge installations
 * use the same scheme in forge-installations.json / .log: a system token arrives every hour
 * per installation, and each must cost one appended line, not a rewrite of every tenant.
 *
 * Rewriting the whole document on every install made an install cost grow with every other
 * tenant's record (25 installs with 1 MB fields: a 22.5 MB file, 82 -> 442 ms each). Here an
 * install appends one line and syncs it, whatever else is stored. The snapshot is rewritten
 * only once the log has grown past the snapshot's own size, so every byte of the snapshot
 * rewrite is paid for by at least as many bytes of earlier appends: the cost per install
 * averages out to a constant multiple of its own record.
 *
 * Crash safety: a line is one O_APPEND write, so a crash leaves at most a torn last line
 * (no newline), never acknowledged, cut off on open. The snapshot is replaced atomically
 * (DurableJsonFile) before the log is emptied; a crash in between replays records the
 * snapshot already holds, which changes nothing (the last record for a clientKey wins).
 */

/** The file names of one kind of record (Connect installations, Forge installations). */
export interface RecordFiles {
  snapshot: string;
  log: string;
}

const CONNECT_FILES: RecordFiles = { snapshot: 'installations.json', log: 'installations.log' };
/** Below this the log is never folded into the snapshot: small rewrites are not worth it. */
const MIN_FOLD_BYTES = 1024 * 1024;
const DSYNC = constants.O_DSYNC ?? 0;
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | DSYNC;

interface Snapshot<T> {
  installations: T[];
}

export class InstallationLog<T> {
  readonly #snapshot: Low<Snapshot<T>>;
  readonly #logPath: string;
  readonly #files: RecordFiles;
  #log: FileHandle | null = null;
  #logBytes = 0;
  #snapshotBytes = 0;

  constructor(dataDir: string, files: RecordFiles = CONNECT_FILES) {
    this.#files = files;
    this.#snapshot = new Low(new DurableJsonFile<Snapshot<T>>(path.join(dataDir, files.snapshot)), { installations: [] });
    this.#logPath = path.join(dataDir, files.log);
  }

  /** Every stored record, oldest first (the snapshot's, then the log's); unchecked values. */
  async open(): Promise<{ source: string; value: unknown }[]> {
    await this.#snapshot.read();
    const list = (this.#snapshot.data as Partial<Snapshot<T>> | null)?.installations;
    if (!Array.isArray(list)) throw new Error(`${this.#files.snapshot}: expected {"installations": [...]}`);
    this.#snapshotBytes = JSON.stringify(list).length;
    const records = list.map((value, i) => ({ source: `${this.#files.snapshot}: installation #${i}`, value: value as unknown }));

    const text = await readFile(this.#logPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    // A torn last line (no newline) was never acknowledged: cut it off.
    const complete = text.lastIndexOf('\n') + 1;
    this.#log = await open(this.#logPath, APPEND, 0o600);
    if (complete < Buffer.byteLength(text)) {
      await this.#log.truncate(Buffer.byteLength(text.slice(0, complete)));
      await this.#log.datasync();
    }
    const lines = text.slice(0, complete).split('\n');
    lines.pop();
    for (const [i, line] of lines.entries()) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${this.#files.log}: line ${i + 1} is not JSON; restore DATA_DIR from a backup or move the file aside`);
      }
      records.push({ source: `${this.#files.log}: line ${i + 1}`, value });
    }
    this.#logBytes = Buffer.byteLength(text.slice(0, complete));
    return records;
  }

  /** Appends one installation durably. Callers serialise calls. */
  async append(installation: T): Promise<void> {
    if (!this.#log) throw new Error('installation log is not open');
    const data = Buffer.from(`${JSON.stringify(installation)}\n`, 'utf8');
    let written = 0;
    while (written < data.length) written += (await this.#log.write(data, written, data.length - written)).bytesWritten;
    if (DSYNC === 0) await this.#log.datasync();
    this.#logBytes += data.length;
  }

  /** True once the log outgrows the snapshot, when folding it in pays for itself. */
  get shouldFold(): boolean {
    return this.#logBytes > Math.max(this.#snapshotBytes, MIN_FOLD_BYTES);
  }

  /** Writes `all` as the new snapshot and empties the log. Callers serialise calls. */
  async fold(all: T[]): Promise<void> {
    if (!this.#log) throw new Error('installation log is not open');
    this.#snapshot.data = { installations: all };
    await this.#snapshot.write();
    this.#snapshotBytes = JSON.stringify(all).length;
    await this.#log.truncate(0);
    await this.#log.datasync();
    this.#logBytes = 0;
  }

  async close(): Promise<void> {
    await this.#log?.close();
    this.#log = null;
  }
}
