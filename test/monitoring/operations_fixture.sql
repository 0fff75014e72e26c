-- The shop behind the recipes of docs/operations.md (test/monitoring/operations_doc.sh):
-- orders refused for credit, stock and a blocked account, a reservation
-- that never expires, and a hold and a reservation past their expiry that
-- no sweeper has marked (the cluster's sweeper serves another database).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT count(*) FROM order_credit.create_account('acme', 1000, 'EUR');
SELECT count(*) FROM order_credit.create_account('small-shop', 100, 'EUR');
SELECT count(*) FROM order_credit.create_account('fraud-co', 5000, 'EUR');
SELECT count(*) FROM order_credit.block_account('fraud-co', 'chargebacks');
SELECT count(*) FROM order_credit.set_stock('widget', 20);
SELECT count(*) FROM order_credit.set_stock('gadget', 3);
SELECT count(*) FROM order_credit.set_stock('bolt', 500);
SELECT order_credit.stats_reset();
\set ON_ERROR_STOP 0
-- Orders: accepted, then refused.
SELECT status FROM order_credit.place_order('ord-1', '[{"sku": "widget", "quantity": 2, "unit_price": 100}]', 'acme');
SELECT status FROM order_credit.place_order('ord-2', '[{"sku": "gadget", "quantity": 3, "unit_price": 50}]', 'acme');
SELECT status FROM order_credit.place_order('ord-3', '[{"sku": "bolt", "quantity": 19, "unit_price": 5}]', 'small-shop');
SELECT status FROM order_credit.place_order('ord-4', '[{"sku": "bolt", "quantity": 10, "unit_price": 10}]', 'small-shop');
SELECT status FROM order_credit.place_order('ord-5', '[{"sku": "bolt", "quantity": 50, "unit_price": 10}]', 'small-shop');
SELECT status FROM order_credit.place_order('ord-6', '[{"sku": "gadget", "quantity": 1, "unit_price": 50}]', 'acme');
SELECT status FROM order_credit.place_order('ord-7', '[{"sku": "gadget", "quantity": 1, "unit_price": 50}]', 'acme');
SELECT status FROM order_credit.place_order('ord-8', '[{"sku": "widget", "quantity": 1, "unit_price": 10}]', 'fraud-co');
SELECT ok, code FROM order_credit.try_reserve_credit('small-shop', 500, 'ord-9');
SELECT ok, code FROM order_credit.try_reserve_credit('small-shop', 500, 'ord-10');
-- A reservation made without an expiry (expires_in NULL): it never expires.
SELECT status FROM order_credit.reserve_stock('widget', 4, 'manual-hold-17', NULL);
-- A hold and a reservation that fall due at once.
SELECT status FROM order_credit.reserve_credit('acme', 50, 'ord-11', '1 second');
SELECT status FROM order_credit.reserve_stock('bolt', 5, 'ord-11', '1 second');
SELECT pg_sleep(1.5);
