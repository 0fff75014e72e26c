-- reserve_credit / try_reserve_credit: limit boundaries, amount and key
-- validation, idempotent replay, expiry arguments, default_ttl, blocked accounts.
\set VERBOSITY default
\i sql/include/credit_helpers.sql

SELECT :acct FROM order_credit.create_account('res-1', 100);

-- Exactly reaching the limit succeeds and leaves 0 available; one unit more fails.
SELECT :hold FROM order_credit.reserve_credit('res-1', 60, 'res-o1');
SELECT :hold FROM order_credit.reserve_credit('res-1', 40, 'res-o2');
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-1', 0.0001, 'res-o3')$$);
SELECT :acct FROM order_credit.credit_status('res-1');
-- A refused reservation leaves no trace.
SELECT count(*) AS holds_for_o3 FROM order_credit.holds WHERE order_ref = 'res-o3';
SELECT count(*) AS ledger_for_o3 FROM order_credit.ledger WHERE order_ref = 'res-o3';
-- After a release, the freed credit can be used to the last unit.
SELECT :hold FROM order_credit.release_credit('res-o2');
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-1', 40.0001, 'res-o3')$$);
SELECT :hold FROM order_credit.reserve_credit('res-1', 39.9999, 'res-o3');
SELECT :hold FROM order_credit.reserve_credit('res-1', 0.0001, 'res-o4');

-- Amounts: zero, negative, NaN, +/-Infinity, 5 decimals, too many digits, NULL.
SELECT :acct FROM order_credit.create_account('res-2', 1000000);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 0, 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', -0, 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', -5, 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 'NaN', 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 'Infinity', 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', '-Infinity', 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 0.00001, 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 1.00001, 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 1e25, 'res-bad')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', NULL, 'res-bad')$$);
SELECT count(*) AS bad_holds FROM order_credit.holds WHERE order_ref = 'res-bad';
-- Trailing zeros beyond 4 decimals are not extra precision: 1.50000 = 1.5.
SELECT :hold FROM order_credit.reserve_credit('res-2', 1.50000, 'res-5dec');
SELECT :hold FROM order_credit.reserve_credit('res-2', 1.5, 'res-5dec');
SELECT :hold FROM order_credit.reserve_credit('res-2', 0.0001, 'res-min');

-- Keys: NULL, empty and 201 characters refused; 200 accepted.
SELECT pg_temp.err($$SELECT order_credit.reserve_credit(NULL, 1, 'res-k')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 1, NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('', 1, 'res-k')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 1, '')$$);
SELECT pg_temp.err(format('SELECT order_credit.reserve_credit(%L, 1, %L)', 'res-2', 'r' || repeat('x', 200)));
SELECT pg_temp.err(format('SELECT order_credit.reserve_credit(%L, 1, %L)', repeat('x', 201), 'res-k'));
SELECT char_length(order_ref), amount, status
  FROM order_credit.reserve_credit('res-2', 1, 'r' || repeat('x', 199));
-- Unknown account.
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-nobody', 1, 'res-k')$$);

-- Replay: same arguments return the same hold and change nothing.
SELECT hold_id AS first_id FROM order_credit.reserve_credit('res-2', 10, 'res-rep', '1 hour') \gset
SELECT hold_id = :first_id AS same_hold, :hold
  FROM order_credit.reserve_credit('res-2', 10, 'res-rep', '1 hour');
SELECT hold_id = :first_id AS same_hold, :hold
  FROM order_credit.reserve_credit('res-2', 10.0000, 'res-rep', '60 minutes');
SELECT count(*) AS hold_entries FROM order_credit.ledger WHERE order_ref = 'res-rep';
-- Same order_ref with another amount, account or expires_in: OC009.
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 11, 'res-rep', '1 hour')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-1', 10, 'res-rep', '1 hour')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 10, 'res-rep', '2 hours')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 10, 'res-rep', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 10, 'res-rep')$$);
-- A replay of a hold that has since been captured returns it as it is now.
SELECT :hold FROM order_credit.capture_credit('res-rep');
SELECT hold_id = :first_id AS same_hold, :hold
  FROM order_credit.reserve_credit('res-2', 10, 'res-rep', '1 hour');
-- The replay check comes before the balance check: a replay on a full
-- account still succeeds.
SELECT :hold FROM order_credit.reserve_credit('res-1', 60, 'res-o1');

-- expires_in: NULL never expires; zero and negative are refused.
SELECT :hold, expires_at IS NULL AS never_expires
  FROM order_credit.reserve_credit('res-2', 5, 'res-forever', NULL);
SELECT expires_at IS NULL AS never_expires, expires_in IS NULL AS no_ttl
  FROM order_credit.holds WHERE order_ref = 'res-forever';
SELECT order_ref, expires_at IS NULL AS never_expires
  FROM order_credit.active_holds WHERE order_ref = 'res-forever';
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 5, 'res-ttl', '0')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 5, 'res-ttl', '0 seconds')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 5, 'res-ttl', '-1 second')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 5, 'res-ttl', '1 day -25 hours')$$);
-- An explicit interval sets expires_at = statement time + interval.
SELECT expires_at = statement_timestamp() + interval '2 hours' AS expires_in_2h
  FROM order_credit.reserve_credit('res-2', 5, 'res-ttl', '2 hours');

-- order_credit.default_ttl (15 minutes unless set) is the default expires_in.
SHOW order_credit.default_ttl;
SELECT order_credit.default_ttl();
SELECT expires_at = statement_timestamp() + interval '15 minutes' AS default_15min
  FROM order_credit.reserve_credit('res-2', 1, 'res-ttl-default');
SET order_credit.default_ttl = '90s';
SELECT order_credit.default_ttl();
SELECT expires_at = statement_timestamp() + interval '90 seconds' AS default_90s
  FROM order_credit.reserve_credit('res-2', 1, 'res-ttl-90s');
SET order_credit.default_ttl = '2h';
SELECT expires_at = statement_timestamp() + interval '2 hours' AS default_2h
  FROM order_credit.reserve_credit('res-2', 1, 'res-ttl-2h');
-- The replay of a defaulted call compares against the current default.
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-2', 1, 'res-ttl-90s')$$);
SELECT pg_temp.err($$SET order_credit.default_ttl = 0$$);
RESET order_credit.default_ttl;
SELECT order_credit.default_ttl();

-- Blocked account: OC002 on reserve (checked before the balance).
SELECT :acct FROM order_credit.block_account('res-1', 'audit');
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-1', 1, 'res-blocked')$$);
SELECT pg_temp.err($$SELECT order_credit.reserve_credit('res-1', 1000, 'res-blocked')$$);
SELECT :acct FROM order_credit.unblock_account('res-1');

-- try_reserve_credit: every business outcome is ok = false with its code name.
SELECT :acct FROM order_credit.create_account('res-try', 50);
SELECT ok, code, message, hold_id IS NOT NULL AS has_hold, available, credit_limit
  FROM order_credit.try_reserve_credit('res-try', 30, 'res-try-o1');
-- replay: ok, same hold
SELECT ok, code, hold_id = (SELECT hold_id FROM order_credit.holds WHERE order_ref = 'res-try-o1') AS same_hold,
       available, credit_limit
  FROM order_credit.try_reserve_credit('res-try', 30, 'res-try-o1');
-- insufficient_credit (OC001)
SELECT ok, code, message, hold_id, available, credit_limit
  FROM order_credit.try_reserve_credit('res-try', 20.0001, 'res-try-o2');
-- exactly the rest still fits
SELECT ok, code, hold_id IS NOT NULL AS has_hold, available, credit_limit
  FROM order_credit.try_reserve_credit('res-try', 20, 'res-try-o2');
-- idempotency_mismatch (OC009)
SELECT ok, code, message, hold_id, available, credit_limit
  FROM order_credit.try_reserve_credit('res-try', 25, 'res-try-o1');
-- account_not_found (OC003)
SELECT ok, code, message, hold_id, available, credit_limit
  FROM order_credit.try_reserve_credit('res-nobody', 1, 'res-try-o3');
-- account_blocked (OC002)
SELECT status FROM order_credit.block_account('res-try', 'try test');
SELECT ok, code, message, hold_id, available, credit_limit
  FROM order_credit.try_reserve_credit('res-try', 1, 'res-try-o3');
SELECT status FROM order_credit.unblock_account('res-try');
-- Nothing was left behind by the refused attempts.
SELECT order_ref, amount FROM order_credit.holds WHERE account = 'res-try' ORDER BY order_ref;
SELECT kind, amount, order_ref FROM order_credit.ledger WHERE account = 'res-try' ORDER BY entry_id;
-- Invalid input still raises 22023 / 22004.
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', 0, 'res-try-o4')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', 'NaN', 'res-try-o4')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', 0.00001, 'res-try-o4')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', 1, '')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', 1, 'res-try-o4', '-1 minute')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit(NULL, 1, 'res-try-o4')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', NULL, 'res-try-o4')$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.try_reserve_credit('res-try', 1, NULL)$$);
-- try_ inside a transaction that goes on: the failed attempt does not
-- abort the transaction, and its successful sibling commits.
BEGIN;
SELECT ok, code FROM order_credit.try_reserve_credit('res-try', 1, 'res-try-o5');
SELECT :hold FROM order_credit.release_credit('res-try-o2');
SELECT ok, code, available FROM order_credit.try_reserve_credit('res-try', 1, 'res-try-o5');
COMMIT;
SELECT :acct FROM order_credit.credit_status('res-try');

-- A reservation rolled back with its transaction leaves nothing.
BEGIN;
SELECT :hold FROM order_credit.reserve_credit('res-2', 7, 'res-rollback');
ROLLBACK;
SELECT count(*) AS rolled_back FROM order_credit.holds WHERE order_ref = 'res-rollback';
SELECT :hold FROM order_credit.reserve_credit('res-2', 8, 'res-rollback');

SELECT * FROM order_credit.verify();
