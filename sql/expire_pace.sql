-- expire_due paces a session's calls (order_credit.expire_max_rate): a call
-- in a new transaction first waits until the rows of the earlier calls fit
-- the rate (at most 1 s); calls in one transaction never wait, nor any call
-- with the rate at 0. DEBUG2 says when a call pauses.
SELECT sku, on_hand FROM order_credit.set_stock('pace', 100);
CREATE FUNCTION pg_temp.make_due(tag text, n int) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(order_credit.reserve_stock('pace', 1, tag || i, '1 millisecond'))
      FROM generate_series(1, n) i;
$$;
SHOW order_credit.expire_max_rate;
SET order_credit.expire_max_rate = 2;  -- 2 rows a second
SELECT pg_temp.make_due('a', 3) AS due;
SELECT pg_sleep(0.02);
SET client_min_messages = debug2;
-- the session's first call: nothing to wait for
SELECT order_credit.expire_due(100) AS expired;
-- the next call (its own transaction) waits first: 3 rows at 2 a second,
-- capped at 1 s; it finds nothing due
SELECT order_credit.expire_due(100) AS expired;
-- nothing expired since: no wait
SELECT order_credit.expire_due(100) AS expired;
RESET client_min_messages;
-- within one transaction a call never waits (it would sleep on the locks
-- the earlier one took); the debt waits for the next transaction
SELECT pg_temp.make_due('b', 2) AS due;
SELECT pg_sleep(0.02);
SET client_min_messages = debug2;
BEGIN;
SELECT order_credit.expire_due(1) AS expired;
SELECT order_credit.expire_due(1) AS expired;
SELECT order_credit.expire_due(1) AS expired;
COMMIT;
SELECT order_credit.expire_due(1) AS expired;
RESET client_min_messages;
-- 0: unpaced
SET order_credit.expire_max_rate = 0;
SELECT pg_temp.make_due('c', 3) AS due;
SELECT pg_sleep(0.02);
SET client_min_messages = debug2;
SELECT order_credit.expire_due(100) AS expired;
SELECT order_credit.expire_due(100) AS expired;
RESET client_min_messages;
SET order_credit.expire_max_rate = -1;
RESET order_credit.expire_max_rate;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('pace');
SELECT * FROM order_credit.verify();
