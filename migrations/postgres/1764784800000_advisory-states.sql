-- Up Migration
-- Advisory monitoring (src/core/monitoring): each default branch's dependency findings as
-- re-evaluated after an OSV refresh, with the ones that appeared that way marked.
CREATE TABLE advisory_states (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  doc json NOT NULL,
  PRIMARY KEY (client_key, repo_uuid)
);

-- Down Migration
DROP TABLE advisory_states;
