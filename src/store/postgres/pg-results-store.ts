import type pg from 'pg';
import type { InventoryRecord, Policy, PullRequestRecord, ResultsStore, ScanKind, ScanRecord, ScanSummary, TriageMark } from '../results-types.ts';
import { query } from './database.ts';
import { checkSchema } from './migrate.ts';

/**
 * The ResultsStore on PostgreSQL: one row per key, replaced by an upsert. Small values are
 * one json document; scans keep their findings, and inventories their packages and SBOM, in
 * a second column that only the single-record reads select, so listing summaries never
 * reads the bulky part. Rows come back parsed fresh from the database, so callers always
 * get copies.
 */
export class PgResultsStore implements ResultsStore {
  readonly #pool: pg.Pool;
  #open = false;

  constructor(opts: { pool: pg.Pool }) {
    this.#pool = opts.pool;
  }

  async open(): Promise<void> {
    await checkSchema(this.#pool);
    this.#open = true;
  }

  /** The pool is the caller's. */
  async close(): Promise<void> {
    this.#open = false;
  }

  async getPolicy(clientKey: string): Promise<Policy | undefined> {
    return this.#one<Policy>('SELECT doc AS v FROM policies WHERE client_key = $1', [clientKey]);
  }

  async putPolicy(clientKey: string, policy: Policy): Promise<void> {
    await this.#run('INSERT INTO policies (client_key, doc) VALUES ($1, $2) ON CONFLICT (client_key) DO UPDATE SET doc = EXCLUDED.doc', [clientKey, JSON.stringify(policy)]);
  }

  async putTriage(mark: TriageMark): Promise<void> {
    await this.#run(
      `INSERT INTO triage_marks (client_key, repo_uuid, fingerprint, doc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (client_key, repo_uuid, fingerprint) DO UPDATE SET doc = EXCLUDED.doc`,
      [mark.clientKey, mark.repoUuid, mark.fingerprint, JSON.stringify(mark)],
    );
  }

  async clearTriage(clientKey: string, repoUuid: string, fingerprint: string): Promise<boolean> {
    const { rowCount } = await this.#run('DELETE FROM triage_marks WHERE client_key = $1 AND repo_uuid = $2 AND fingerprint = $3', [clientKey, repoUuid, fingerprint]);
    return (rowCount ?? 0) > 0;
  }

  async listTriage(clientKey: string, repoUuid?: string): Promise<TriageMark[]> {
    return this.#many<TriageMark>('SELECT doc AS v FROM triage_marks WHERE client_key = $1 AND ($2::text IS NULL OR repo_uuid = $2) ORDER BY seq', [clientKey, repoUuid ?? null]);
  }

  async getPullRequest(clientKey: string, repoUuid: string, prId: number): Promise<PullRequestRecord | undefined> {
    return this.#one<PullRequestRecord>('SELECT doc AS v FROM pull_requests WHERE client_key = $1 AND repo_uuid = $2 AND pr_id = $3', [clientKey, repoUuid, prId]);
  }

  async putPullRequest(record: PullRequestRecord): Promise<void> {
    await this.#run(
      `INSERT INTO pull_requests (client_key, repo_uuid, pr_id, doc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (client_key, repo_uuid, pr_id) DO UPDATE SET doc = EXCLUDED.doc`,
      [record.clientKey, record.repoUuid, record.prId, JSON.stringify(record)],
    );
  }

  async listPullRequests(clientKey: string, repoUuid: string): Promise<PullRequestRecord[]> {
    return this.#many<PullRequestRecord>('SELECT doc AS v FROM pull_requests WHERE client_key = $1 AND repo_uuid = $2', [clientKey, repoUuid]);
  }

  async putScan(scan: ScanRecord): Promise<void> {
    const { findings, ...summary } = scan;
    await this.#run(
      `INSERT INTO scans (client_key, repo_uuid, commit_hash, kind, pr_id, summary, findings) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (client_key, repo_uuid, commit_hash, kind, (coalesce(pr_id, -1))) DO UPDATE SET summary = EXCLUDED.summary, findings = EXCLUDED.findings`,
      [scan.clientKey, scan.repoUuid, scan.commit, scan.kind, scan.prId, JSON.stringify(summary), JSON.stringify(findings)],
    );
  }

  async getScan(clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId: number | null = null): Promise<ScanRecord | undefined> {
    const { rows } = await this.#run<{ summary: ScanSummary; findings: ScanRecord['findings'] }>(
      'SELECT summary, findings FROM scans WHERE client_key = $1 AND repo_uuid = $2 AND commit_hash = $3 AND kind = $4 AND coalesce(pr_id, -1) = coalesce($5::integer, -1)',
      [clientKey, repoUuid, commit, kind, prId],
    );
    const row = rows[0];
    return row && { ...row.summary, findings: row.findings };
  }

  async listScans(clientKey: string, repoUuid?: string): Promise<ScanSummary[]> {
    return this.#many<ScanSummary>('SELECT summary AS v FROM scans WHERE client_key = $1 AND ($2::text IS NULL OR repo_uuid = $2) ORDER BY seq', [clientKey, repoUuid ?? null]);
  }

  async putInventory(inventory: InventoryRecord): Promise<void> {
    const { packages, sbom, ...meta } = inventory;
    await this.#run(
      `INSERT INTO inventories (client_key, repo_uuid, branch, meta, body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (client_key, repo_uuid, branch) DO UPDATE SET meta = EXCLUDED.meta, body = EXCLUDED.body`,
      [inventory.clientKey, inventory.repoUuid, inventory.branch, JSON.stringify(meta), JSON.stringify({ packages, sbom })],
    );
  }

  async getInventory(clientKey: string, repoUuid: string, branch: string): Promise<InventoryRecord | undefined> {
    const { rows } = await this.#run<{ meta: Omit<InventoryRecord, 'packages' | 'sbom'>; body: Pick<InventoryRecord, 'packages' | 'sbom'> }>(
      'SELECT meta, body FROM inventories WHERE client_key = $1 AND repo_uuid = $2 AND branch = $3',
      [clientKey, repoUuid, branch],
    );
    const row = rows[0];
    return row && { ...row.meta, packages: row.body.packages, sbom: row.body.sbom };
  }

  /** In one transaction: a half-forgotten tenant is never visible. */
  async forgetTenant(clientKey: string): Promise<void> {
    await this.#run(
      `WITH a AS (DELETE FROM policies WHERE client_key = $1), b AS (DELETE FROM triage_marks WHERE client_key = $1),
            c AS (DELETE FROM pull_requests WHERE client_key = $1), d AS (DELETE FROM scans WHERE client_key = $1)
       DELETE FROM inventories WHERE client_key = $1`,
      [clientKey],
    );
  }

  async #one<T>(sql: string, values: unknown[]): Promise<T | undefined> {
    const { rows } = await this.#run<{ v: T }>(sql, values);
    return rows[0]?.v;
  }

  async #many<T>(sql: string, values: unknown[]): Promise<T[]> {
    const { rows } = await this.#run<{ v: T }>(sql, values);
    return rows.map((r) => r.v);
  }

  #run<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.#open) throw new Error('results store is not open');
    return query<R>(this.#pool, sql, values);
  }
}
