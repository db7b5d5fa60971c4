-- Up Migration
-- Each installation's budget of outbound Bitbucket calls (BITBUCKET_CALL_BUDGET), one token
-- bucket shared by every instance: an instance leases a few calls at a time in one UPDATE
-- (src/store/postgres/pg-call-bank.ts) and spends them from memory. tokens is what the bucket
-- held at updated_ms (milliseconds since the epoch, the database's clock); last_lease is the
-- size of the last lease, which that UPDATE returns.
CREATE TABLE call_budgets (
  client_key text PRIMARY KEY,
  tokens double precision NOT NULL,
  updated_ms double precision NOT NULL,
  last_lease integer NOT NULL
);

-- Down Migration
DROP TABLE call_budgets;
