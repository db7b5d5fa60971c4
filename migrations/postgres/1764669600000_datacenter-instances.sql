-- Up Migration
-- Registered Bitbucket Data Center instances (Store.putDatacenterInstance and friends).
-- The token and webhook secrets inside `doc` are AES-256-GCM envelopes, never plain text.
CREATE TABLE datacenter_instances (
  instance_id text PRIMARY KEY,
  -- Registration order (listDatacenterInstances); a replacement keeps it.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  name text NOT NULL CONSTRAINT datacenter_instances_name_unique UNIQUE,
  doc json NOT NULL
);

-- Down Migration
DROP TABLE datacenter_instances;
