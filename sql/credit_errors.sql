-- Error reporting of the credit functions: NULL in every argument, and the
-- full MESSAGE / DETAIL / HINT of every SQLSTATE they raise.
\set VERBOSITY default
\i sql/include/credit_helpers.sql

SELECT :acct FROM order_credit.create_account('err-1', 100);
SELECT :hold FROM order_credit.reserve_credit('err-1', 10, 'err-o1');

-- NULL in every argument of every function. Required arguments: 22004.
-- Optional ones (currency, reason, expires_in, capture amount): accepted.
CREATE TEMP TABLE calls (fn text, arg int, stmt text);
INSERT INTO calls VALUES
  ('create_account', 1, $$SELECT order_credit.create_account(NULL, 1)$$),
  ('create_account', 2, $$SELECT order_credit.create_account('err-n1', NULL)$$),
  ('create_account', 3, $$SELECT order_credit.create_account('err-n1', 1, NULL)$$),
  ('set_credit_limit', 1, $$SELECT order_credit.set_credit_limit(NULL, 1)$$),
  ('set_credit_limit', 2, $$SELECT order_credit.set_credit_limit('err-1', NULL)$$),
  ('block_account', 1, $$SELECT order_credit.block_account(NULL, 'r')$$),
  ('block_account', 2, $$SELECT order_credit.block_account('err-n1', NULL)$$),
  ('unblock_account', 1, $$SELECT order_credit.unblock_account(NULL)$$),
  ('credit_status', 1, $$SELECT order_credit.credit_status(NULL)$$),
  ('reserve_credit', 1, $$SELECT order_credit.reserve_credit(NULL, 1, 'err-n2')$$),
  ('reserve_credit', 2, $$SELECT order_credit.reserve_credit('err-1', NULL, 'err-n2')$$),
  ('reserve_credit', 3, $$SELECT order_credit.reserve_credit('err-1', 1, NULL)$$),
  ('reserve_credit', 4, $$SELECT order_credit.reserve_credit('err-1', 1, 'err-n2', NULL)$$),
  ('try_reserve_credit', 1, $$SELECT order_credit.try_reserve_credit(NULL, 1, 'err-n3')$$),
  ('try_reserve_credit', 2, $$SELECT order_credit.try_reserve_credit('err-1', NULL, 'err-n3')$$),
  ('try_reserve_credit', 3, $$SELECT order_credit.try_reserve_credit('err-1', 1, NULL)$$),
  ('try_reserve_credit', 4, $$SELECT order_credit.try_reserve_credit('err-1', 1, 'err-n3', NULL)$$),
  ('capture_credit', 1, $$SELECT order_credit.capture_credit(NULL, 1)$$),
  ('capture_credit', 2, $$SELECT order_credit.capture_credit('err-n2', NULL)$$),
  ('release_credit', 1, $$SELECT order_credit.release_credit(NULL, 'r')$$),
  ('release_credit', 2, $$SELECT order_credit.release_credit('err-n3', NULL)$$),
  ('record_payment', 1, $$SELECT order_credit.record_payment(NULL, 1, 'err-p')$$),
  ('record_payment', 2, $$SELECT order_credit.record_payment('err-1', NULL, 'err-p')$$),
  ('record_payment', 3, $$SELECT order_credit.record_payment('err-1', 1, NULL)$$);
-- Run in order: err-n1 is created by create_account(..., NULL) before it is
-- blocked; err-n2 is reserved before it is captured; err-n3 before released.
SELECT fn, arg, pg_temp.err(stmt) AS result FROM calls ORDER BY fn = 'block_account', fn = 'capture_credit', fn = 'release_credit', fn, arg;
SELECT :acct FROM order_credit.credit_status('err-n1');
SELECT order_ref, amount, captured, status, expires_at IS NULL AS never_expires
  FROM order_credit.holds WHERE order_ref IN ('err-n2', 'err-n3') ORDER BY order_ref;

-- Empty and 201-character keys in every key argument: 22023.
TRUNCATE calls;
INSERT INTO calls
SELECT c.fn, c.arg, format(c.tpl, k.v)
  FROM (VALUES
    ('create_account', 1, $$SELECT order_credit.create_account(%L, 1)$$),
    ('create_account', 3, $$SELECT order_credit.create_account('err-k', 1, %L)$$),
    ('set_credit_limit', 1, $$SELECT order_credit.set_credit_limit(%L, 1)$$),
    ('block_account', 1, $$SELECT order_credit.block_account(%L, 'r')$$),
    ('unblock_account', 1, $$SELECT order_credit.unblock_account(%L)$$),
    ('credit_status', 1, $$SELECT order_credit.credit_status(%L)$$),
    ('reserve_credit', 1, $$SELECT order_credit.reserve_credit(%L, 1, 'err-k')$$),
    ('reserve_credit', 3, $$SELECT order_credit.reserve_credit('err-1', 1, %L)$$),
    ('try_reserve_credit', 1, $$SELECT order_credit.try_reserve_credit(%L, 1, 'err-k')$$),
    ('try_reserve_credit', 3, $$SELECT order_credit.try_reserve_credit('err-1', 1, %L)$$),
    ('capture_credit', 1, $$SELECT order_credit.capture_credit(%L)$$),
    ('release_credit', 1, $$SELECT order_credit.release_credit(%L)$$),
    ('record_payment', 1, $$SELECT order_credit.record_payment(%L, 1, 'err-k')$$),
    ('record_payment', 3, $$SELECT order_credit.record_payment('err-1', 1, %L)$$)) c(fn, arg, tpl)
  CROSS JOIN (VALUES (''), (repeat('k', 201))) k(v);
SELECT fn, arg, pg_temp.err(stmt) AS result FROM calls ORDER BY fn, arg, length(stmt);

-- The full report of each error, as a client sees it (SQLSTATE echoed after).
SELECT :acct FROM order_credit.create_account('err-2', 10);
SELECT :hold FROM order_credit.reserve_credit('err-2', 10, 'err-o2', '10 milliseconds');
SELECT pg_sleep(0.05);
-- OC001
SELECT * FROM order_credit.reserve_credit('err-1', 90.0001, 'err-o3');
\echo :SQLSTATE
-- OC002
SELECT status FROM order_credit.block_account('err-1', 'manual');
SELECT * FROM order_credit.reserve_credit('err-1', 1, 'err-o3');
\echo :SQLSTATE
SELECT status FROM order_credit.unblock_account('err-1');
-- OC003
SELECT * FROM order_credit.reserve_credit('err-nobody', 1, 'err-o3');
\echo :SQLSTATE
-- OC006
SELECT * FROM order_credit.capture_credit('err-nothing');
\echo :SQLSTATE
-- OC007
SELECT status FROM order_credit.release_credit('err-o1');
SELECT * FROM order_credit.capture_credit('err-o1');
\echo :SQLSTATE
-- OC008
SELECT * FROM order_credit.capture_credit('err-o2');
\echo :SQLSTATE
-- OC009 (reserve, capture, payment, create_account)
SELECT * FROM order_credit.reserve_credit('err-1', 11, 'err-o1');
\echo :SQLSTATE
SELECT status FROM order_credit.reserve_credit('err-1', 20, 'err-o4');
SELECT status FROM order_credit.capture_credit('err-o4', 5);
SELECT * FROM order_credit.capture_credit('err-o4', 6);
\echo :SQLSTATE
SELECT posted FROM order_credit.record_payment('err-1', 2, 'err-p1');
SELECT * FROM order_credit.record_payment('err-1', 3, 'err-p1');
\echo :SQLSTATE
SELECT * FROM order_credit.create_account('err-1', 101);
\echo :SQLSTATE
-- 22023
SELECT * FROM order_credit.record_payment('err-1', 4.0001, 'err-p2');
\echo :SQLSTATE
SELECT * FROM order_credit.reserve_credit('err-1', 1, 'err-o5', '-1 hour');
\echo :SQLSTATE
SELECT * FROM order_credit.reserve_credit('err-1', 'NaN', 'err-o5');
\echo :SQLSTATE
-- 22004
SELECT * FROM order_credit.reserve_credit('err-1', 1, NULL);
\echo :SQLSTATE
-- 42501
DELETE FROM order_credit.ledger;
\echo :SQLSTATE
-- PL/pgSQL can trap the codes by SQLSTATE.
DO $$
BEGIN
    PERFORM order_credit.reserve_credit('err-1', 1000, 'err-o6');
EXCEPTION WHEN SQLSTATE 'OC001' THEN
    RAISE NOTICE 'trapped OC001: %', SQLERRM;
END $$;

SELECT * FROM order_credit.verify();
