-- Up Migration
-- Forge installations (Store.putForgeInstallation and friends), keyed by Forge's installationId.
-- The app system token inside `doc` is an AES-256-GCM envelope, never plain text; its expiry
-- is a column too, so "keep only a later token" is one conditional UPDATE.
CREATE TABLE forge_installations (
  installation_id text PRIMARY KEY,
  token_expires_at timestamptz,
  doc jsonb NOT NULL
);

-- Down Migration
DROP TABLE forge_installations;
