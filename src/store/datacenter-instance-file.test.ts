import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatacenterInstanceFile } from './datacenter-instance-file.ts';
import { LowdbStore } from './lowdb-store.ts';
import type { DatacenterInstance } from './types.ts';

function instance(instanceId: string, name = instanceId): DatacenterInstance {
  return {
    instanceId,
    name,
    baseUrl: 'https://bitbucket.example.com',
    encryptedToken: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.TTTT',
    encryptedWebhookSecret: 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.SSSS',
    status: 'ok',
    createdAt: '2026-03-04T05:06:07.000Z',
    updatedAt: '2026-03-04T05:06:07.000Z',
  };
}

describe('DatacenterInstanceFile beside a running LowdbStore', () => {
  let dataDir: string;
  let store: LowdbStore;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-dc-file-'));
    store = new LowdbStore({ dataDir });
    await store.open();
  });

  afterEach(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets another writer (the CLI) change instances while the store holds DATA_DIR, and the store sees it at once', async () => {
    const cli = new DatacenterInstanceFile(dataDir);
    await store.listDatacenterInstances(); // caches the empty document
    await cli.put(instance('one'));
    expect((await store.getDatacenterInstance('one'))?.name).toBe('one');
    expect(await cli.delete('one')).toBe(true);
    expect(await store.getDatacenterInstance('one')).toBeUndefined();
  });

  it('loses no write when two writers change the document at the same time', async () => {
    const writers = [new DatacenterInstanceFile(dataDir), new DatacenterInstanceFile(dataDir)];
    await Promise.all(Array.from({ length: 20 }, (_, n) => writers[n % 2]!.put(instance(`i${n}`))));
    expect((await store.listDatacenterInstances()).map((i) => i.instanceId).sort()).toEqual(Array.from({ length: 20 }, (_, n) => `i${n}`).sort());
  });

  it('keeps the document private to its owner (it holds encrypted tokens)', async () => {
    await store.putDatacenterInstance(instance('one'));
    expect((await stat(path.join(dataDir, 'datacenter-instances.json'))).mode & 0o077).toBe(0);
  });

  it('names the file and the instance when the document was damaged by hand', async () => {
    await writeFile(path.join(dataDir, 'datacenter-instances.json'), JSON.stringify({ instances: [{ ...instance('one'), baseUrl: 'nope' }] }));
    await expect(store.listDatacenterInstances()).rejects.toThrow(/datacenter-instances\.json: instance #0 is invalid: .*baseUrl/);
  });
});
