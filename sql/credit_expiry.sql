-- Expiry: a hold past expires_at never blocks anyone and cannot be captured,
-- whether or not anything has marked it expired yet.
\set VERBOSITY default
\i sql/include/credit_helpers.sql

SELECT :acct FROM order_credit.create_account('exp-1', 100);
-- Holds that are checked while still live get 1 second (slack for a loaded
-- machine); the others 10 milliseconds.
SELECT :hold FROM order_credit.reserve_credit('exp-1', 90, 'exp-o1', '1 second');
SELECT order_ref FROM order_credit.active_holds WHERE account = 'exp-1';
SELECT pg_sleep(1.1);
-- Nothing has swept it: storage still says pending ...
SELECT status FROM order_credit.holds WHERE order_ref = 'exp-o1';
-- ... but every reader sees it expired.
SELECT :acct FROM order_credit.credit_status('exp-1');
SELECT count(*) AS active FROM order_credit.active_holds WHERE account = 'exp-1';
SELECT order_ref, pending, available FROM order_credit.account_balances a
  CROSS JOIN (VALUES ('exp-o1')) v(order_ref) WHERE a.account = 'exp-1';
-- Capture after expiry: OC008 (with or without an amount).
SELECT pg_temp.err($$SELECT order_credit.capture_credit('exp-o1')$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('exp-o1', 10)$$);
-- The whole limit is available again: the reservation expires the due hold
-- first (ledger: expire, then hold).
SELECT :hold FROM order_credit.reserve_credit('exp-1', 100, 'exp-o2');
SELECT status FROM order_credit.holds WHERE order_ref = 'exp-o1';
SELECT kind, amount, order_ref, reason, posted_after, pending_after FROM order_credit.ledger
 WHERE account = 'exp-1' ORDER BY entry_id;
-- Still OC008 once marked expired; a replay of the reserve returns it as it is.
SELECT pg_temp.err($$SELECT order_credit.capture_credit('exp-o1')$$);
SELECT :hold FROM order_credit.reserve_credit('exp-1', 90, 'exp-o1', '1 second');
-- Releasing an expired hold changes nothing.
SELECT :hold FROM order_credit.release_credit('exp-o1');
SELECT count(*) AS expire_entries FROM order_credit.ledger WHERE order_ref = 'exp-o1' AND kind = 'expire';

-- Release of a hold that expired but was not swept: marked expired (not voided),
-- with an expire entry; a second release is a replay.
SELECT :acct FROM order_credit.create_account('exp-2', 100);
SELECT :hold FROM order_credit.reserve_credit('exp-2', 30, 'exp-o3', '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT :hold FROM order_credit.release_credit('exp-o3', 'too late');
SELECT :hold FROM order_credit.release_credit('exp-o3');
SELECT kind, amount, reason FROM order_credit.ledger WHERE order_ref = 'exp-o3' ORDER BY entry_id;
SELECT pg_temp.err($$SELECT order_credit.capture_credit('exp-o3')$$);

-- Several holds due at once, among live and never-expiring ones: one expire
-- entry each, the ledger chain stays consistent (verify() below).
SELECT :acct FROM order_credit.create_account('exp-3', 100);
SELECT :hold FROM order_credit.reserve_credit('exp-3', 10, 'exp-m1', '1 second');
SELECT :hold FROM order_credit.reserve_credit('exp-3', 20, 'exp-m2', '1 second');
SELECT :hold FROM order_credit.reserve_credit('exp-3', 30, 'exp-m3', '1 second');
SELECT :hold, expires_at IS NULL AS never FROM order_credit.reserve_credit('exp-3', 15, 'exp-m4', NULL);
SELECT :hold FROM order_credit.reserve_credit('exp-3', 25, 'exp-m5', '1 hour');
-- full now
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('exp-3', 1, 'exp-m6')$$);
SELECT pg_sleep(1.1);
SELECT :acct FROM order_credit.credit_status('exp-3');
SELECT order_ref, amount, expires_at IS NULL AS never FROM order_credit.active_holds
 WHERE account = 'exp-3' ORDER BY order_ref;
SELECT ok, code, available FROM order_credit.try_reserve_credit('exp-3', 60, 'exp-m6');
SELECT ok, code, available FROM order_credit.try_reserve_credit('exp-3', 0.0001, 'exp-m7');
SELECT order_ref, status FROM order_credit.holds WHERE account = 'exp-3' ORDER BY order_ref;
SELECT kind, amount, order_ref, pending_after FROM order_credit.ledger
 WHERE account = 'exp-3' ORDER BY entry_id;

-- A never-expiring hold is still capturable, and a live one too.
SELECT :hold FROM order_credit.capture_credit('exp-m4');
SELECT :hold FROM order_credit.capture_credit('exp-m5', 5);

-- A failed try_ reservation rolls back the expiry it did on the way, but
-- readers still see exact balances.
SELECT :acct FROM order_credit.create_account('exp-4', 10);
SELECT :hold FROM order_credit.reserve_credit('exp-4', 10, 'exp-t1', '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT ok, code, available FROM order_credit.try_reserve_credit('exp-4', 10.0001, 'exp-t2');
SELECT status FROM order_credit.holds WHERE order_ref = 'exp-t1';
SELECT :acct FROM order_credit.credit_status('exp-4');

-- Expiry is judged at each statement: inside one transaction, a hold that
-- expires between two statements is live for the first and expired for the second.
SELECT :acct FROM order_credit.create_account('exp-5', 10);
BEGIN;
SELECT :hold FROM order_credit.reserve_credit('exp-5', 10, 'exp-x1', '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT pending, available FROM order_credit.credit_status('exp-5');
SELECT pg_temp.err($$SELECT order_credit.capture_credit('exp-x1')$$);
SELECT :hold FROM order_credit.reserve_credit('exp-5', 10, 'exp-x2');
COMMIT;
SELECT order_ref, status FROM order_credit.holds WHERE account = 'exp-5' ORDER BY order_ref;

SELECT * FROM order_credit.verify();
