-- Up Migration
-- Whole-workspace coverage (src/store/coverage-types.ts): the repositories discovery found,
-- each repository's backfill entry, each installation's coverage state, and API tokens
-- (stored as the sha256 of the token, never the token).
CREATE TABLE repositories (
  client_key text NOT NULL,
  uuid text NOT NULL,
  doc json NOT NULL,
  PRIMARY KEY (client_key, uuid)
);

CREATE TABLE repository_coverage (
  client_key text NOT NULL,
  repo_uuid text NOT NULL,
  doc json NOT NULL,
  PRIMARY KEY (client_key, repo_uuid)
);

CREATE TABLE coverage_states (
  client_key text PRIMARY KEY,
  doc json NOT NULL
);

CREATE TABLE api_tokens (
  hash text PRIMARY KEY,
  client_key text NOT NULL,
  id text NOT NULL,
  -- Creation order for listing.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  doc json NOT NULL,
  CONSTRAINT api_tokens_id_unique UNIQUE (client_key, id)
);

-- Down Migration
DROP TABLE api_tokens;
DROP TABLE coverage_states;
DROP TABLE repository_coverage;
DROP TABLE repositories;
