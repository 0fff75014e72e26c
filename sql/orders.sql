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

-- Fast path and composed path write the same rows. ord-f1 takes the fast
-- path (an account, a total above zero, SKUs of one bucket). ord-f2 has the
-- same items on an account whose hold has fallen due: the fast path refuses
-- (next_expiry has passed) and the composed path expires that hold first.
SELECT account FROM order_credit.create_account('ord-fa', 1000);
SELECT account FROM order_credit.create_account('ord-fb', 1000);
SELECT sku, on_hand FROM order_credit.set_stock('ord-f-x', 10);
SELECT sku, on_hand FROM order_credit.set_stock('ord-f-y', 10);
SELECT status FROM order_credit.place_order('ord-f0', '[{"sku":"ord-f-x","quantity":1,"unit_price":1}]', 'ord-fb', '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT status, amount FROM order_credit.place_order('ord-f1', '[{"sku":"ord-f-y","quantity":2,"unit_price":1.5},
                                                               {"sku":"ord-f-x","quantity":1,"unit_price":7}]', 'ord-fa');
SELECT status, amount FROM order_credit.place_order('ord-f2', '[{"sku":"ord-f-y","quantity":2,"unit_price":1.5},
                                                               {"sku":"ord-f-x","quantity":1,"unit_price":7}]', 'ord-fb');
SELECT order_ref, status FROM order_credit.holds WHERE order_ref LIKE 'ord-f_' ORDER BY order_ref;
SELECT account, order_ref, kind, amount, posted_after, pending_after, created_by = current_user AS by_caller
  FROM order_credit.ledger WHERE account IN ('ord-fa', 'ord-fb') ORDER BY account, entry_id;
SELECT order_ref, sku, quantity, part_buckets, part_qty, status, expires_in,
       expires_at = created_at + expires_in AS expires_ok
  FROM order_credit.reservations WHERE order_ref IN ('ord-f1', 'ord-f2') ORDER BY order_ref, reservation_id;
SELECT order_ref, account, amount, captured, status, expires_in, expires_at = created_at + expires_in AS expires_ok
  FROM order_credit.holds WHERE order_ref IN ('ord-f1', 'ord-f2') ORDER BY order_ref;
SELECT order_ref, account, status, amount, items, expires_in, expires_at = created_at + expires_in AS expires_ok
  FROM order_credit.orders WHERE order_ref IN ('ord-f1', 'ord-f2') ORDER BY order_ref;
SELECT order_ref, from_status, to_status, reason, created_by = current_user AS by_caller
  FROM order_credit.order_history WHERE order_ref IN ('ord-f1', 'ord-f2') ORDER BY entry_id;
SELECT account, posted, pending, next_expiry = (SELECT min(expires_at) FROM order_credit.holds h
                                                 WHERE h.account = a.account AND h.status = 'pending') AS next_expiry_ok
  FROM order_credit.accounts a WHERE account IN ('ord-fa', 'ord-fb') ORDER BY account;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('ord-f-x');
-- Replays of both: the same orders, nothing reserved twice.
SELECT order_ref, status, amount FROM order_credit.place_order('ord-f1', '[{"sku":"ord-f-y","quantity":2,"unit_price":1.5},
                                                               {"sku":"ord-f-x","quantity":1,"unit_price":7}]', 'ord-fa');
SELECT order_ref, status, amount FROM order_credit.place_order('ord-f2', '[{"sku":"ord-f-y","quantity":2,"unit_price":1.5},
                                                               {"sku":"ord-f-x","quantity":1,"unit_price":7}]', 'ord-fb');
SELECT * FROM order_credit.place_order('ord-f1', '[{"sku":"ord-f-y","quantity":2,"unit_price":1.5}]', 'ord-fa');
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('ord-f-x');
-- A reservation made earlier under the order's ref: the fast path leaves it
-- to the composed path, which takes it as reserve_stock's replay.
SELECT sku, quantity FROM order_credit.reserve_stock('ord-f-x', 1, 'ord-f3');
SELECT status, amount FROM order_credit.place_order('ord-f3', '[{"sku":"ord-f-x","quantity":1,"unit_price":2}]', 'ord-fa');
SELECT count(*) AS reservations FROM order_credit.reservations WHERE order_ref = 'ord-f3';
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('ord-f-x');
-- A striped SKU goes the composed path.
SELECT sku, on_hand, buckets FROM order_credit.set_stock('ord-f-z', 8, 4);
SELECT status, amount FROM order_credit.place_order('ord-f4', '[{"sku":"ord-f-z","quantity":2,"unit_price":1},
                                                               {"sku":"ord-f-x","quantity":1,"unit_price":1}]', 'ord-fa');
SELECT sku, quantity, cardinality(coalesce(part_buckets, '{0}')) AS parts FROM order_credit.reservations
 WHERE order_ref = 'ord-f4' ORDER BY sku;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('ord-f-z');
-- Refusals after the fast path: no row of the order anywhere.
SELECT * FROM order_credit.place_order('ord-f5', '[{"sku":"ord-f-x","quantity":1,"unit_price":1},
                                                  {"sku":"ord-f-y","quantity":99,"unit_price":1}]', 'ord-fa');
SELECT * FROM order_credit.place_order('ord-f5', '[{"sku":"ord-f-x","quantity":1,"unit_price":5000}]', 'ord-fa');
SELECT * FROM order_credit.place_order('ord-f5', '[{"sku":"ord-f-x","quantity":1,"unit_price":1},
                                                  {"sku":"ord-f-nope","quantity":1,"unit_price":1}]', 'ord-fa');
SELECT * FROM order_credit.place_order('ord-f5', '[{"sku":"ord-f-x","quantity":1,"unit_price":1}]', 'ord-f-nobody');
SELECT account, status FROM order_credit.block_account('ord-fa', 'test');
SELECT * FROM order_credit.place_order('ord-f5', '[{"sku":"ord-f-x","quantity":1,"unit_price":1}]', 'ord-fa');
SELECT (SELECT count(*) FROM order_credit.orders WHERE order_ref = 'ord-f5') AS orders,
       (SELECT count(*) FROM order_credit.reservations WHERE order_ref = 'ord-f5') AS reservations,
       (SELECT count(*) FROM order_credit.holds WHERE order_ref = 'ord-f5') AS holds;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('ord-f-x');
-- Items read straight from the jsonb: the same errors as before.
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":5,"quantity":1,"unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"quantity":1,"unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"","quantity":1,"unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', jsonb_build_array(jsonb_build_object('sku', repeat('é', 201), 'quantity', 1, 'unit_price', 1)), 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":"1","unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":null,"unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":[1],"unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":99999999999999999999,"unit_price":1}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":"1"}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":1.00001}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":{}}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":1}, 2]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '[{"sku":"ord-rice","quantity":1,"unit_price":1,"zz":1,"aa":2}]', 'ord-acct');
SELECT * FROM order_credit.place_order('ord-7', '"text"', 'ord-acct');
SELECT status, amount FROM order_credit.place_order('ord-f6', '[{"sku":"ord-f-y","quantity":5e0,"unit_price":2.50}]', 'ord-fb');
SELECT items, amount FROM order_credit.orders WHERE order_ref = 'ord-f6';
SELECT sku, quantity FROM order_credit.reservations WHERE order_ref = 'ord-f6';

-- History: every transition, in order; append-only.
SELECT order_ref, from_status, to_status, reason FROM order_credit.order_history
 WHERE order_ref IN ('ord-1', 'ord-2', 'ord-6') ORDER BY entry_id;
DELETE FROM order_credit.order_history;
SELECT * FROM order_credit.verify();
