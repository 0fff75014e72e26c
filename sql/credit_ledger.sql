-- The ledger: append-only, created_by under SET ROLE, access tiers, and
-- verify() detecting a ledger that does not add up.
\set VERBOSITY default
\i sql/include/credit_helpers.sql

SELECT :acct FROM order_credit.create_account('led-1', 500);
SELECT :hold FROM order_credit.reserve_credit('led-1', 200, 'led-o1');
SELECT :hold FROM order_credit.capture_credit('led-o1', 150);
SELECT :acct FROM order_credit.record_payment('led-1', 50, 'led-p1');
SELECT :hold FROM order_credit.reserve_credit('led-1', 30, 'led-o2');
SELECT :hold FROM order_credit.release_credit('led-o2', 'changed mind');
SELECT :hold FROM order_credit.reserve_credit('led-1', 40, 'led-o3');
SELECT :hold FROM order_credit.capture_credit('led-o3');
SELECT :hold FROM order_credit.release_credit('led-o3', 'refund');
SELECT :acct FROM order_credit.set_credit_limit('led-1', 400);
SELECT :acct FROM order_credit.block_account('led-1', 'review');
SELECT :acct FROM order_credit.unblock_account('led-1');
-- Every kind, in order, each with the balances right after it.
SELECT kind, amount, order_ref, ref, reason, posted_after, pending_after,
       created_by = current_user AS by_me
  FROM order_credit.ledger WHERE account = 'led-1' ORDER BY entry_id;

-- Append-only for everyone, superusers included (42501), with a hint.
SELECT pg_temp.err($$UPDATE order_credit.ledger SET amount = 0 WHERE account = 'led-1'$$);
SELECT pg_temp.err($$DELETE FROM order_credit.ledger WHERE account = 'led-1'$$);
SELECT pg_temp.err($$TRUNCATE order_credit.ledger$$);
UPDATE order_credit.ledger SET reason = 'x' WHERE account = 'led-1';
DELETE FROM order_credit.ledger WHERE account = 'led-1';
TRUNCATE order_credit.ledger;
SELECT count(*) AS entries_kept FROM order_credit.ledger WHERE account = 'led-1';

-- verify() finds a ledger that no longer adds up. A superuser repair session
-- (trigger disabled) tampers inside a transaction that is rolled back.
BEGIN;
ALTER TABLE order_credit.ledger DISABLE TRIGGER ledger_append_only;
UPDATE order_credit.ledger SET amount = amount + 1 WHERE account = 'led-1' AND kind = 'capture';
SELECT check_name, subject FROM order_credit.verify();
ROLLBACK;
BEGIN;
UPDATE order_credit.accounts SET pending = pending + 5 WHERE account = 'led-1';
SELECT check_name, subject FROM order_credit.verify();
ROLLBACK;
BEGIN;
UPDATE order_credit.holds SET status = 'captured' WHERE order_ref = 'led-o2';
SELECT check_name, subject FROM order_credit.verify();
ROLLBACK;
SELECT count(*) AS violations FROM order_credit.verify();

-- created_by is the role the caller acts as (SET ROLE), not the owner of the
-- SECURITY DEFINER functions.
SET client_min_messages = warning;
DROP ROLE IF EXISTS oc_regress_clerk;
DROP ROLE IF EXISTS oc_regress_admin;
RESET client_min_messages;
CREATE ROLE oc_regress_clerk;
CREATE ROLE oc_regress_admin;
SELECT order_credit.grant_app('oc_regress_clerk');
SELECT order_credit.grant_admin('oc_regress_admin');
SET ROLE oc_regress_admin;
SELECT :acct FROM order_credit.create_account('led-2', 100);
SELECT :acct FROM order_credit.set_credit_limit('led-2', 120);
RESET ROLE;
SET ROLE oc_regress_clerk;
SELECT :hold FROM order_credit.reserve_credit('led-2', 70, 'led-o5');
SELECT ok, code FROM order_credit.try_reserve_credit('led-2', 20, 'led-o6');
SELECT :hold FROM order_credit.capture_credit('led-o5');
SELECT :hold FROM order_credit.release_credit('led-o6');
SELECT :acct FROM order_credit.record_payment('led-2', 70, 'led-p2');
SELECT :acct FROM order_credit.credit_status('led-2');
SELECT order_ref FROM order_credit.active_holds WHERE account = 'led-2';
-- The app tier cannot change limits, block, verify, or touch tables.
SELECT pg_temp.err($$SELECT order_credit.set_credit_limit('led-2', 1000)$$);
SELECT pg_temp.err($$SELECT order_credit.block_account('led-2', 'x')$$);
SELECT pg_temp.err($$SELECT order_credit.create_account('led-3', 1)$$);
SELECT pg_temp.err($$SELECT * FROM order_credit.verify()$$);
SELECT pg_temp.err($$SELECT count(*) FROM order_credit.ledger$$);
SELECT pg_temp.err($$INSERT INTO order_credit.ledger (account, kind, posted_after, pending_after, created_by) VALUES ('led-2', 'payment', 0, 0, 'me')$$);
SELECT pg_temp.err($$UPDATE order_credit.accounts SET credit_limit = 1e6 WHERE account = 'led-2'$$);
RESET ROLE;
SET ROLE oc_regress_admin;
SELECT :acct FROM order_credit.block_account('led-2', 'admin says');
SELECT :acct FROM order_credit.unblock_account('led-2');
SELECT count(*) AS violations FROM order_credit.verify();
-- The admin tier reads every table but cannot write the ledger either.
SELECT count(*) > 0 AS can_read FROM order_credit.ledger WHERE account = 'led-2';
SELECT pg_temp.err($$UPDATE order_credit.ledger SET amount = 0 WHERE account = 'led-2'$$);
SELECT pg_temp.err($$DELETE FROM order_credit.ledger WHERE account = 'led-2'$$);
SELECT pg_temp.err($$TRUNCATE order_credit.ledger$$);
RESET ROLE;
SELECT kind, amount, order_ref, ref, created_by
  FROM order_credit.ledger WHERE account = 'led-2' ORDER BY entry_id;

SELECT order_credit.revoke_access('oc_regress_clerk');
SELECT order_credit.revoke_access('oc_regress_admin');
DROP ROLE oc_regress_clerk;
DROP ROLE oc_regress_admin;

SELECT * FROM order_credit.verify();
