-- Data for test/bench/credit_bench.sh. Runs once on a fresh cluster.
\set ON_ERROR_STOP 1
CREATE EXTENSION order_credit;

-- (a), (c-a): 1,000 accounts; limits so high that nothing is ever refused.
SELECT count(*) AS accounts_created
  FROM generate_series(1, 1000) i,
       LATERAL order_credit.create_account('acct-' || i, 1000000000000, 'EUR');

-- (b), (c-b): one hot account shared by every client.
SELECT account FROM order_credit.create_account('hot', 1000000000000000, 'EUR');

-- (d): the application pattern. It locks its own row of the extension's
-- accounts table, and keeps its ledger in a plain table of its own, pre-filled
-- with 100,000 entries for the hot account.
SELECT account FROM order_credit.create_account('hot-app', 1000000000000000, 'EUR');
CREATE TABLE app_ledger (
    entry_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account    text NOT NULL,
    amount     numeric NOT NULL,
    order_ref  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp()
);
INSERT INTO app_ledger (account, amount, order_ref)
SELECT 'hot-app', 1, 'seed-' || i FROM generate_series(1, 100000) i;
CREATE INDEX app_ledger_account ON app_ledger (account);

VACUUM ANALYZE;
