-- purge(): finished orders (with their history, hold and reservations),
-- finished holds and reservations of no order are deleted once they
-- finished more than order_credit.finished_retention ago (never less than
-- order_credit.idempotency_ttl); live rows, recent finished rows, the
-- ledger, stock_audit and payments stay; verify() stays empty. Runs in a
-- database of its own so that every count is exact.
CREATE DATABASE oc_purge;
\c oc_purge
CREATE EXTENSION order_credit;
SET client_min_messages = warning;
SHOW order_credit.finished_retention;
SELECT account FROM order_credit.create_account('pa', 100000);
SELECT sku FROM order_credit.set_stock('ps', 1000);
SELECT sku FROM order_credit.set_stock('pz', 1000, 4);  -- striped
-- Orders: delivered, cancelled, expired (finished); shipped, paid, pending (not).
SELECT status FROM order_credit.place_order('o-delivered', '[{"sku":"ps","quantity":1,"unit_price":10}]', 'pa');
SELECT status FROM order_credit.confirm_order('o-delivered');
SELECT status FROM order_credit.set_order_status('o-delivered', 'processing');
SELECT status FROM order_credit.set_order_status('o-delivered', 'shipped');
SELECT status FROM order_credit.set_order_status('o-delivered', 'delivered');
SELECT status FROM order_credit.place_order('o-cancelled', '[{"sku":"pz","quantity":2,"unit_price":10}]', 'pa');
SELECT status FROM order_credit.cancel_order('o-cancelled');
SELECT status FROM order_credit.place_order('o-expired', '[{"sku":"ps","quantity":1,"unit_price":10}]', 'pa', '1 millisecond');
SELECT status FROM order_credit.place_order('o-shipped', '[{"sku":"ps","quantity":1,"unit_price":10}]', 'pa');
SELECT status FROM order_credit.confirm_order('o-shipped');
SELECT status FROM order_credit.set_order_status('o-shipped', 'processing');
SELECT status FROM order_credit.set_order_status('o-shipped', 'shipped');
SELECT status FROM order_credit.place_order('o-paid', '[{"sku":"ps","quantity":1,"unit_price":10}]', 'pa');
SELECT status FROM order_credit.confirm_order('o-paid');
SELECT status FROM order_credit.place_order('o-pending', '[{"sku":"ps","quantity":1,"unit_price":10}]', 'pa');
-- Holds of no order: captured, voided, expired, reversed (finished); pending (not).
SELECT status FROM order_credit.reserve_credit('pa', 5, 'h-captured');
SELECT status FROM order_credit.capture_credit('h-captured');
SELECT status FROM order_credit.reserve_credit('pa', 5, 'h-voided');
SELECT status FROM order_credit.release_credit('h-voided');
SELECT status FROM order_credit.reserve_credit('pa', 5, 'h-expired', '1 millisecond');
SELECT status FROM order_credit.reserve_credit('pa', 5, 'h-reversed');
SELECT status FROM order_credit.capture_credit('h-reversed');
SELECT status FROM order_credit.release_credit('h-reversed');
SELECT status FROM order_credit.reserve_credit('pa', 5, 'h-pending', NULL);
-- Reservations of no order: committed, released, expired (finished); active (not).
SELECT status FROM order_credit.reserve_stock('ps', 1, 'r-committed');
SELECT status FROM order_credit.commit_stock('r-committed');
SELECT status FROM order_credit.reserve_stock('pz', 3, 'r-released');
SELECT status FROM order_credit.release_stock('r-released');
SELECT status FROM order_credit.reserve_stock('ps', 1, 'r-expired', '1 millisecond');
SELECT status FROM order_credit.reserve_stock('ps', 1, 'r-active', NULL);
SELECT record_payment IS NOT NULL AS paid FROM order_credit.record_payment('pa', 5, 'pay-1');
SELECT pg_sleep(0.01);
-- Expiry first: the expired order, hold and reservation claim.
SELECT order_credit.expire_due() AS expired;
-- Nothing is old enough yet.
SELECT order_credit.purge() AS purged;
-- Age every row by 40 days (the default retention is 30 days).
UPDATE order_credit.orders SET created_at = created_at - interval '40 days', updated_at = updated_at - interval '40 days';
UPDATE order_credit.holds SET created_at = created_at - interval '40 days', updated_at = updated_at - interval '40 days';
UPDATE order_credit.reservations SET created_at = created_at - interval '40 days', updated_at = updated_at - interval '40 days';
-- The expired reservation's expiry moves too (its claim is gone).
UPDATE order_credit.reservations SET expires_at = expires_at - interval '40 days' WHERE order_ref = 'r-expired';
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM order_credit.ledger) AS ledger,
       (SELECT count(*) FROM order_credit.stock_audit) AS audit,
       (SELECT count(*) FROM order_credit.payments) AS payments;
-- 0 keeps everything.
SET order_credit.finished_retention = 0;
SELECT order_credit.purge() AS purged;
-- A retention below order_credit.idempotency_ttl counts as that TTL: with
-- a TTL of 50 days nothing 40 days old goes.
SET order_credit.finished_retention = '1h';
SET order_credit.idempotency_ttl = '50d';
SELECT order_credit.purge() AS purged;
RESET order_credit.idempotency_ttl;
RESET order_credit.finished_retention;
-- A bounded batch: the 2 oldest finished orders with their history, holds and reservations.
SELECT order_credit.purge(2) AS purged;
SELECT order_credit.purge() AS purged;
SELECT order_credit.purge() AS purged;
SELECT order_ref, status FROM order_credit.orders ORDER BY 1;
SELECT DISTINCT order_ref FROM order_credit.order_history ORDER BY 1;
SELECT order_ref, status FROM order_credit.holds ORDER BY 1;
SELECT order_ref, sku, status FROM order_credit.reservations ORDER BY 1, 2;
-- The journals and payments are all there.
SELECT (SELECT count(*) FROM order_credit.ledger) = ledger AS ledger_kept,
       (SELECT count(*) FROM order_credit.stock_audit) = audit AS audit_kept,
       (SELECT count(*) FROM order_credit.payments) = payments AS payments_kept
  FROM before;
SELECT * FROM order_credit.verify();
-- After the retention, an order_ref is free again: a replay is a new request.
SELECT status, amount FROM order_credit.reserve_credit('pa', 7, 'h-voided');
-- A replayed payment is still recognised (payments are never purged).
SELECT posted FROM order_credit.record_payment('pa', 5, 'pay-1');
-- The history of an order is still append-only outside the purge.
DELETE FROM order_credit.order_history WHERE order_ref = 'o-paid';
SELECT count(*) FROM order_credit.order_history WHERE order_ref = 'o-paid';
-- expire_due purges too (the sweeper's call; at most one look a second per
-- backend, the first one at once: a new connection).
SELECT status FROM order_credit.release_credit('h-voided');
UPDATE order_credit.holds SET updated_at = updated_at - interval '40 days' WHERE order_ref = 'h-voided';
\c oc_purge
SELECT order_credit.expire_due() AS expired_or_purged;
SELECT count(*) FROM order_credit.holds WHERE order_ref = 'h-voided';
SELECT * FROM order_credit.verify();
-- Bad arguments.
SELECT order_credit.purge(0);
SELECT order_credit.purge(NULL);
\c contrib_regression
DROP DATABASE oc_purge;
