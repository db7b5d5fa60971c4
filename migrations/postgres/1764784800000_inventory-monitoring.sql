-- Up Migration
-- Inventory and advisory monitoring.
-- Advisory monitoring (src/core/monitoring): each default branch's dependency findings as
-- re-evaluated after an OSV refresh, with the ones that appeared that way marked.
CREATE TABLE advisory_states (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  doc json NOT NULL,
  PRIMARY KEY (client_key, repo_uuid)
);

-- Each installation's inventory export mapping (src/core/inventory/mapping.ts), as its text.
CREATE TABLE export_mappings (
  client_key text PRIMARY KEY,
  doc json NOT NULL
);

-- Down Migration
DROP TABLE export_mappings;
DROP TABLE advisory_states;
