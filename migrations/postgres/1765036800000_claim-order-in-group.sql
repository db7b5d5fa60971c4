-- Up Migration
-- Claims keep a pull request's jobs in acceptance order when instances claim at the same
-- moment: a claim that finds one of a pull request's jobs row-locked by another claim takes
-- none of that pull request's later jobs.
CREATE OR REPLACE FUNCTION gatehouse_claim_jobs(p_limit integer, p_now timestamptz, p_at timestamptz, p_owner text, p_lease interval, p_scan integer)
RETURNS SETOF jobs
LANGUAGE plpgsql AS $$
DECLARE
  candidate record;
  newer text;
  claimed integer := 0;
  -- Groups (client key and group) one of whose jobs this claim found row-locked by another.
  held_groups text[] := '{}';
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
    -- A job of a pull request locked by a claim beside this one (which may not hold the
    -- group's lock yet) keeps the pull request's later jobs from this claim: candidates come
    -- in acceptance order, so taking one of them would run a newer job before an older one.
    IF candidate.grp IS NOT NULL AND candidate.client_key || E'\n' || candidate.grp = ANY (held_groups) THEN
      CONTINUE;
    END IF;
    -- Locked one at a time, not by the scan: a lock taken on a job this claim does not end
    -- up taking would hide it from the claims running beside this one.
    PERFORM 1 FROM jobs WHERE id = candidate.id AND status = 'queued' FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      IF candidate.grp IS NOT NULL THEN
        held_groups := held_groups || (candidate.client_key || E'\n' || candidate.grp);
      END IF;
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

-- Down Migration
CREATE OR REPLACE FUNCTION gatehouse_claim_jobs(p_limit integer, p_now timestamptz, p_at timestamptz, p_owner text, p_lease interval, p_scan integer)
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
