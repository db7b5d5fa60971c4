-- Up Migration
-- Gatehouse's PostgreSQL schema, version 1: what src/store/types.ts (Store) and
-- src/store/results-types.ts (ResultsStore) hold. Documents the app never queries inside
-- are `json`, not `jsonb`: json keeps the text as given (jsonb refuses \u0000, which a
-- commit message in a webhook payload may carry) and costs no conversion on the way in.

CREATE TABLE installations (
  client_key text PRIMARY KEY,
  -- First-install order (listInstallations); an update keeps it.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  doc json NOT NULL
);

CREATE TABLE deliveries (
  id text PRIMARY KEY,
  client_key text NOT NULL,
  event text NOT NULL,
  job_id text,
  received_at timestamptz NOT NULL
);
-- Pruning walks the oldest first.
CREATE INDEX deliveries_received_at ON deliveries (received_at);

CREATE TABLE jobs (
  id text PRIMARY KEY,
  -- Acceptance order: "oldest first" and which job of a group is newer.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  client_key text NOT NULL,
  type text NOT NULL,
  payload json NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  run_after timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_error text,
  grp text,
  supersedes boolean NOT NULL DEFAULT false,
  -- Which instance runs it and until when it may without renewing (see pg-store.ts).
  lease_owner text,
  lease_until timestamptz
);
-- The claim walks queued jobs in acceptance order.
CREATE INDEX jobs_queued ON jobs (seq) WHERE status = 'queued';
-- Expired leases (an instance that died) are found without looking at anything else.
CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE status = 'running';
-- "Is a job of this pull request running?" and countUnfinishedJobs.
CREATE INDEX jobs_unfinished_group ON jobs (client_key, grp) WHERE status IN ('queued', 'running');
-- countQueuedJobs.
CREATE INDEX jobs_queued_client ON jobs (client_key) WHERE status = 'queued';
-- findSuperseder: the newest superseding job of a group.
CREATE INDEX jobs_superseding ON jobs (client_key, grp, seq) WHERE supersedes;
-- listJobs by group or installation, and pruning of finished jobs.
CREATE INDEX jobs_group ON jobs (client_key, grp, seq);
CREATE INDEX jobs_client ON jobs (client_key, seq);
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE status IN ('done', 'dead');

-- Hands out up to p_limit due jobs (run_after <= p_now) in acceptance order, marking them
-- running under p_owner's lease. In one transaction, and so one round trip:
--  * jobs whose instance stopped renewing its lease go back to the queue first;
--  * a job with a newer superseding job in its group is finished as superseded instead;
--  * a job whose group (pull request) already has a running job is left queued, so a
--    pull request's jobs run one at a time across every instance. The group advisory lock
--    closes the race between two claims that both see no running job yet.
-- FOR UPDATE SKIP LOCKED on each job lets concurrent claims pass each other instead of queueing.
-- At most p_scan queued jobs are looked at per call, so a long run of jobs waiting for a
-- busy pull request costs a bounded amount (they are skipped through an index lookup each).
CREATE FUNCTION gatehouse_claim_jobs(p_limit integer, p_now timestamptz, p_at timestamptz, p_owner text, p_lease interval, p_scan integer)
RETURNS SETOF jobs
LANGUAGE plpgsql AS $$
DECLARE
  candidate record;
  newer text;
  claimed integer := 0;
BEGIN
  UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = p_at
    WHERE status = 'running' AND lease_until < clock_timestamp();
  IF p_limit <= 0 THEN
    RETURN;
  END IF;
  FOR candidate IN
    SELECT j.id, j.client_key, j.grp, j.seq FROM jobs j
      WHERE j.status = 'queued' AND j.run_after <= p_now
      ORDER BY j.seq
      LIMIT p_scan
  LOOP
    -- Locked one at a time, not by the scan: a lock taken on a job this claim does not end
    -- up taking would hide it from the claims running beside this one.
    PERFORM 1 FROM jobs WHERE id = candidate.id AND status = 'queued' FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    IF candidate.grp IS NOT NULL THEN
      SELECT s.id INTO newer FROM jobs s
        WHERE s.client_key = candidate.client_key AND s.grp = candidate.grp AND s.supersedes AND s.seq > candidate.seq
        ORDER BY s.seq DESC LIMIT 1;
      IF newer IS NOT NULL THEN
        UPDATE jobs SET status = 'done', last_error = 'skipped: superseded by job ' || newer, updated_at = p_at
          WHERE id = candidate.id;
        CONTINUE;
      END IF;
      IF NOT pg_try_advisory_xact_lock(hashtextextended(candidate.client_key || E'\n' || candidate.grp, 0)) THEN
        CONTINUE;
      END IF;
      IF EXISTS (SELECT 1 FROM jobs r WHERE r.client_key = candidate.client_key AND r.grp = candidate.grp AND r.status = 'running') THEN
        CONTINUE;
      END IF;
    END IF;
    RETURN QUERY UPDATE jobs SET status = 'running', updated_at = p_at, lease_owner = p_owner, lease_until = clock_timestamp() + p_lease
      WHERE id = candidate.id RETURNING *;
    claimed := claimed + 1;
    EXIT WHEN claimed >= p_limit;
  END LOOP;
END;
$$;

CREATE TABLE policies (
  client_key text PRIMARY KEY,
  doc json NOT NULL
);

CREATE TABLE triage_marks (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  fingerprint text NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  doc json NOT NULL,
  PRIMARY KEY (client_key, repo_uuid, fingerprint)
);

CREATE TABLE pull_requests (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  pr_id integer NOT NULL,
  doc json NOT NULL,
  PRIMARY KEY (client_key, repo_uuid, pr_id)
);

CREATE TABLE scans (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  commit_hash text NOT NULL,
  kind text NOT NULL,
  -- Null for a push scan; the unique index below treats it as one value.
  pr_id integer,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  summary json NOT NULL,
  findings json NOT NULL
);
CREATE UNIQUE INDEX scans_key ON scans (client_key, repo_uuid, commit_hash, kind, (coalesce(pr_id, -1)));
CREATE INDEX scans_repo ON scans (client_key, repo_uuid, seq);

CREATE TABLE inventories (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  branch text NOT NULL,
  meta json NOT NULL,
  body json NOT NULL,
  PRIMARY KEY (client_key, repo_uuid, branch)
);

-- Down Migration
DROP TABLE inventories;
DROP TABLE scans;
DROP TABLE pull_requests;
DROP TABLE triage_marks;
DROP TABLE policies;
DROP FUNCTION gatehouse_claim_jobs;
DROP TABLE jobs;
DROP TABLE deliveries;
DROP TABLE installations;
