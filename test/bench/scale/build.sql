-- The large database of test/bench/scale_bench.sh, written in bulk (not
-- through the functions) in a form verify() accepts. psql variable :scale
-- (1 = the full size): per scale unit
--   1,000,000 accounts, each with 5 captured holds (5,000,000 holds) and
--     their 10 ledger entries (hold, capture: 10,000,000 entries);
--   10,000,000 finished (released) reservations over 10,000 SKUs;
--   1,000,000 delivered orders with 5 history entries each;
--   1,000,000 processed events and 1,000,000 completed idempotency keys.
-- Every row is 1 to 29 days old (within the default retention: the
-- benchmark measures a database that keeps its finished rows).
\set ON_ERROR_STOP 1
SELECT (1000000 * :scale)::bigint AS n_acc, (10000000 * :scale)::bigint AS n_res,
       (1000000 * :scale)::bigint AS n_ord, (1000000 * :scale)::bigint AS n_evt \gset
\timing on
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';

INSERT INTO order_credit.accounts (account, credit_limit, posted, pending, initial_limit, created_at, updated_at)
SELECT 'acct-' || i, 1000000000, 5, 0, 1000000000, now() - interval '30 days', now() - interval '1 day'
  FROM generate_series(1, :n_acc) i;

INSERT INTO order_credit.holds (order_ref, account, amount, captured, status, expires_in, expires_at, created_at, updated_at)
SELECT 'bh-' || i || '-' || j, 'acct-' || i, 1, 1, 'captured', '15 minutes', t + interval '15 minutes', t, t
  FROM generate_series(1, :n_acc) i, generate_series(1, 5) j,
       LATERAL (SELECT now() - interval '29 days' + (j * 5) * interval '1 day' + (i % 86400) * interval '1 second') x(t);

-- Entry ids in chain order per account (hold j: entries 2j-1 and 2j).
INSERT INTO order_credit.ledger (entry_id, account, kind, amount, order_ref, posted_after, pending_after, created_at, created_by)
OVERRIDING SYSTEM VALUE
SELECT (i - 1) * 10 + (j - 1) * 2 + k, 'acct-' || i, CASE k WHEN 1 THEN 'hold' ELSE 'capture' END, 1,
       'bh-' || i || '-' || j, CASE k WHEN 1 THEN j - 1 ELSE j END, CASE k WHEN 1 THEN 1 ELSE 0 END,
       now() - interval '29 days' + (j * 5) * interval '1 day', 'bulk'
  FROM generate_series(1, :n_acc) i, generate_series(1, 5) j, generate_series(1, 2) k;
SELECT setval(pg_get_serial_sequence('order_credit.ledger', 'entry_id'), :n_acc * 10);

-- Items through the functions (their audit entries), then the reservations.
SELECT count(order_credit.set_stock('sku-' || i, 1000000000)) FROM generate_series(1, 10000) i;
SELECT count(order_credit.set_stock('striped-' || i, 1000000000, 8)) FROM generate_series(1, 100) i;
INSERT INTO order_credit.reservations (order_ref, sku, quantity, status, expires_in, expires_at, reason, created_at, updated_at)
SELECT 'br-' || i, 'sku-' || (i % 10000 + 1), 1, 'released', '15 minutes', t + interval '15 minutes', NULL, t, t
  FROM generate_series(1, :n_res) i,
       LATERAL (SELECT now() - interval '29 days' + (i::float8 / :n_res) * interval '28 days') x(t);

INSERT INTO order_credit.orders (order_ref, account, status, amount, items, expires_in, expires_at, created_at, updated_at)
SELECT 'bo-' || i, NULL, 'delivered', 2, jsonb_build_array(jsonb_build_object('sku', 'sku-' || (i % 10000 + 1), 'quantity', 1, 'unit_price', 2)),
       '15 minutes', t + interval '15 minutes', t, t + interval '1 day'
  FROM generate_series(1, :n_ord) i,
       LATERAL (SELECT now() - interval '29 days' + (i::float8 / :n_ord) * interval '27 days') x(t);
INSERT INTO order_credit.order_history (entry_id, order_ref, from_status, to_status, created_at, created_by)
OVERRIDING SYSTEM VALUE
SELECT (i - 1) * 5 + k, 'bo-' || i, (ARRAY[NULL, 'pending', 'paid', 'processing', 'shipped'])[k],
       (ARRAY['pending', 'paid', 'processing', 'shipped', 'delivered'])[k],
       now() - interval '20 days', 'bulk'
  FROM generate_series(1, :n_ord) i, generate_series(1, 5) k;
SELECT setval(pg_get_serial_sequence('order_credit.order_history', 'entry_id'), :n_ord * 5);

INSERT INTO order_credit.processed_events (source, event_id, processed_at)
SELECT 'bulk', 'ev-' || i, now() - interval '5 days' FROM generate_series(1, :n_evt) i;
INSERT INTO order_credit.idempotency_keys (key, fingerprint, state, response, response_code, created_at, updated_at, completed_at)
SELECT 'bk-' || i, 'f', 'completed', '{}', 200, now() - interval '20 hours', now() - interval '20 hours', now() - interval '20 hours'
  FROM generate_series(1, :n_evt) i;

VACUUM (ANALYZE) order_credit.accounts, order_credit.holds, order_credit.ledger, order_credit.reservations,
    order_credit.orders, order_credit.order_history, order_credit.processed_events, order_credit.idempotency_keys,
    order_credit.items, order_credit.stock_buckets, order_credit.stock_audit;
