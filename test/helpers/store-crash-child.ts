// Child process for test/store-crash.test.ts: opens a LowdbStore and accepts deliveries
// from several concurrent writers until it is killed, printing `ack <deliveryId> <jobId>`
// only after acceptDelivery has resolved (i.e. after the store acknowledged the write).
// One writer also claims and finishes jobs, so that job-state records are in flight too.
// Usage: node --import tsx test/helpers/store-crash-child.ts <dataDir> <idPrefix> [maxSegmentBytes]
// (a small segment size makes kills land around segment rollovers and index writes too)
import { LowdbStore } from '../../src/store/lowdb-store.ts';

export function crashPayload(n: number): { n: number; filler: string } {
  // Lines of varying length, some several KB, so a kill can land inside a long write.
  return { n, filler: 'x'.repeat((n * 997) % 12_000) };
}

async function main(): Promise<void> {
  const [dataDir, prefix, segmentBytes] = process.argv.slice(2);
  if (!dataDir || !prefix) throw new Error('usage: store-crash-child.ts <dataDir> <idPrefix> [maxSegmentBytes]');
  const store = new LowdbStore({ dataDir, maxSegmentBytes: segmentBytes ? Number(segmentBytes) : undefined });
  await store.open();
  let next = 0;
  const writer = async (claims: boolean): Promise<never> => {
    for (;;) {
      const n = next++;
      const id = `${prefix}-${n}`;
      const { jobId } = await store.acceptDelivery({ id, clientKey: 'crash-client', event: 'repo:push' }, {
        clientKey: 'crash-client',
        type: 'webhook:repo:push',
        payload: crashPayload(n),
      });
      process.stdout.write(`ack ${id} ${jobId}\n`);
      if (claims && n % 5 === 0) {
        for (const job of await store.claimJobs(3, new Date())) {
          if (job.attempts === 0) await store.updateJob(job.id, { status: 'done' });
        }
      }
    }
  };
  await Promise.all([writer(true), writer(false), writer(false), writer(false)]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`store-crash-child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
