-- Up Migration
-- Dead jobs are kept until an operator reads them (readDeadJobs) or for 30 days: read_at is
-- when one was first read; updateJob clears it, so it always means "read in this state".
ALTER TABLE jobs ADD COLUMN read_at timestamptz;
-- Pruning of read dead jobs walks them by read time.
CREATE INDEX jobs_dead_read ON jobs (read_at) WHERE status = 'dead' AND read_at IS NOT NULL;

-- The scan prune (pg-results-store.ts) ranks every scan within its pull request or branch
-- by creation time. This index holds the scans in exactly that order, so the ranking reads
-- it in order instead of sorting the whole table every minute; the expressions must stay
-- those of PRUNE_SUPERSEDED_SCANS.
CREATE INDEX scans_prune_order ON scans (
  client_key, repo_uuid, kind, (coalesce(pr_id, -1)),
  (CASE WHEN kind = 'push' THEN coalesce('b:' || (summary->>'branch'), 'c:' || commit_hash) END),
  (summary->>'createdAt'), seq
);

-- Down Migration
DROP INDEX scans_prune_order;
DROP INDEX jobs_dead_read;
ALTER TABLE jobs DROP COLUMN read_at;
