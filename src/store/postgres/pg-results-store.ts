import type pg from 'pg';
import type { ApiTokenRecord, CoverageState, RepositoryCoverage, RepositoryRecord } from '../coverage-types.ts';
import type { AdvisoryState, ExportMappingRecord, InventoryRecord, InventorySummary, Policy, PullRequestRecord, ResultsStore, ScanKind, ScanRecord, ScanSummary, TriageMark } from '../results-types.ts';
import { query } from './database.ts';
import { checkSchema } from './migrate.ts';
import { SUPERSEDED_SCAN_MS } from '../results-store.ts';

const PRUNE_INTERVAL_MS = 60_000;

/**
 * Deletes the scans nobody is shown any more (ResultsStore.putScan): not the newest of their
 * pull request or branch (a push scan naming no branch is its own newest; scans of other kinds
 * by repository), not named by an
 * inventory (push) or a pull-request record's publishedCommit, and released before $1. A
 * scan is released when a newer one of its group was made; the inventories of its
 * repository or its pull-request record changing later counts as a later release (which
 * may only keep a scan longer than needed, never drop one early).
 */
export const PRUNE_SUPERSEDED_SCANS = `
  WITH ranked AS (
    SELECT seq, client_key, repo_uuid, kind, pr_id, commit_hash,
           lead(summary->>'createdAt') OVER (
             PARTITION BY client_key, repo_uuid, kind, coalesce(pr_id, -1),
                          CASE WHEN kind = 'push' THEN coalesce('b:' || (summary->>'branch'), 'c:' || commit_hash) END
             ORDER BY summary->>'createdAt', seq) AS replaced_at
    FROM scans
  )
  DELETE FROM scans d USING ranked r
  WHERE d.seq = r.seq AND r.replaced_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM inventories i WHERE r.kind = 'push' AND i.client_key = r.client_key AND i.repo_uuid = r.repo_uuid AND i.meta->>'commit' = r.commit_hash)
    AND NOT EXISTS (SELECT 1 FROM pull_requests p WHERE r.kind = 'pull_request' AND p.client_key = r.client_key AND p.repo_uuid = r.repo_uuid AND p.pr_id = r.pr_id AND p.doc->>'publishedCommit' = r.commit_hash)
    AND greatest(
          r.replaced_at,
          (SELECT max(i.meta->>'updatedAt') FROM inventories i WHERE r.kind = 'push' AND i.client_key = r.client_key AND i.repo_uuid = r.repo_uuid),
          (SELECT max(p.doc->>'updatedAt') FROM pull_requests p WHERE r.kind = 'pull_request' AND p.client_key = r.client_key AND p.repo_uuid = r.repo_uuid AND p.pr_id = r.pr_id)
        ) < $1`;

/**
 * The ResultsStore on PostgreSQL: one row per key, replaced by an upsert. Small values are
 * one json document; scans keep their findings, and inventories their packages and SBOM, in
 * a second column that only the single-record reads select, so listing summaries never
 * reads the bulky part. Rows come back parsed fresh from the database, so callers always
 * get copies.
 */
export class PgResultsStore implements ResultsStore {
  readonly #pool: pg.Pool;
  readonly #now: () => Date;
  readonly #supersededScanMs: number;
  #open = false;
  /** Store-clock time of the last prune; reads prune first when it is a minute old. */
  #prunedAt = -Infinity;
  #pruning: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: { pool: pg.Pool; now?: () => Date; supersededScanMs?: number }) {
    this.#pool = opts.pool;
    this.#now = opts.now ?? (() => new Date());
    this.#supersededScanMs = opts.supersededScanMs ?? SUPERSEDED_SCAN_MS;
  }

  async open(): Promise<void> {
    await checkSchema(this.#pool);
    this.#open = true;
    this.#timer = setInterval(() => void this.#pruneIfDue().catch(() => undefined), PRUNE_INTERVAL_MS).unref();
  }

  /** The pool is the caller's. */
  async close(): Promise<void> {
    this.#open = false;
    if (this.#timer) clearInterval(this.#timer);
    await this.#pruning?.catch(() => undefined);
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
    await this.#pruneIfDue();
    const { rows } = await this.#run<{ summary: ScanSummary; findings: ScanRecord['findings'] }>(
      'SELECT summary, findings FROM scans WHERE client_key = $1 AND repo_uuid = $2 AND commit_hash = $3 AND kind = $4 AND coalesce(pr_id, -1) = coalesce($5::integer, -1)',
      [clientKey, repoUuid, commit, kind, prId],
    );
    const row = rows[0];
    return row && { ...row.summary, findings: row.findings };
  }

  async listScans(clientKey: string, repoUuid?: string): Promise<ScanSummary[]> {
    await this.#pruneIfDue();
    return this.#many<ScanSummary>('SELECT summary AS v FROM scans WHERE client_key = $1 AND ($2::text IS NULL OR repo_uuid = $2) ORDER BY seq', [clientKey, repoUuid ?? null]);
  }

  async listPullRequestScans(clientKey: string, repoUuid: string, prId: number): Promise<ScanSummary[]> {
    await this.#pruneIfDue();
    // coalesce(pr_id, -1) as scans_prune_order indexes it: found through that index, one pull
    // request's scans cost the same however many other pull requests the repository has.
    return this.#many<ScanSummary>(
      "SELECT summary AS v FROM scans WHERE client_key = $1 AND repo_uuid = $2 AND kind = 'pull_request' AND coalesce(pr_id, -1) = $3 ORDER BY seq",
      [clientKey, repoUuid, prId],
    );
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

  async listInventories(clientKey: string): Promise<InventorySummary[]> {
    return this.#many<InventorySummary>('SELECT meta AS v FROM inventories WHERE client_key = $1', [clientKey]);
  }

  async putAdvisoryState(state: AdvisoryState): Promise<void> {
    await this.#run(
      'INSERT INTO advisory_states (client_key, repo_uuid, doc) VALUES ($1, $2, $3) ON CONFLICT (client_key, repo_uuid) DO UPDATE SET doc = EXCLUDED.doc',
      [state.clientKey, state.repoUuid, JSON.stringify(state)],
    );
  }

  async getAdvisoryState(clientKey: string, repoUuid: string): Promise<AdvisoryState | undefined> {
    return this.#one<AdvisoryState>('SELECT doc AS v FROM advisory_states WHERE client_key = $1 AND repo_uuid = $2', [clientKey, repoUuid]);
  }

  async getExportMapping(clientKey: string): Promise<ExportMappingRecord | undefined> {
    return this.#one<ExportMappingRecord>('SELECT doc AS v FROM export_mappings WHERE client_key = $1', [clientKey]);
  }

  async putExportMapping(clientKey: string, record: ExportMappingRecord | null): Promise<void> {
    if (record === null) await this.#run('DELETE FROM export_mappings WHERE client_key = $1', [clientKey]);
    else await this.#run('INSERT INTO export_mappings (client_key, doc) VALUES ($1, $2) ON CONFLICT (client_key) DO UPDATE SET doc = EXCLUDED.doc', [clientKey, JSON.stringify(record)]);
  }

  async putRepository(record: RepositoryRecord): Promise<void> {
    await this.#run(
      'INSERT INTO repositories (client_key, uuid, doc) VALUES ($1, $2, $3) ON CONFLICT (client_key, uuid) DO UPDATE SET doc = EXCLUDED.doc',
      [record.clientKey, record.uuid, JSON.stringify(record)],
    );
  }

  async getRepository(clientKey: string, uuid: string): Promise<RepositoryRecord | undefined> {
    return this.#one<RepositoryRecord>('SELECT doc AS v FROM repositories WHERE client_key = $1 AND uuid = $2', [clientKey, uuid]);
  }

  async listRepositories(clientKey: string): Promise<RepositoryRecord[]> {
    return this.#many<RepositoryRecord>('SELECT doc AS v FROM repositories WHERE client_key = $1', [clientKey]);
  }

  async putRepositoryCoverage(entry: RepositoryCoverage): Promise<void> {
    await this.#run(
      'INSERT INTO repository_coverage (client_key, repo_uuid, doc) VALUES ($1, $2, $3) ON CONFLICT (client_key, repo_uuid) DO UPDATE SET doc = EXCLUDED.doc',
      [entry.clientKey, entry.repoUuid, JSON.stringify(entry)],
    );
  }

  async listRepositoryCoverage(clientKey: string): Promise<RepositoryCoverage[]> {
    return this.#many<RepositoryCoverage>('SELECT doc AS v FROM repository_coverage WHERE client_key = $1', [clientKey]);
  }

  async getCoverage(clientKey: string): Promise<CoverageState | undefined> {
    return this.#one<CoverageState>('SELECT doc AS v FROM coverage_states WHERE client_key = $1', [clientKey]);
  }

  async putCoverage(state: CoverageState): Promise<void> {
    await this.#run('INSERT INTO coverage_states (client_key, doc) VALUES ($1, $2) ON CONFLICT (client_key) DO UPDATE SET doc = EXCLUDED.doc', [state.clientKey, JSON.stringify(state)]);
  }

  async putApiToken(record: ApiTokenRecord): Promise<void> {
    await this.#run(
      'INSERT INTO api_tokens (hash, client_key, id, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO UPDATE SET doc = EXCLUDED.doc',
      [record.hash, record.clientKey, record.id, JSON.stringify(record)],
    );
  }

  async listApiTokens(clientKey: string): Promise<ApiTokenRecord[]> {
    return this.#many<ApiTokenRecord>('SELECT doc AS v FROM api_tokens WHERE client_key = $1 ORDER BY seq', [clientKey]);
  }

  async deleteApiToken(clientKey: string, id: string): Promise<boolean> {
    const { rowCount } = await this.#run('DELETE FROM api_tokens WHERE client_key = $1 AND id = $2', [clientKey, id]);
    return (rowCount ?? 0) > 0;
  }

  async findApiToken(hash: string): Promise<ApiTokenRecord | undefined> {
    return this.#one<ApiTokenRecord>('SELECT doc AS v FROM api_tokens WHERE hash = $1', [hash]);
  }

  /** In one transaction: a half-forgotten tenant is never visible. */
  async forgetTenant(clientKey: string): Promise<void> {
    await this.#run(
      `WITH a AS (DELETE FROM policies WHERE client_key = $1), b AS (DELETE FROM triage_marks WHERE client_key = $1),
            c AS (DELETE FROM pull_requests WHERE client_key = $1), d AS (DELETE FROM scans WHERE client_key = $1),
            e AS (DELETE FROM repositories WHERE client_key = $1), f AS (DELETE FROM repository_coverage WHERE client_key = $1),
            g AS (DELETE FROM coverage_states WHERE client_key = $1), h AS (DELETE FROM api_tokens WHERE client_key = $1),
            i AS (DELETE FROM advisory_states WHERE client_key = $1), j AS (DELETE FROM export_mappings WHERE client_key = $1)
       DELETE FROM inventories WHERE client_key = $1`,
      [clientKey],
    );
  }

  /** At most one prune per minute of the store's clock, shared by whoever asks meanwhile. */
  async #pruneIfDue(): Promise<void> {
    const now = this.#now().getTime();
    if (this.#pruning) return this.#pruning;
    if (!this.#open || now - this.#prunedAt < PRUNE_INTERVAL_MS) return;
    this.#pruning = this.#run(PRUNE_SUPERSEDED_SCANS, [new Date(now - this.#supersededScanMs).toISOString()])
      .then(() => {
        this.#prunedAt = now;
      })
      .finally(() => {
        this.#pruning = null;
      });
    return this.#pruning;
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
