import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { fsyncDir } from './fsync.ts';

/**
 * A lowdb adapter for small documents that must survive a crash or a power cut.
 *
 * lowdb's own JSONFile (steno) writes a temp file and renames it over the target, which is
 * atomic against a killed process but not durable: without an fsync before the rename, a
 * power cut can leave the renamed file empty. Here the temp file is fsync'd, renamed, and
 * the directory fsync'd, so a resolved write() survives. Callers serialise writes (two
 * concurrent writes would share the temp file).
 */
export class DurableJsonFile<T> implements Adapter<T> {
  readonly #file: string;
  readonly #temp: string;

  constructor(file: string) {
    this.#file = file;
    this.#temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${this.#file} is not valid JSON (${(err as Error).message}); restore it from a backup or move it aside`);
    }
  }

  async write(data: T): Promise<void> {
    // 0o600: the document holds encrypted tenant secrets; no other local user needs it.
    const handle = await open(this.#temp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(data, null, 2) + '\n', 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.#temp, this.#file);
    await fsyncDir(path.dirname(this.#file));
  }
}
