-- Orders: place (stock + credit, all or nothing), confirm, status steps,
-- cancel (release or restock), expiry, idempotency, history, errors.
\set VERBOSITY default
SET order_credit.lock_timeout = '1s';
SELECT account FROM order_credit.create_account('ord-acct', 1000);
SELECT sku, on_hand FROM order_credit.set_stock('ord-rice', 10);
SELECT sku, on_hand FROM order_credit.set_stock('ord-tea', 5);

-- Place: reserves every item and credit for the total (2*100 + 1*50.5 = 250.5).
SELECT order_ref, account, status, amount, expires_at > now() AS expires_later
  FROM order_credit.place_order('ord-1', '[{"sku":"ord-rice","quantity":2,"unit_price":100},
                                            {"sku":"ord-tea","quantity":1,"unit_price":50.5}]', 'ord-acct');
SELECT available FROM order_credit.stock_status('ord-rice');
SELECT available FROM order_credit.stock_status('ord-tea');
SELECT pending, available FROM order_credit.credit_status('ord-acct');
-- Same call again: the same order, nothing reserved twice.
SELECT order_ref, status, amount
  FROM order_credit.place_order('ord-1', '[{"sku":"ord-rice","quantity":2,"unit_price":100},
                                            {"sku":"ord-tea","quantity":1,"unit_price":50.5}]', 'ord-acct');
SELECT available FROM order_credit.stock_status('ord-rice');
-- Same order_ref, other items: OC009.
SELECT * FROM order_credit.place_order('ord-1', '[{"sku":"ord-rice","quantity":3,"unit_price":100}]', 'ord-acct');

-- Confirm: stock committed (on_hand drops), credit captured.
SELECT order_ref, status FROM order_credit.confirm_order('ord-1', 'pay-1');
SELECT on_hand, reserved, available FROM order_credit.stock_status('ord-rice');
SELECT posted, pending FROM order_credit.credit_status('ord-acct');
-- Confirming again returns it; another payment_ref is a mismatch.
SELECT status FROM order_credit.confirm_order('ord-1', 'pay-1');
SELECT status FROM order_credit.confirm_order('ord-1');
SELECT * FROM order_credit.confirm_order('ord-1', 'pay-other');

-- Status steps: one at a time.
SELECT status FROM order_credit.set_order_status('ord-1', 'shipped');
SELECT status FROM order_credit.set_order_status('ord-1', 'processing');
SELECT status FROM order_credit.set_order_status('ord-1', 'processing');
SELECT status FROM order_credit.set_order_status('ord-1', 'paid');
SELECT status FROM order_credit.set_order_status('ord-1', 'cancelled');
SELECT status FROM order_credit.set_order_status('ord-1', 'bogus');

-- Cancel a processing order: units back on the shelf, debt reversed.
SELECT status FROM order_credit.cancel_order('ord-1', 'customer changed mind');
SELECT on_hand, reserved, available FROM order_credit.stock_status('ord-rice');
SELECT on_hand, available FROM order_credit.stock_status('ord-tea');
SELECT posted, pending, available FROM order_credit.credit_status('ord-acct');
SELECT status FROM order_credit.cancel_order('ord-1');
SELECT status FROM order_credit.set_order_status('ord-1', 'shipped');

-- Cancel a pending order: reservations released, hold voided.
SELECT status FROM order_credit.place_order('ord-2', '[{"sku":"ord-tea","quantity":5,"unit_price":1}]', 'ord-acct');
SELECT available FROM order_credit.stock_status('ord-tea');
SELECT status FROM order_credit.cancel_order('ord-2');
SELECT available FROM order_credit.stock_status('ord-tea');
SELECT pending FROM order_credit.credit_status('ord-acct');
SELECT * FROM order_credit.confirm_order('ord-2');

-- Shipped and delivered orders cannot be cancelled.
SELECT status FROM order_credit.place_order('ord-3', '[{"sku":"ord-tea","quantity":1,"unit_price":1}]');
SELECT status FROM order_credit.confirm_order('ord-3');
SELECT status FROM order_credit.set_order_status('ord-3', 'processing');
SELECT status FROM order_credit.set_order_status('ord-3', 'shipped');
SELECT * FROM order_credit.cancel_order('ord-3');
SELECT status FROM order_credit.set_order_status('ord-3', 'delivered');

-- All or nothing: credit fails -> no SKU touched, no order row.
SELECT available FROM order_credit.stock_status('ord-rice');
SELECT * FROM order_credit.place_order('ord-4', '[{"sku":"ord-rice","quantity":1,"unit_price":5000}]', 'ord-acct');
SELECT available FROM order_credit.stock_status('ord-rice');
SELECT count(*) FROM order_credit.orders WHERE order_ref = 'ord-4';
-- Stock fails on the second item -> the first is not reserved either.
SELECT * FROM order_credit.place_order('ord-5', '[{"sku":"ord-rice","quantity":1,"unit_price":1},
                                                  {"sku":"ord-tea","quantity":99,"unit_price":1}]');
SELECT available FROM order_credit.stock_status('ord-rice');
SELECT * FROM order_credit.place_order('ord-5', '[{"sku":"ord-nope","quantity":1,"unit_price":1}]');
SELECT * FROM order_credit.place_order('ord-5', '[{"sku":"ord-rice","quantity":1,"unit_price":1}]', 'no-such-account');
SELECT * FROM order_credit.place_order('ord-5', '[{"sku":"ord-rice","quantity":1,"unit_price":0}]', 'no-such-account');
-- A free order on a real account reserves stock but no credit.
SELECT status, amount FROM order_credit.place_order('ord-8', '[{"sku":"ord-rice","quantity":1,"unit_price":0}]', 'ord-acct');
SELECT pending FROM order_credit.credit_status('ord-acct');
SELECT status FROM order_credit.confirm_order('ord-8');
SELECT status FROM order_credit.cancel_order('ord-8');
SELECT on_hand, available FROM order_credit.stock_status('ord-rice');

-- Expiry: a pending order past expires_at reads expired and cannot be confirmed.
SELECT status FROM order_credit.place_order('ord-6', '[{"sku":"ord-rice","quantity":2,"unit_price":1}]', 'ord-acct', '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT status FROM order_credit.order_status('ord-6');
SELECT available FROM order_credit.stock_status('ord-rice');
SELECT * FROM order_credit.confirm_order('ord-6');
SELECT * FROM order_credit.cancel_order('ord-6');
-- expire_due marks it (and its hold and reservation) for good.
SELECT order_credit.expire_due() >= 3 AS swept;
SELECT status FROM order_credit.orders WHERE order_ref = 'ord-6';

-- Bad input.
SELECT * FROM order_credit.place_order(NULL, '[]');
SELECT * FROM order_credit.place_order('ord-7', NULL);
SELECT * FROM order_credit.place_order('ord-7', '{}');
SELECT * FROM order_credit.place_order('ord-7', '[]');
SELECT * FROM order_credit.place_order('ord-7', '[1]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":0,"unit_price":1}]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1.5,"unit_price":1}]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1}]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":-1}]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":1,"qty":2}]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":1},{"sku":"ord-rice","quantity":1,"unit_price":1}]');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":1}]', NULL, '0 seconds');
SELECT * FROM order_credit.order_status('ord-unknown');
SELECT * FROM order_credit.confirm_order('ord-unknown');
SELECT * FROM order_credit.cancel_order('ord-unknown');
SELECT * FROM order_credit.order_status('');

-- History: every transition, in order; append-only.
SELECT order_ref, from_status, to_status, reason FROM order_credit.order_history
 WHERE order_ref IN ('ord-1', 'ord-2', 'ord-6') ORDER BY entry_id;
DELETE FROM order_credit.order_history;
SELECT * FROM order_credit.verify();
