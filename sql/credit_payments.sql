-- record_payment: reduces posted, idempotent on (account, payment_ref).
\set VERBOSITY default
\i sql/include/credit_helpers.sql

SELECT :acct FROM order_credit.create_account('pay-1', 1000);
SELECT :acct FROM order_credit.create_account('pay-2', 1000);
SELECT :hold FROM order_credit.reserve_credit('pay-1', 300, 'pay-o1');
SELECT :hold FROM order_credit.capture_credit('pay-o1');
SELECT :hold FROM order_credit.reserve_credit('pay-1', 100, 'pay-o2');
SELECT :acct FROM order_credit.credit_status('pay-1');

-- A payment reduces posted (never pending).
SELECT :acct FROM order_credit.record_payment('pay-1', 120.25, 'pay-p1');
-- Replay: same account, ref and amount; nothing changes.
SELECT :acct FROM order_credit.record_payment('pay-1', 120.25, 'pay-p1');
SELECT :acct FROM order_credit.record_payment('pay-1', 120.2500, 'pay-p1');
SELECT count(*) AS payment_entries FROM order_credit.ledger WHERE ref = 'pay-p1';
-- Same ref with another amount: OC009.
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 120, 'pay-p1')$$);
-- The same payment_ref on another account is another payment (the key is
-- (account, payment_ref)); here pay-2 owes nothing, so it is too large.
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-2', 1, 'pay-p1')$$);
-- Larger than the debt: 22023; exactly the debt: posted 0.
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 179.7501, 'pay-p2')$$);
SELECT :acct FROM order_credit.record_payment('pay-1', 179.75, 'pay-p2');
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 0.0001, 'pay-p3')$$);
-- A replay after the debt is gone is still a replay, not an overpayment.
SELECT :acct FROM order_credit.record_payment('pay-1', 120.25, 'pay-p1');
SELECT kind, amount, ref, posted_after, pending_after FROM order_credit.ledger
 WHERE account = 'pay-1' ORDER BY entry_id;
SELECT account, payment_ref, amount FROM order_credit.payments
 WHERE account = 'pay-1' ORDER BY payment_ref;

-- Validation: amounts, keys, NULLs, unknown account.
SELECT :hold FROM order_credit.capture_credit('pay-o2');
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 0, 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', -10, 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 'NaN', 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 'Infinity', 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', '-Infinity', 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 0.00001, 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment(NULL, 1, 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', NULL, 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 1, NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('', 1, 'pay-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-1', 1, '')$$);
SELECT pg_temp.err(format('SELECT order_credit.record_payment(%L, 1, %L)', 'pay-1', repeat('p', 201)));
SELECT pg_temp.err($$SELECT order_credit.record_payment('pay-nobody', 1, 'pay-bad')$$);
SELECT count(*) AS bad_payments FROM order_credit.payments WHERE payment_ref = 'pay-bad';
-- 200-character ref and a 1.50000 amount are accepted.
SELECT :acct FROM order_credit.record_payment('pay-1', 1.50000, repeat('p', 200));
SELECT amount, char_length(payment_ref) FROM order_credit.payments
 WHERE account = 'pay-1' AND payment_ref = repeat('p', 200);

-- Payments on a blocked account still work.
SELECT status FROM order_credit.block_account('pay-1', 'collections');
SELECT :acct FROM order_credit.record_payment('pay-1', 98.5, 'pay-p4');
SELECT status FROM order_credit.unblock_account('pay-1');

-- A payment rolled back with its transaction can be recorded again.
SELECT :hold FROM order_credit.reserve_credit('pay-2', 50, 'pay-o3');
SELECT :hold FROM order_credit.capture_credit('pay-o3');
BEGIN;
SELECT :acct FROM order_credit.record_payment('pay-2', 50, 'pay-p5');
ROLLBACK;
SELECT :acct FROM order_credit.record_payment('pay-2', 20, 'pay-p5');
SELECT :acct FROM order_credit.credit_status('pay-2');
-- Now that pay-2 owes something, its own 'pay-p1' is an independent payment.
SELECT :acct FROM order_credit.record_payment('pay-2', 10, 'pay-p1');
SELECT account, amount FROM order_credit.payments WHERE payment_ref = 'pay-p1' ORDER BY account;

SELECT * FROM order_credit.verify();
