// Builds a DATA_DIR holding the history of N processed pull-request deliveries, as a server
// that received them would have left it, in minutes rather than the half hour that
// accepting them one by one through the store's API takes.
//
// The records are what the server writes: each delivery is a real Connect payload
// (test/fixtures) parsed by the webhook's own parser and turned into a job by the real
// dispatcher, on a simulated clock (10,000 deliveries a day, ending at the real now);
// its job is claimed and finished (one in a thousand dies); its pull request gets a scan
// of a new head and a pull-request record. They are appended to the two journals with the
// journals' own writer, sharing fsyncs across thousands of records instead of one per
// request. Every 10 simulated days the real stores open the directory on their clock, let
// go of what outlived its retention and delete segments, as a running server does, so
// the result is the store's own steady state, not a state this builder chose.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCloudEvent } from '../src/bitbucket/events/index.ts';
import { createDispatcher, deliveryKey } from '../src/core/dispatch.ts';
import type { DomainEvent } from '../src/core/events.ts';
import { encryptSecret } from '../src/crypto.ts';
import { Journal } from '../src/store/journal.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import type { Delivery, NewJob, Store } from '../src/store/types.ts';

const DAY_MS = 86_400_000;
export const PER_DAY = 10_000;
/** Distinct pull requests the history's deliveries belong to. */
const PULL_REQUESTS = 5_000;
/** Simulated days between two openings of the real stores (a server prunes every minute; ten days is the coarsest that still shows the window). */
const EPOCH_DAYS = 10;
/** Records appended before waiting for their shared fsync. */
const BATCH = 20_000;
const FIXTURE = path.resolve(import.meta.dirname, '../test/fixtures/bitbucket-payloads/cloud/pullrequest-created/toolchain-connect.json');

export interface HistoryOptions {
  dataDir: string;
  deliveries: number;
  clientKey: string;
  sharedSecret: string;
  encryptionKey: Buffer;
  /** Base URL and API URL of the installation (a local stub). */
  apiOrigin: string;
}

/** The fixture's payload (the `data` of a Connect delivery) with another pull-request id. */
export function pullRequestPayload(prId: number): { event: string; data: object } {
  const { payload } = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { payload: { event: string; data: { pullrequest: object } } };
  return { ...payload, data: { ...payload.data, pullrequest: { ...payload.data.pullrequest, id: prId } } };
}

/** What the dispatcher asks the store to accept for an event, captured instead of stored (once per pull request). */
function captureAccept(event: DomainEvent, clientKey: string): Promise<{ delivery: Omit<Delivery, 'jobId' | 'receivedAt'>; job: NewJob }> {
  return new Promise((resolve) => {
    const capture = {
      acceptDelivery: async (delivery: Omit<Delivery, 'jobId' | 'receivedAt'>, job: NewJob | null) => {
        resolve({ delivery, job: job! });
        return { duplicate: false, jobId: null };
      },
    } as unknown as Store;
    void createDispatcher(capture).dispatch({ clientKey }, event);
  });
}

export async function buildHistory(o: HistoryOptions): Promise<void> {
  const end = Date.now();
  const start = end - (o.deliveries / PER_DAY) * DAY_MS;
  const installed = new Date(start).toISOString();
  await withStores(o.dataDir, new Date(start), async (store) => {
    await store.putInstallation({
      clientKey: o.clientKey, key: 'gatehouse', baseUrl: o.apiOrigin, baseApiUrl: o.apiOrigin,
      encryptedSharedSecret: encryptSecret(o.encryptionKey, o.sharedSecret), state: 'installed', installedAt: installed, updatedAt: installed,
    });
  });

  // One parsed and dispatched event per pull request; each delivery only changes its id.
  const TEMPLATE_ID = 'history-delivery-template';
  const events: { event: DomainEvent; accepted: Awaited<ReturnType<typeof captureAccept>>; payloadJson: string }[] = [];
  for (let pr = 1; pr <= Math.min(PULL_REQUESTS, o.deliveries); pr++) {
    const parsed = parseCloudEvent('pullrequest:created', pullRequestPayload(pr).data, TEMPLATE_ID);
    if (parsed.kind !== 'event') throw new Error(`fixture does not parse: ${JSON.stringify(parsed)}`);
    const accepted = await captureAccept(parsed.event, o.clientKey);
    events.push({ event: parsed.event, accepted, payloadJson: JSON.stringify(accepted.job.payload) });
  }

  const perEpoch = EPOCH_DAYS * PER_DAY;
  for (let first = 0; first < o.deliveries; first += perEpoch) {
    const last = Math.min(o.deliveries, first + perEpoch);
    const jobs = new Journal(path.join(o.dataDir, 'journal'));
    const results = new Journal(path.join(o.dataDir, 'results'));
    await jobs.open(() => undefined);
    await results.open(() => undefined);
    let pending: Promise<void>[] = [];
    for (let i = first; i < last; i++) {
      const at = (ms: number) => new Date(start + (i * DAY_MS) / PER_DAY + ms).toISOString();
      const { event: template, accepted, payloadJson } = events[i % events.length]!;
      const prId = (i % events.length) + 1;
      const { delivery, job } = accepted;
      const deliveryId = `history-${i}`;
      const id = randomUUID();
      const received = at(0);
      pending.push(
        jobs.append(
          {
            t: 'accept',
            delivery: { ...delivery, id: deliveryKey(o.clientKey, deliveryId), receivedAt: received },
            job: { id, clientKey: job.clientKey, type: job.type, group: job.group, supersedes: job.supersedes, createdAt: received, seq: i + 1 },
          },
          payloadJson.replace(`"${TEMPLATE_ID}"`, `"${deliveryId}"`),
        ).durable,
      );
      const state = (status: string, ms: number, extra: object = {}) => ({ id, status, attempts: status === 'running' ? 0 : 1, runAfter: received, updatedAt: at(ms), ...extra });
      pending.push(jobs.append({ t: 'jobs', jobs: [state('running', 100)] }).durable);
      const finished = i % 1_000 === 0 ? state('dead', 2_000, { lastError: 'history: gave up' }) : state('done', 2_000);
      pending.push(jobs.append({ t: 'jobs', jobs: [finished] }).durable);

      const head = (i + 1).toString(16).padStart(40, 'a');
      const summary = {
        clientKey: o.clientKey, repoUuid: template.repository.uuid, commit: head, kind: 'pull_request', prId, result: 'PASSED',
        counts: { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 }, durationMs: 900, skipped: [], notices: [], createdAt: at(1_900),
      };
      pending.push(results.append({ t: 'scan', summary }, '[]').durable);
      const record = {
        clientKey: o.clientKey, repoUuid: template.repository.uuid, repoFullName: template.repository.fullName, prId, state: 'OPEN',
        sourceBranch: 'feature', destinationBranch: 'main', publishedCommit: head, commentId: prId, lastResult: 'PASSED', mergeCommit: null, updatedAt: at(1_950),
      };
      pending.push(results.append({ t: 'pr', record }).durable);
      if (pending.length >= BATCH) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await jobs.close();
    await results.close();
    // The stores open on the clock of the last delivery written and let history go.
    await withStores(o.dataDir, new Date(start + (last * DAY_MS) / PER_DAY + 10_000), async () => undefined);
  }
}

/** Opens both stores on a fixed clock, runs `work`, and closes them once their maintenance is done. */
async function withStores(dataDir: string, now: Date, work: (store: LowdbStore) => Promise<void>): Promise<void> {
  const store = new LowdbStore({ dataDir, now: () => now });
  const results = new JournalResultsStore({ dataDir, now: () => now });
  await store.open();
  await results.open();
  await work(store);
  // Segment deletion starts at open and stops at close: wait until it has nothing left to do.
  for (let last = '', same = 0; same < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = [readdirSync(path.join(dataDir, 'journal')).length, readdirSync(path.join(dataDir, 'results')).length].join();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  await results.close();
  await store.close();
}
