-- capture_credit / release_credit: full and partial capture, replays,
-- mismatches, voids, reversals, blocked accounts.
\set VERBOSITY default
\i sql/include/credit_helpers.sql

SELECT :acct FROM order_credit.create_account('cap-1', 1000);

-- Full capture: pending -> posted, one capture entry.
SELECT :hold FROM order_credit.reserve_credit('cap-1', 100, 'cap-o1');
SELECT :hold FROM order_credit.capture_credit('cap-o1');
SELECT :acct FROM order_credit.credit_status('cap-1');
-- Capture twice: replay (with no amount, or the captured amount).
SELECT :hold FROM order_credit.capture_credit('cap-o1');
SELECT :hold FROM order_credit.capture_credit('cap-o1', 100);
SELECT :hold FROM order_credit.capture_credit('cap-o1', 100.0000);
-- ... and with another amount: OC009.
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o1', 50)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o1', 150)$$);
SELECT kind, amount, posted_after, pending_after FROM order_credit.ledger
 WHERE order_ref = 'cap-o1' ORDER BY entry_id;

-- Capture with the exact hold amount: no remainder, no void entry.
SELECT :hold FROM order_credit.reserve_credit('cap-1', 40, 'cap-o2');
SELECT :hold FROM order_credit.capture_credit('cap-o2', 40);
SELECT kind, amount, reason FROM order_credit.ledger WHERE order_ref = 'cap-o2' ORDER BY entry_id;

-- Partial capture: the rest is released; two ledger rows (capture, void).
SELECT :hold FROM order_credit.reserve_credit('cap-1', 200, 'cap-o3');
SELECT :acct FROM order_credit.credit_status('cap-1');
SELECT :hold FROM order_credit.capture_credit('cap-o3', 150.5);
SELECT :acct FROM order_credit.credit_status('cap-1');
SELECT kind, amount, reason, posted_after, pending_after FROM order_credit.ledger
 WHERE order_ref = 'cap-o3' ORDER BY entry_id;
-- Replay of the partial capture: no amount or the captured amount.
SELECT :hold FROM order_credit.capture_credit('cap-o3');
SELECT :hold FROM order_credit.capture_credit('cap-o3', 150.5);
-- The original hold amount is now a different amount: OC009.
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o3', 200)$$);
-- Capturing more than held is refused (22023), and so are bad amounts.
SELECT :hold FROM order_credit.reserve_credit('cap-1', 10, 'cap-o4');
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', 10.0001)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', 0)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', -1)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', 'NaN')$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', 'Infinity')$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', '-Infinity')$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o4', 0.00001)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit(NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit(NULL, 1)$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('')$$);
SELECT pg_temp.err(format('SELECT order_credit.capture_credit(%L)', repeat('o', 201)));
-- The hold is untouched by the refused captures; 9.50000 is 9.5 (trailing
-- zeros are not extra decimals): a partial capture of 9.5.
SELECT :hold FROM order_credit.capture_credit('cap-o4', 9.50000);
-- Unknown order_ref: OC006.
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-nothing')$$);
SELECT pg_temp.err($$SELECT order_credit.release_credit('cap-nothing')$$);

-- Release a pending hold: voided; again: replay (nothing changes).
SELECT :hold FROM order_credit.reserve_credit('cap-1', 70, 'cap-o5');
SELECT :hold FROM order_credit.release_credit('cap-o5', 'customer cancelled');
SELECT :hold FROM order_credit.release_credit('cap-o5', 'customer cancelled');
SELECT :hold FROM order_credit.release_credit('cap-o5');
SELECT kind, amount, reason FROM order_credit.ledger WHERE order_ref = 'cap-o5' ORDER BY entry_id;
-- Capture after void: OC007.
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o5')$$);
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o5', 70)$$);
-- The reason is kept on the hold.
SELECT status, reason FROM order_credit.holds WHERE order_ref = 'cap-o5';

-- Release a captured hold: reversed (the debt is cancelled); again: replay.
SELECT :acct FROM order_credit.credit_status('cap-1');
SELECT :hold FROM order_credit.release_credit('cap-o2', 'goods returned');
SELECT :acct FROM order_credit.credit_status('cap-1');
SELECT :hold FROM order_credit.release_credit('cap-o2', 'goods returned');
SELECT kind, amount, reason, posted_after, pending_after FROM order_credit.ledger
 WHERE order_ref = 'cap-o2' ORDER BY entry_id;
-- A reversed hold cannot be captured again (OC007).
SELECT pg_temp.err($$SELECT order_credit.capture_credit('cap-o2')$$);
-- Reversing a partial capture cancels only what was captured.
SELECT :hold FROM order_credit.release_credit('cap-o3');
SELECT kind, amount FROM order_credit.ledger WHERE order_ref = 'cap-o3' ORDER BY entry_id;
SELECT :acct FROM order_credit.credit_status('cap-1');

-- A capture that has been paid down below its amount can no longer be
-- reversed (OC007); the payment would have to be refunded instead.
SELECT :acct FROM order_credit.create_account('cap-2', 100);
SELECT :hold FROM order_credit.reserve_credit('cap-2', 60, 'cap-o6');
SELECT :hold FROM order_credit.capture_credit('cap-o6');
SELECT :acct FROM order_credit.record_payment('cap-2', 30, 'cap-p1');
SELECT pg_temp.err($$SELECT order_credit.release_credit('cap-o6')$$);
SELECT :acct FROM order_credit.credit_status('cap-2');

-- Reason validation on release.
SELECT :hold FROM order_credit.reserve_credit('cap-2', 1, 'cap-o7');
SELECT pg_temp.err(format('SELECT order_credit.release_credit(%L, %L)', 'cap-o7', repeat('r', 1001)));
SELECT :hold FROM order_credit.release_credit('cap-o7', repeat('r', 1000));
SELECT pg_temp.err($$SELECT order_credit.release_credit(NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.release_credit(NULL, 'why')$$);
SELECT pg_temp.err($$SELECT order_credit.release_credit('')$$);

-- Blocked account: new holds fail (OC002), but capture, release and
-- payments on existing holds still work.
SELECT :acct FROM order_credit.create_account('cap-3', 500);
SELECT :hold FROM order_credit.reserve_credit('cap-3', 100, 'cap-b1');
SELECT :hold FROM order_credit.reserve_credit('cap-3', 100, 'cap-b2');
SELECT :hold FROM order_credit.reserve_credit('cap-3', 100, 'cap-b3');
SELECT :acct FROM order_credit.block_account('cap-3', 'fraud check');
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('cap-3', 1, 'cap-b4')$$);
SELECT ok, code FROM order_credit.try_reserve_credit('cap-3', 1, 'cap-b4');
-- A replay of an existing hold on a blocked account is still a replay.
SELECT :hold FROM order_credit.reserve_credit('cap-3', 100, 'cap-b1');
SELECT :hold FROM order_credit.capture_credit('cap-b1');
SELECT :hold FROM order_credit.capture_credit('cap-b2', 25);
SELECT :hold FROM order_credit.release_credit('cap-b3');
SELECT :hold FROM order_credit.release_credit('cap-b1');
SELECT :acct FROM order_credit.record_payment('cap-3', 25, 'cap-b-p1');
SELECT :acct FROM order_credit.credit_status('cap-3');

-- Rolled-back capture and release leave the hold pending.
SELECT :hold FROM order_credit.reserve_credit('cap-1', 5, 'cap-rb');
BEGIN;
SELECT :hold FROM order_credit.capture_credit('cap-rb');
ROLLBACK;
BEGIN;
SELECT :hold FROM order_credit.release_credit('cap-rb');
ROLLBACK;
SELECT status, captured FROM order_credit.holds WHERE order_ref = 'cap-rb';
SELECT order_ref, amount FROM order_credit.active_holds WHERE account = 'cap-1' ORDER BY order_ref;

SELECT * FROM order_credit.verify();
