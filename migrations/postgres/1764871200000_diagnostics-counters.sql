-- Up Migration
-- The Health view's counters (src/core/diagnostics), shared by every instance: each adds what it
-- counted every few seconds, and any instance answers with the totals. Bounded per installation
-- by kind: delivery (one row per event type), refusal (per reason), failure (per status class),
-- calls (one row, key '').
CREATE TABLE diagnostics_counters (
  client_key text NOT NULL,
  kind text NOT NULL,
  key text NOT NULL,
  count bigint NOT NULL,
  last_at text,
  last_message text,
  since text NOT NULL,
  PRIMARY KEY (client_key, kind, key)
);

-- Down Migration
DROP TABLE diagnostics_counters;
