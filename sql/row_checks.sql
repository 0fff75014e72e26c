-- Row checks (src/sql/45_row_checks.sql, rules in src/core/row_checks.cpp):
-- one CHECK per table over the whole row. Direct writes (as the owner) that
-- break a rule fail with 23514, naming the constraint and the rule; rows
-- that keep every rule pass. Everything here is rolled back.
\set VERBOSITY default
BEGIN;
SELECT conrelid::regclass AS "table", conname, pg_get_constraintdef(oid) AS definition
  FROM pg_constraint
 WHERE connamespace = 'order_credit'::regnamespace AND contype = 'c'
 ORDER BY 1::text;
SAVEPOINT s;
INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES ('', 1, 1);
ROLLBACK TO s;
INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES ('rc', -0.01, 1);
ROLLBACK TO s;
INSERT INTO order_credit.accounts (account, credit_limit, initial_limit, status) VALUES ('rc', 1, 1, 'closed');
ROLLBACK TO s;
-- 200 characters (not bytes) is the longest key.
INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES (repeat('ø', 200), 0, 0);
INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES (repeat('ø', 201), 0, 0);
ROLLBACK TO s;
INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES ('rc', 10, 10);
INSERT INTO order_credit.holds (order_ref, account, amount, captured) VALUES ('rc-h', 'rc', 5, 6);
ROLLBACK TO s;
INSERT INTO order_credit.ledger (account, kind, posted_after, pending_after, created_by)
VALUES ('rc', 'refund', 0, 0, 'u');
ROLLBACK TO s;
INSERT INTO order_credit.idempotency_keys (key, fingerprint, state) VALUES ('rc-k', 'f', 'completed');
ROLLBACK TO s;
INSERT INTO order_credit.idempotency_keys (key, fingerprint, response_code) VALUES ('rc-k', 'f', 99);
ROLLBACK TO s;
INSERT INTO order_credit.leases (key, owner, token) VALUES ('rc-l', 'me', 1);
ROLLBACK TO s;
INSERT INTO order_credit.processed_events (source, event_id) VALUES ('s', repeat('x', 201));
ROLLBACK TO s;
INSERT INTO order_credit.orders (order_ref, status, amount, items) VALUES ('rc-o', 'lost', 0, '[]');
ROLLBACK TO s;
INSERT INTO order_credit.items (sku, buckets) VALUES ('rc-i', 1025);
ROLLBACK TO s;
INSERT INTO order_credit.items (sku) VALUES ('rc-i');
INSERT INTO order_credit.stock_buckets (sku, bucket, on_hand, reserved) VALUES ('rc-i', 0, 1, 2);
ROLLBACK TO s;
INSERT INTO order_credit.reservations (order_ref, sku, quantity, part_buckets, part_qty)
VALUES ('rc-r', 'rc-i', 1, '{0,1}', '{1}');
ROLLBACK TO s;
INSERT INTO order_credit.stock_audit (sku, kind, delta, on_hand_after, buckets_after, created_by)
VALUES ('rc-i', 'gift', 0, 0, 1, 'u');
ROLLBACK TO s;
-- A whole-row check cannot be copied with LIKE (PostgreSQL refuses it).
CREATE TEMP TABLE copy_of_accounts (LIKE order_credit.accounts INCLUDING ALL);
ROLLBACK;
