-- verify_account() and verify_sku(): verify()'s checks of one account and
-- one SKU. They report what verify() reports about it, and nothing about
-- others.
SELECT account FROM order_credit.create_account('vb-1', 100);
SELECT account FROM order_credit.create_account('vb-2', 100);
SELECT status FROM order_credit.reserve_credit('vb-1', 10, 'vb-h1');
SELECT status FROM order_credit.reserve_credit('vb-2', 20, 'vb-h2');
SELECT sku FROM order_credit.set_stock('vb-s', 10, 2);
SELECT status FROM order_credit.reserve_stock('vb-s', 3, 'vb-r1');
SELECT check_name, subject FROM order_credit.verify_account('vb-1');
SELECT check_name, subject FROM order_credit.verify_sku('vb-s');
SELECT * FROM order_credit.verify_account('vb-none');
SELECT * FROM order_credit.verify_sku('vb-none');
-- Break an account's balance and a bucket's reserved behind the functions' backs.
BEGIN;
UPDATE order_credit.accounts SET pending = pending + 1 WHERE account = 'vb-1';
UPDATE order_credit.stock_buckets SET reserved = reserved + 1 WHERE sku = 'vb-s' AND bucket = 0;
SELECT check_name, subject FROM order_credit.verify_account('vb-1');
SELECT * FROM order_credit.verify_account('vb-2');
SELECT check_name, subject FROM order_credit.verify_sku('vb-s');
-- verify() reports the same rows for them (entry ids differ between runs: not shown).
SELECT check_name, subject FROM order_credit.verify() WHERE subject IN ('vb-1', 'vb-2', 'vb-s#0', 'vb-s#1');
ROLLBACK;
