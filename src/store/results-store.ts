import path from 'node:path';
import { Journal, type BodyRef } from './journal.ts';
import type {
  InventoryRecord,
  Policy,
  PullRequestRecord,
  ResultsStore,
  ScanKind,
  ScanRecord,
  ScanSummary,
  TriageMark,
} from './results-types.ts';

/**
 * The default ResultsStore: an append-only journal (journal.ts) in DATA_DIR/results.
 *
 * Scans and inventories grow with every push and pull request, so they are never kept in
 * one rewritten document: each write appends one fsync'd record and costs the same with
 * ten or ten thousand stored. Small values (policy, triage marks, pull-request records,
 * scan summaries) live in the record's meta and in memory; the bulky parts (findings,
 * packages, SBOM) are the record's body, left on disk and read back by position. The
 * latest record for a key wins, so replacing a scan is one more append.
 */

type Meta =
  | { t: 'policy'; clientKey: string; policy: Policy }
  | { t: 'triage'; mark: TriageMark }
  | { t: 'untriage'; clientKey: string; repoUuid: string; fingerprint: string }
  | { t: 'pr'; record: PullRequestRecord }
  | { t: 'scan'; summary: ScanSummary }
  | { t: 'inventory'; inventory: Omit<InventoryRecord, 'packages' | 'sbom'> }
  | { t: 'forget'; clientKey: string };

const RESULTS_DIR = 'results';

export class JournalResultsStore implements ResultsStore {
  readonly #journal: Journal;
  #open = false;
  #policies = new Map<string, Policy>();
  #triage = new Map<string, TriageMark>();
  #prs = new Map<string, PullRequestRecord>();
  #scans = new Map<string, { summary: ScanSummary; body: BodyRef }>();
  #inventories = new Map<string, { inventory: Omit<InventoryRecord, 'packages' | 'sbom'>; body: BodyRef }>();

  constructor(opts: { dataDir: string; maxSegmentBytes?: number }) {
    if (typeof opts?.dataDir !== 'string' || opts.dataDir === '') throw new TypeError('JournalResultsStore needs a dataDir');
    this.#journal = new Journal(path.join(opts.dataDir, RESULTS_DIR), { maxSegmentBytes: opts.maxSegmentBytes });
  }

  async open(): Promise<void> {
    await this.#journal.open((meta, body) => this.#replay(meta as Meta, body));
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
    await this.#journal.close();
  }

  async getPolicy(clientKey: string): Promise<Policy | undefined> {
    await this.#settled();
    return clone(this.#policies.get(clientKey));
  }

  async putPolicy(clientKey: string, policy: Policy): Promise<void> {
    await this.#write({ t: 'policy', clientKey, policy: clone(policy) });
  }

  async putTriage(mark: TriageMark): Promise<void> {
    await this.#write({ t: 'triage', mark: clone(mark) });
  }

  async clearTriage(clientKey: string, repoUuid: string, fingerprint: string): Promise<boolean> {
    await this.#settled();
    if (!this.#triage.has(triageKey(clientKey, repoUuid, fingerprint))) return false;
    await this.#write({ t: 'untriage', clientKey, repoUuid, fingerprint });
    return true;
  }

  async listTriage(clientKey: string, repoUuid?: string): Promise<TriageMark[]> {
    await this.#settled();
    return [...this.#triage.values()].filter((m) => m.clientKey === clientKey && (repoUuid === undefined || m.repoUuid === repoUuid)).map(clone);
  }

  async getPullRequest(clientKey: string, repoUuid: string, prId: number): Promise<PullRequestRecord | undefined> {
    await this.#settled();
    return clone(this.#prs.get(prKey(clientKey, repoUuid, prId)));
  }

  async putPullRequest(record: PullRequestRecord): Promise<void> {
    await this.#write({ t: 'pr', record: clone(record) });
  }

  async listPullRequests(clientKey: string, repoUuid: string): Promise<PullRequestRecord[]> {
    await this.#settled();
    return [...this.#prs.values()].filter((r) => r.clientKey === clientKey && r.repoUuid === repoUuid).map(clone);
  }

  async putScan(scan: ScanRecord): Promise<void> {
    const { findings, ...summary } = scan;
    await this.#write({ t: 'scan', summary: clone(summary) }, JSON.stringify(findings));
  }

  async getScan(clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId: number | null = null): Promise<ScanRecord | undefined> {
    await this.#settled();
    const entry = this.#scans.get(scanKey(clientKey, repoUuid, commit, kind, prId));
    if (!entry) return undefined;
    const findings = JSON.parse(await this.#journal.readBody(entry.body)) as ScanRecord['findings'];
    return { ...clone(entry.summary), findings };
  }

  async listScans(clientKey: string, repoUuid?: string): Promise<ScanSummary[]> {
    await this.#settled();
    return [...this.#scans.values()]
      .map((e) => e.summary)
      .filter((s) => s.clientKey === clientKey && (repoUuid === undefined || s.repoUuid === repoUuid))
      .map(clone);
  }

  async putInventory(inventory: InventoryRecord): Promise<void> {
    const { packages, sbom, ...rest } = inventory;
    await this.#write({ t: 'inventory', inventory: clone(rest) }, JSON.stringify({ packages, sbom }));
  }

  async getInventory(clientKey: string, repoUuid: string, branch: string): Promise<InventoryRecord | undefined> {
    await this.#settled();
    const entry = this.#inventories.get(inventoryKey(clientKey, repoUuid, branch));
    if (!entry) return undefined;
    const { packages, sbom } = JSON.parse(await this.#journal.readBody(entry.body)) as Pick<InventoryRecord, 'packages' | 'sbom'>;
    return { ...clone(entry.inventory), packages, sbom };
  }

  async forgetTenant(clientKey: string): Promise<void> {
    await this.#write({ t: 'forget', clientKey });
  }

  /** Appends, applies to memory in call order, and resolves once durable. */
  async #write(meta: Meta, body?: string): Promise<void> {
    if (!this.#open) throw new Error('results store is not open');
    const { body: ref, durable } = this.#journal.append(meta, body);
    this.#replay(meta, ref);
    await durable;
  }

  /** Reads never return what a crash could still take back. */
  async #settled(): Promise<void> {
    if (!this.#open) throw new Error('results store is not open');
    await this.#journal.barrier();
  }

  #replay(meta: Meta, body: BodyRef | null): void {
    switch (meta.t) {
      case 'policy':
        this.#policies.set(meta.clientKey, meta.policy);
        return;
      case 'triage':
        this.#triage.set(triageKey(meta.mark.clientKey, meta.mark.repoUuid, meta.mark.fingerprint), meta.mark);
        return;
      case 'untriage':
        this.#triage.delete(triageKey(meta.clientKey, meta.repoUuid, meta.fingerprint));
        return;
      case 'pr':
        this.#prs.set(prKey(meta.record.clientKey, meta.record.repoUuid, meta.record.prId), meta.record);
        return;
      case 'scan': {
        const s = meta.summary;
        if (body) this.#scans.set(scanKey(s.clientKey, s.repoUuid, s.commit, s.kind, s.prId), { summary: s, body });
        return;
      }
      case 'inventory': {
        const i = meta.inventory;
        if (body) this.#inventories.set(inventoryKey(i.clientKey, i.repoUuid, i.branch), { inventory: i, body });
        return;
      }
      case 'forget':
        // Bodies stay in their segments, unreachable: no key leads to them any more.
        for (const map of [this.#triage, this.#prs, this.#scans, this.#inventories] as Map<string, unknown>[]) {
          for (const key of map.keys()) if ((JSON.parse(key) as unknown[])[0] === meta.clientKey) map.delete(key);
        }
        this.#policies.delete(meta.clientKey);
        return;
      default:
        throw new Error(`results journal holds an unknown record type ${JSON.stringify((meta as { t?: unknown }).t)}`);
    }
  }
}

const triageKey = (clientKey: string, repoUuid: string, fingerprint: string) => JSON.stringify([clientKey, repoUuid, fingerprint]);
const prKey = (clientKey: string, repoUuid: string, prId: number) => JSON.stringify([clientKey, repoUuid, prId]);
const scanKey = (clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId: number | null) =>
  JSON.stringify([clientKey, repoUuid, commit, kind, prId]);
const inventoryKey = (clientKey: string, repoUuid: string, branch: string) => JSON.stringify([clientKey, repoUuid, branch]);

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
