-- pgTAP: access tiers of the credit-line area, the append-only ledger, and
-- search_path hijacking. Roles are created inside the transaction and vanish
-- with its ROLLBACK.
BEGIN;
SELECT plan(59);

CREATE ROLE app_user;
CREATE ROLE admin_user;
CREATE ROLE nobody;
SELECT lives_ok($$SELECT order_credit.grant_app('app_user')$$, 'grant_app(app_user)');
SELECT lives_ok($$SELECT order_credit.grant_admin('admin_user')$$, 'grant_admin(admin_user)');
SELECT throws_ok($$SELECT order_credit.grant_app(NULL)$$, '22004', NULL, 'grant_app(NULL) raises 22004');

SELECT is((order_credit.create_account('tap-acct', 1000)).available, 1000::numeric,
          'superuser creates an account with limit 1000');

-- ------------------------------------------------------------ nobody
SET LOCAL ROLE nobody;
SELECT throws_ok($$SELECT order_credit.reserve_credit('tap-acct', 10, 'nobody-1')$$, '42501', NULL,
                 'nobody cannot call reserve_credit (no schema usage)');
SELECT throws_ok($$SELECT * FROM order_credit.accounts$$, '42501', NULL, 'nobody cannot read accounts');
RESET ROLE;
-- Even with USAGE on the schema, the functions and tables stay closed:
-- EXECUTE was revoked from PUBLIC.
GRANT USAGE ON SCHEMA order_credit TO nobody;
SET LOCAL ROLE nobody;
SELECT throws_ok($$SELECT order_credit.reserve_credit('tap-acct', 10, 'nobody-1')$$, '42501',
                 'permission denied for function reserve_credit',
                 'nobody with schema usage still cannot call reserve_credit');
SELECT throws_ok($$SELECT * FROM order_credit.try_reserve_credit('tap-acct', 10, 'nobody-1')$$, '42501',
                 NULL, 'nobody cannot call try_reserve_credit');
SELECT throws_ok($$SELECT order_credit.credit_status('tap-acct')$$, '42501', NULL,
                 'nobody cannot call credit_status');
SELECT throws_ok($$SELECT * FROM order_credit.accounts$$, '42501', NULL, 'nobody cannot read accounts');
SELECT throws_ok($$SELECT * FROM order_credit.ledger$$, '42501', NULL, 'nobody cannot read the ledger');
SELECT throws_ok($$SELECT * FROM order_credit.holds$$, '42501', NULL, 'nobody cannot read holds');
SELECT throws_ok($$SELECT * FROM order_credit.active_holds$$, '42501', NULL,
                 'nobody cannot read active_holds');
RESET ROLE;

-- ------------------------------------------------------------ app_user
SET LOCAL ROLE app_user;
SELECT results_eq(
    $$SELECT account, order_ref, amount, captured, status, available
        FROM order_credit.reserve_credit('tap-acct', 100, 'app-1')$$,
    $$VALUES ('tap-acct'::text, 'app-1'::text, 100::numeric, 0::numeric, 'pending'::text, 900::numeric)$$,
    'app_user places a hold with reserve_credit');
SELECT results_eq(
    $$SELECT ok, code, available FROM order_credit.try_reserve_credit('tap-acct', 5000, 'app-2')$$,
    $$VALUES (false, 'insufficient_credit'::text, 900::numeric)$$,
    'app_user calls try_reserve_credit');
SELECT results_eq(
    $$SELECT credit_limit, posted, pending, available, status
        FROM order_credit.credit_status('tap-acct')$$,
    $$VALUES (1000::numeric, 0::numeric, 100::numeric, 900::numeric, 'active'::text)$$,
    'app_user reads credit_status');
SELECT results_eq($$SELECT order_ref FROM order_credit.active_holds$$, $$VALUES ('app-1'::text)$$,
                  'app_user reads active_holds');
SELECT throws_ok($$SELECT order_credit.set_credit_limit('tap-acct', 1000000)$$, '42501', NULL,
                 'app_user cannot set_credit_limit');
SELECT throws_ok($$SELECT order_credit.block_account('tap-acct', 'x')$$, '42501', NULL,
                 'app_user cannot block_account');
SELECT throws_ok($$SELECT order_credit.unblock_account('tap-acct')$$, '42501', NULL,
                 'app_user cannot unblock_account');
SELECT throws_ok($$SELECT order_credit.create_account('app-acct', 10)$$, '42501', NULL,
                 'app_user cannot create_account');
SELECT throws_ok($$SELECT * FROM order_credit.verify()$$, '42501', NULL, 'app_user cannot call verify()');
SELECT throws_ok($$SELECT order_credit.grant_admin('app_user')$$, '42501', NULL,
                 'app_user cannot grant itself admin');
SELECT throws_ok($$SELECT * FROM order_credit.accounts$$, '42501', NULL, 'app_user cannot read accounts directly');
SELECT throws_ok(
    $$INSERT INTO order_credit.ledger (account, kind, amount, posted_after, pending_after, created_by)
      VALUES ('tap-acct', 'payment', 100, 0, 0, 'app_user')$$,
    '42501', NULL, 'app_user cannot INSERT into the ledger');
SELECT throws_ok($$UPDATE order_credit.ledger SET amount = 0$$, '42501', NULL,
                 'app_user cannot UPDATE the ledger');
SELECT throws_ok($$DELETE FROM order_credit.ledger$$, '42501', NULL, 'app_user cannot DELETE from the ledger');
SELECT throws_ok($$INSERT INTO order_credit.holds (order_ref, account, amount) VALUES ('x', 'tap-acct', 1)$$,
                 '42501', NULL, 'app_user cannot INSERT into holds');
SELECT throws_ok($$UPDATE order_credit.holds SET status = 'voided'$$, '42501', NULL,
                 'app_user cannot UPDATE holds');
SELECT throws_ok($$DELETE FROM order_credit.holds$$, '42501', NULL, 'app_user cannot DELETE from holds');
SELECT throws_ok($$INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES ('x', 1, 1)$$,
                 '42501', NULL, 'app_user cannot INSERT into accounts');
SELECT throws_ok($$UPDATE order_credit.accounts SET credit_limit = 1000000$$, '42501', NULL,
                 'app_user cannot UPDATE accounts');
SELECT throws_ok($$DELETE FROM order_credit.accounts$$, '42501', NULL, 'app_user cannot DELETE from accounts');
RESET ROLE;
SELECT is((SELECT created_by FROM order_credit.ledger WHERE order_ref = 'app-1' AND kind = 'hold'),
          'app_user', 'the ledger records app_user (not the definer) as created_by');

-- ------------------------------------------------------------ admin_user
SET LOCAL ROLE admin_user;
SELECT is((order_credit.set_credit_limit('tap-acct', 2000)).available, 1900::numeric,
          'admin_user sets the credit limit');
SELECT is((order_credit.block_account('tap-acct', 'audit')).status, 'blocked', 'admin_user blocks the account');
SELECT throws_ok($$SELECT order_credit.reserve_credit('tap-acct', 1, 'admin-1')$$, 'OC002', NULL,
                 'a blocked account refuses holds');
SELECT is((order_credit.unblock_account('tap-acct')).status, 'active', 'admin_user unblocks the account');
SELECT is((order_credit.create_account('admin-acct', 50)).credit_limit, 50::numeric,
          'admin_user creates an account');
SELECT is_empty($$SELECT * FROM order_credit.verify()$$, 'admin_user calls verify(): no violations');
SELECT is((SELECT count(*)::int FROM order_credit.ledger WHERE account = 'tap-acct'), 5,
          'admin_user reads the ledger (create, hold, limit, block, unblock)');
SELECT throws_ok($$INSERT INTO order_credit.accounts (account, credit_limit, initial_limit) VALUES ('y', 1, 1)$$,
                 '42501', NULL, 'admin_user cannot write accounts directly');
SELECT throws_ok($$UPDATE order_credit.ledger SET amount = 0$$, '42501', NULL,
                 'admin_user cannot UPDATE the ledger');
RESET ROLE;

-- ------------------------------------------------------------ append-only ledger
-- Even a superuser is stopped by the trigger (42501), until it disables it.
SELECT throws_ok($$UPDATE order_credit.ledger SET reason = 'edited'$$, '42501',
                 'UPDATE on order_credit.ledger is not allowed: the table is append-only',
                 'superuser cannot UPDATE the ledger');
SELECT throws_ok($$DELETE FROM order_credit.ledger$$, '42501',
                 'DELETE on order_credit.ledger is not allowed: the table is append-only',
                 'superuser cannot DELETE from the ledger');
SELECT throws_ok($$TRUNCATE order_credit.ledger$$, '42501',
                 'TRUNCATE on order_credit.ledger is not allowed: the table is append-only',
                 'superuser cannot TRUNCATE the ledger');
SELECT is((SELECT count(*)::int FROM order_credit.ledger WHERE reason = 'edited'), 0,
          'the ledger is unchanged');

-- ------------------------------------------------------------ search_path hijack
-- app_user builds look-alikes of what the functions use internally, in a
-- schema it owns, and calls reserve_credit with that schema first on its
-- search_path, even ahead of pg_catalog. The pinned search_path of every
-- function must make them irrelevant. Results are collected into temp tables
-- under the evil path and checked afterwards with a normal path (pgTAP's own
-- functions do not pin search_path).
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO app_user', current_database()); END $$;
SELECT order_credit.set_stock('tap-sku', 3);
SET LOCAL ROLE app_user;
CREATE SCHEMA evil;
CREATE FUNCTION evil.bad_add(numeric, numeric) RETURNS numeric LANGUAGE sql AS 'SELECT $1 OPERATOR(pg_catalog.-) $2';
CREATE FUNCTION evil.bad_sub(numeric, numeric) RETURNS numeric LANGUAGE sql AS 'SELECT $1 OPERATOR(pg_catalog.+) $2';
CREATE FUNCTION evil.bad_ge(numeric, numeric) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION evil.bad_tsle(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION evil.bad_texteq(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.+ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.bad_add);
CREATE OPERATOR evil.- (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.bad_sub);
CREATE OPERATOR evil.>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.bad_ge);
CREATE OPERATOR evil.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.bad_tsle);
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.bad_texteq);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $f$SELECT '2000-01-01'::timestamptz$f$;
CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz LANGUAGE sql
    AS $f$SELECT '2999-01-01'::timestamptz$f$;
CREATE FUNCTION evil.sum_zero(numeric, numeric) RETURNS numeric LANGUAGE sql AS 'SELECT 0::numeric';
CREATE AGGREGATE evil.sum(numeric) (SFUNC = evil.sum_zero, STYPE = numeric, INITCOND = '0');
CREATE TABLE evil.accounts (account text, credit_limit numeric, posted numeric, pending numeric,
                            status text);
INSERT INTO evil.accounts VALUES ('tap-acct', 1e12, 0, 0, 'active');
CREATE TABLE evil.holds (order_ref text, account text, amount numeric, status text);
CREATE TABLE evil.ledger (account text, kind text, amount numeric);
-- Look-alikes for the other areas: bigint comparisons that always pass
-- (an unpinned stock check would oversell) and tables named like ours.
CREATE FUNCTION evil.bad_ge8(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.>= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.bad_ge8);
CREATE TABLE evil.stock_buckets (sku text, bucket int, on_hand bigint, reserved bigint);
CREATE TABLE evil.reservations (order_ref text, sku text, quantity bigint, status text);
CREATE TABLE evil.processed_events (source text, event_id text);
CREATE TABLE evil.orders (order_ref text, status text);

SET LOCAL search_path = evil, pg_catalog, public;
-- Controls: on this path the look-alikes really win for unpinned SQL.
CREATE TEMP TABLE hijack_control AS
    SELECT 2::numeric + 1::numeric AS plus, statement_timestamp() AS stmt_ts,
           (SELECT credit_limit FROM accounts WHERE account = 'tap-acct') AS acc_limit;
CREATE TEMP TABLE hijack_reserve AS
    SELECT * FROM order_credit.reserve_credit('tap-acct', 300, 'evil-1', interval '1 hour');
CREATE TEMP TABLE hijack_try AS
    SELECT * FROM order_credit.try_reserve_credit('tap-acct', 1000000, 'evil-2');
CREATE TEMP TABLE hijack_status AS SELECT * FROM order_credit.credit_status('tap-acct');
-- The C functions of the other areas (each pins its search path in code).
CREATE TEMP TABLE hijack_stock AS
    SELECT * FROM order_credit.reserve_stock('tap-sku', 2, 'evil-s1', interval '1 hour');
CREATE TEMP TABLE hijack_stock_over AS
    SELECT * FROM order_credit.try_reserve_stock('tap-sku', 2, 'evil-s2', interval '1 hour');
CREATE TEMP TABLE hijack_once AS
    SELECT order_credit.process_once('tap', 'evil-e1') AS first;
INSERT INTO hijack_once SELECT order_credit.process_once('tap', 'evil-e1');
CREATE TEMP TABLE hijack_order AS
    SELECT * FROM order_credit.place_order('evil-o1', '[{"sku": "tap-sku", "quantity": 1, "unit_price": 5}]',
                                           NULL, interval '1 hour');
-- The contract's own search_path example too (evil ahead of public only).
SET LOCAL search_path = evil, public;
CREATE TEMP TABLE hijack_capture AS SELECT * FROM order_credit.capture_credit('evil-1', 120);
RESET search_path;
RESET ROLE;

SELECT results_eq($$SELECT plus, stmt_ts, acc_limit FROM hijack_control$$,
                  $$VALUES (1::numeric, '2999-01-01'::timestamptz, 1e12::numeric)$$,
                  'control: on the evil path, + and statement_timestamp() and accounts resolve to evil');
SELECT results_eq(
    $$SELECT account, order_ref, amount, captured, status, available,
             expires_at > statement_timestamp() + interval '59 minutes'
               AND expires_at <= statement_timestamp() + interval '1 hour'
        FROM hijack_reserve$$,
    $$VALUES ('tap-acct'::text, 'evil-1'::text, 300::numeric, 0::numeric, 'pending'::text,
              1600::numeric, true)$$,
    'under the evil search_path reserve_credit gives the right hold, available and expiry');
SELECT results_eq($$SELECT ok, code, available, credit_limit FROM hijack_try$$,
                  $$VALUES (false, 'insufficient_credit'::text, 1600::numeric, 2000::numeric)$$,
                  'under the evil search_path try_reserve_credit still refuses an amount over the limit');
SELECT results_eq($$SELECT credit_limit, posted, pending, available FROM hijack_status$$,
                  $$VALUES (2000::numeric, 0::numeric, 400::numeric, 1600::numeric)$$,
                  'under the evil search_path credit_status reads the real account');
SELECT results_eq($$SELECT status, amount, captured, available FROM hijack_capture$$,
                  $$VALUES ('captured'::text, 300::numeric, 120::numeric, 1780::numeric)$$,
                  'under search_path evil, public capture_credit captures part and releases the rest');
SELECT results_eq(
    $$SELECT credit_limit, posted, pending, available FROM order_credit.credit_status('tap-acct')$$,
    $$VALUES (2000::numeric, 120::numeric, 100::numeric, 1780::numeric)$$,
    'balances afterwards: posted 120, pending 100 (app-1)');
SELECT results_eq($$SELECT quantity, status, available FROM hijack_stock$$,
                  $$VALUES (2::bigint, 'active'::text, 1::bigint)$$,
                  'under the evil search_path reserve_stock reserves 2 of 3 on the real item');
SELECT results_eq($$SELECT ok, code, available FROM hijack_stock_over$$,
                  $$VALUES (false, 'insufficient_stock'::text, 1::bigint)$$,
                  'under the evil search_path try_reserve_stock still refuses 2 when 1 is left');
SELECT results_eq($$SELECT first FROM hijack_once$$, $$VALUES (true), (false)$$,
                  'under the evil search_path process_once answers true, then false');
SELECT results_eq($$SELECT status, amount FROM hijack_order$$, $$VALUES ('pending'::text, 5::numeric)$$,
                  'under the evil search_path place_order takes the last unit');
SELECT is_empty($$SELECT * FROM order_credit.verify()$$, 'verify() finds no violation after the hijack attempts');
SELECT is((SELECT count(*)::int FROM evil.ledger) + (SELECT count(*)::int FROM evil.holds)
           + (SELECT count(*)::int FROM evil.stock_buckets) + (SELECT count(*)::int FROM evil.reservations)
           + (SELECT count(*)::int FROM evil.processed_events) + (SELECT count(*)::int FROM evil.orders), 0,
          'nothing was written to the look-alike tables');

SELECT * FROM finish();
ROLLBACK;
