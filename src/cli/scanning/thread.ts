// A scan thread: scans the batches the pool sends, one at a time, each root with its own
// repository settings, and answers each batch with what it found.
import { parentPort, workerData } from 'node:worker_threads';
import type { FileScan } from '../../scan/scan-files.ts';
import { parseRepoConfig } from '../repo-config.ts';
import { scanBatch } from './batch.ts';
import { newFileScan } from './fingerprints.ts';
import type { BatchReply, BatchTask, ThreadData } from './protocol.ts';

const port = parentPort!;
const scans = new Map<number, FileScan>();
const { fingerprintKey } = workerData as ThreadData;
const key = fingerprintKey === undefined ? undefined : Buffer.from(fingerprintKey, 'hex');

async function run(task: BatchTask): Promise<BatchReply> {
  let scan = scans.get(task.root);
  if (!scan) {
    // Problems in the settings are reported once, by the main thread, which parses them too.
    const { config } = await parseRepoConfig(task.config ?? {});
    scan = newFileScan(config, key);
    scans.set(task.root, scan);
  }
  const counts = await scanBatch(scan, task.files);
  return { id: task.id, part: scan.takePart(), ...counts };
}

port.on('message', (task: BatchTask) => {
  run(task).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage({ id: task.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
