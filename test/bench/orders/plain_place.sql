-- (b) The rows place_order writes for the same order, as ONE plain SQL
-- statement with data-modifying CTEs, run directly on the extension's tables
-- (superuser): what place_order writes (src/pg/orders/orders.cpp: per SKU a
-- reservation as reserve_stock writes it, the hold as reserve_credit writes
-- it, the order and its history row), with the default TTL (15 min) spelled
-- out:
--   3 x stock_buckets UPDATE (reserved, guarded by on_hand - reserved >= q),
--   3 x reservations INSERT, accounts UPDATE (pending, next_expiry, guarded by
--   the credit checks), holds INSERT, ledger INSERT, orders INSERT,
--   order_history INSERT.
-- Buckets are locked in SKU order (the VALUES list is sorted, nested loop),
-- then the account, as the extension does. No order_ref lock, no
-- idempotency probes, no JSON validation, no function calls, no result rows
-- read back: the strongest fair baseline.
\set x random(1000, 1999)
\set y 1000 + (:x - 1000 + random(1, 499)) % 1000
\set z 1000 + (:x - 1000 + random(500, 998)) % 1000
\set lo least(:x, :y, :z)
\set hi greatest(:x, :y, :z)
\set mid :x + :y + :z - :lo - :hi
\set qlo case when :lo = :y then 2 else 1 end
\set qmid case when :mid = :y then 2 else 1 end
\set qhi case when :hi = :y then 2 else 1 end
\set acct random(1, 1000)
\set r random(1, 9000000000000000000)
WITH v(ref, items, account, total, ttl) AS MATERIALIZED (
    SELECT :run || '-' || :client_id || '-' || :r,
           jsonb_build_array(jsonb_build_object('sku', 'sku-' || :x, 'quantity', 1, 'unit_price', 10.50),
                             jsonb_build_object('sku', 'sku-' || :y, 'quantity', 2, 'unit_price', 4.25),
                             jsonb_build_object('sku', 'sku-' || :z, 'quantity', 1, 'unit_price', 99.99)),
           'acct-' || :acct, 118.99::numeric, interval '15 minutes'),
b AS (
    UPDATE order_credit.stock_buckets s SET reserved = s.reserved + i.q,
           updated_at = statement_timestamp()
      FROM (VALUES (1, 'sku-' || :lo, :qlo::bigint), (2, 'sku-' || :mid, :qmid::bigint),
                   (3, 'sku-' || :hi, :qhi::bigint)) AS i(n, sku, q)
     WHERE s.sku = i.sku AND s.bucket = 0 AND s.on_hand - s.reserved >= i.q
    RETURNING s.sku, s.bucket, i.q),
r AS (
    INSERT INTO order_credit.reservations (order_ref, sku, quantity, part_buckets, part_qty,
                                           expires_in, expires_at)
    SELECT v.ref, b.sku, b.q, NULL, NULL, v.ttl, statement_timestamp() + v.ttl  -- bucket 0: no parts
      FROM b, v
    RETURNING reservation_id),
a AS (
    UPDATE order_credit.accounts
       SET pending = pending + v.total,
           next_expiry = least(next_expiry, statement_timestamp() + v.ttl),
           updated_at = statement_timestamp()
      FROM v
     WHERE accounts.account = v.account AND status = 'active'
       AND (next_expiry IS NULL OR next_expiry > statement_timestamp())
       AND credit_limit - posted - pending >= v.total
       AND (SELECT count(*) FROM b) = 3
    RETURNING accounts.account, posted, pending),
h AS (
    INSERT INTO order_credit.holds (order_ref, account, amount, expires_in, expires_at)
    SELECT v.ref, a.account, v.total, v.ttl, statement_timestamp() + v.ttl FROM a, v
    RETURNING hold_id),
l AS (
    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, posted_after,
                                     pending_after, created_by)
    SELECT a.account, 'hold', v.total, v.ref, a.posted, a.pending, current_user FROM a, v),
o AS (
    INSERT INTO order_credit.orders (order_ref, account, status, amount, items, expires_in,
                                     expires_at)
    SELECT v.ref, a.account, 'pending', v.total, v.items, v.ttl, statement_timestamp() + v.ttl
      FROM a, v
    RETURNING order_ref, status),
oh AS (
    INSERT INTO order_credit.order_history (order_ref, from_status, to_status, reason, created_by)
    SELECT order_ref, NULL, 'pending', 'placed', current_user FROM o)
SELECT o.status FROM o, (SELECT count(*) FROM r) rc, (SELECT count(*) FROM h) hc;
