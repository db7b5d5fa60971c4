import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DurableJsonFile } from './durable-json-file.ts';
import { checkDatacenterInstance, checkDatacenterLastError, checkDatacenterStatus, copyDatacenterInstance } from './input.ts';
import { lockDirectory } from './process-lock.ts';
import { SerialQueue } from './serial-queue.ts';
import { DatacenterNameTakenError, type DatacenterInstance, type DatacenterInstanceRegistry, type DatacenterInstanceStatus } from './types.ts';

/**
 * Registered Data Center instances in DATA_DIR/datacenter-instances.json, shared by the
 * server and the `gatehouse datacenter` command while the server runs.
 *
 * Why not inside the store's own files. The DATA_DIR lock (data-dir-lock.ts) keeps a second
 * process out of the journal for good reasons, but an operator registering an instance must
 * not have to stop the server first, and a running server must see the change without a
 * restart. Instances are few and change rarely, so they get their own small document that
 * any process may change under a short lock of its own (held for one read-modify-write,
 * waited for when busy), written atomically and durably (DurableJsonFile: temp file, fsync,
 * rename). Readers take no lock: a rename is atomic, so they see the old or the new
 * document, never half of one. Every read stats the file and re-reads it only when it was
 * replaced (inode, size, mtime in ns), so the webhook path pays one stat, and a change made
 * by the CLI is seen by the next request.
 */

const FILE = 'datacenter-instances.json';
const LOCK_FILE = 'datacenter-instances.lock';
/** How long a writer waits for another process's write before giving up. */
const LOCK_WAIT_MS = 10_000;
const LOCK_RETRY_MS = 25;

interface Document {
  instances: DatacenterInstance[];
}

class LockBusy extends Error {}

export class DatacenterInstanceFile {
  readonly #dataDir: string;
  readonly #file: DurableJsonFile<Document>;
  readonly #writes = new SerialQueue();
  #cache: { signature: string; instances: DatacenterInstance[] } = { signature: 'absent', instances: [] };

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
    this.#file = new DurableJsonFile<Document>(path.join(dataDir, FILE));
  }

  async list(): Promise<DatacenterInstance[]> {
    return (await this.#read()).map(copyDatacenterInstance);
  }

  async get(instanceId: string): Promise<DatacenterInstance | undefined> {
    const found = (await this.#read()).find((i) => i.instanceId === instanceId);
    return found && copyDatacenterInstance(found);
  }

  async put(instance: DatacenterInstance): Promise<void> {
    const copy = checkDatacenterInstance(instance);
    await this.#change((all) => {
      if (all.some((i) => i.name === copy.name && i.instanceId !== copy.instanceId)) throw new DatacenterNameTakenError(copy.name);
      const at = all.findIndex((i) => i.instanceId === copy.instanceId);
      return at === -1 ? [...all, copy] : all.map((i, k) => (k === at ? copy : i));
    });
  }

  async setStatus(instanceId: string, status: DatacenterInstanceStatus, lastError?: { message: string; at: string }): Promise<boolean> {
    const checkedStatus = checkDatacenterStatus(status);
    const checkedError = lastError === undefined ? undefined : checkDatacenterLastError(lastError);
    let found = false;
    await this.#change((all) =>
      all.map((i) => {
        if (i.instanceId !== instanceId) return i;
        found = true;
        const { lastError: _old, ...rest } = i;
        return checkedError ? { ...rest, status: checkedStatus, lastError: checkedError } : { ...rest, status: checkedStatus };
      }),
    );
    return found;
  }

  async delete(instanceId: string): Promise<boolean> {
    let found = false;
    await this.#change((all) => {
      found = all.some((i) => i.instanceId === instanceId);
      return all.filter((i) => i.instanceId !== instanceId);
    });
    return found;
  }

  async #signature(): Promise<string> {
    try {
      const s = await stat(path.join(this.#dataDir, FILE), { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw err;
    }
  }

  /** The current document, read again only when another write replaced the file. */
  async #read(): Promise<DatacenterInstance[]> {
    const signature = await this.#signature();
    if (signature === this.#cache.signature) return this.#cache.instances;
    const instances = await this.#load();
    // The file may have been replaced while it was read: the next read notices the change.
    this.#cache = { signature, instances };
    return instances;
  }

  async #load(): Promise<DatacenterInstance[]> {
    const data = (await this.#file.read()) as Partial<Document> | null;
    if (data === null) return [];
    if (!Array.isArray(data.instances)) throw new Error(`${FILE}: expected {"instances": [...]}`);
    return data.instances.map((value, i) => {
      try {
        return checkDatacenterInstance(value);
      } catch (err) {
        throw new Error(`${FILE}: instance #${i} is invalid: ${(err as Error).message}`);
      }
    });
  }

  /** One read-modify-write under the cross-process lock; `change` may throw to abort it. */
  async #change(change: (all: DatacenterInstance[]) => DatacenterInstance[]): Promise<void> {
    await this.#writes.run(async () => {
      const unlock = await this.#lock();
      try {
        const next = change(await this.#load());
        await this.#file.write({ instances: next });
        this.#cache = { signature: await this.#signature(), instances: next };
      } finally {
        await unlock();
      }
    });
  }

  async #lock(): Promise<() => Promise<void>> {
    await mkdir(this.#dataDir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        return await lockDirectory(this.#dataDir, {
          purpose: 'datacenter-instances',
          file: LOCK_FILE,
          held: (message) => new LockBusy(message),
        });
      } catch (err) {
        if (!(err instanceof LockBusy) || Date.now() >= deadline) throw err;
        await sleep(LOCK_RETRY_MS);
      }
    }
  }
}

/**
 * The instances of a DATA_DIR without opening the store: what the `gatehouse datacenter`
 * command uses, since a running server holds the DATA_DIR lock.
 */
export function datacenterInstancesIn(dataDir: string): DatacenterInstanceRegistry {
  const file = new DatacenterInstanceFile(dataDir);
  return {
    getDatacenterInstance: (instanceId) => file.get(instanceId),
    listDatacenterInstances: () => file.list(),
    putDatacenterInstance: (instance) => file.put(instance),
    deleteDatacenterInstance: (instanceId) => file.delete(instanceId),
    setDatacenterInstanceStatus: (instanceId, status, lastError) => file.setStatus(instanceId, status, lastError),
  };
}
