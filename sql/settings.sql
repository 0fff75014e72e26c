-- The settings a call changes while it runs (src/pg/settings.hpp):
-- lock_timeout, enable_seqscan / enable_hashjoin / enable_mergejoin and
-- search_path go through the GUC machinery. After every call, one that
-- succeeds, one that raises, one inside a savepoint rolled back, the caller
-- has exactly the values it had; a user trigger fired inside a call reads
-- with current_setting() the values in force.
\i sql/include/err.sql
\set VERBOSITY terse
SET order_credit.default_ttl = '1h';
SELECT count(*) AS accounts FROM order_credit.create_account('set-acct', 1000, 'EUR');
SELECT count(*) AS items FROM order_credit.set_stock('set-sku', 1000);

-- The five settings, as current_setting() reads them.
CREATE FUNCTION pg_temp.settings() RETURNS text LANGUAGE sql AS $$
    SELECT format('lock_timeout=%s enable_seqscan=%s enable_hashjoin=%s enable_mergejoin=%s search_path=%s',
                  current_setting('lock_timeout'), current_setting('enable_seqscan'),
                  current_setting('enable_hashjoin'), current_setting('enable_mergejoin'),
                  current_setting('search_path'))
$$;
-- 'same' when they are `caller`'s, else what they are.
CREATE FUNCTION pg_temp.same(caller text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN pg_temp.settings() = caller THEN 'same' ELSE pg_temp.settings() END
$$;
-- Runs a call that succeeds, with no subtransaction around it (whose end
-- would put back what the call left behind), and compares.
CREATE FUNCTION pg_temp.ok(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.settings();
BEGIN
    EXECUTE replace(stmt, '%m', current_setting('order_credit.direct_access'));
    RETURN pg_temp.same(before);
END $$;
-- Runs a call that raises, caught by an EXCEPTION block (its subtransaction
-- rolled back), and compares.
CREATE FUNCTION pg_temp.fails(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.settings();
BEGIN
    RETURN pg_temp.err(replace(stmt, '%m', current_setting('order_credit.direct_access')))
           || ' -> ' || pg_temp.same(before);
END $$;

-- The caller's values: lock_timeout and search_path differ from what calls
-- use, enable_seqscan is already off, hash and merge joins on.
SET lock_timeout = '7s';
SET enable_seqscan = off;
SET search_path = public, order_credit;
SELECT pg_temp.settings() AS session \gset
SELECT :'session' AS session;

-- Calls that succeed (try_* roll back their internal subtransaction), both
-- write paths.
SET order_credit.direct_access = on;
SELECT call, pg_temp.ok(stmt) AS after FROM (VALUES
    ('reserve_credit', $$SELECT order_credit.reserve_credit('set-acct', 1, 'set-%m-rc')$$),
    ('reserve_stock', $$SELECT order_credit.reserve_stock('set-sku', 1, 'set-%m-rs')$$),
    ('place_order', $$SELECT order_credit.place_order('set-%m-po', '[{"sku": "set-sku", "quantity": 1, "unit_price": 2}]', 'set-acct')$$),
    ('try_reserve_credit', $$SELECT order_credit.try_reserve_credit('set-acct', 100000, 'set-%m-try')$$),
    ('try_reserve_stock', $$SELECT order_credit.try_reserve_stock('set-sku', 100000, 'set-%m-try')$$),
    ('expire_due', $$SELECT order_credit.expire_due(100)$$),
    ('lock', $$SELECT order_credit.lock('set-%m-lock')$$),
    ('lock timeout', $$SELECT order_credit.lock('set-%m-lock2', '3 seconds')$$),
    ('acquire_lease', $$SELECT order_credit.acquire_lease('set-%m-lease', 'me', '1 minute')$$),
    ('idempotency_begin', $$SELECT order_credit.idempotency_begin('set-%m-key', 'fp')$$)) v(call, stmt);
-- Calls that raise, caught in a subtransaction.
SELECT call, pg_temp.fails(stmt) AS after FROM (VALUES
    ('reserve_credit', $$SELECT order_credit.reserve_credit('set-acct', 100000, 'set-%m-big')$$),
    ('reserve_stock', $$SELECT order_credit.reserve_stock('set-sku', 100000, 'set-%m-big')$$),
    ('place_order', $$SELECT order_credit.place_order('set-%m-big', '[{"sku": "set-sku", "quantity": 1, "unit_price": 100000}]', 'set-acct')$$),
    ('expire_due', $$SELECT order_credit.expire_due(0)$$),
    ('acquire_lease', $$SELECT order_credit.acquire_lease('set-%m-lease', 'me', '1000 days')$$)) v(call, stmt);
SET order_credit.max_named_locks = 1;
SELECT pg_temp.fails($$SELECT order_credit.lock(k) FROM (VALUES ('set-%m-l1'), ('set-%m-l2')) v(k)$$) AS lock;
RESET order_credit.max_named_locks;

SET order_credit.direct_access = off;
SELECT call, pg_temp.ok(stmt) AS after FROM (VALUES
    ('reserve_credit', $$SELECT order_credit.reserve_credit('set-acct', 1, 'set-%m-rc')$$),
    ('reserve_stock', $$SELECT order_credit.reserve_stock('set-sku', 1, 'set-%m-rs')$$),
    ('place_order', $$SELECT order_credit.place_order('set-%m-po', '[{"sku": "set-sku", "quantity": 1, "unit_price": 2}]', 'set-acct')$$),
    ('try_reserve_credit', $$SELECT order_credit.try_reserve_credit('set-acct', 100000, 'set-%m-try')$$),
    ('try_reserve_stock', $$SELECT order_credit.try_reserve_stock('set-sku', 100000, 'set-%m-try')$$),
    ('expire_due', $$SELECT order_credit.expire_due(100)$$),
    ('lock', $$SELECT order_credit.lock('set-%m-lock')$$),
    ('lock timeout', $$SELECT order_credit.lock('set-%m-lock2', '3 seconds')$$),
    ('acquire_lease', $$SELECT order_credit.acquire_lease('set-%m-lease', 'me', '1 minute')$$),
    ('idempotency_begin', $$SELECT order_credit.idempotency_begin('set-%m-key', 'fp')$$)) v(call, stmt);
SELECT call, pg_temp.fails(stmt) AS after FROM (VALUES
    ('reserve_credit', $$SELECT order_credit.reserve_credit('set-acct', 100000, 'set-%m-big')$$),
    ('reserve_stock', $$SELECT order_credit.reserve_stock('set-sku', 100000, 'set-%m-big')$$),
    ('place_order', $$SELECT order_credit.place_order('set-%m-big', '[{"sku": "set-sku", "quantity": 1, "unit_price": 100000}]', 'set-acct')$$),
    ('expire_due', $$SELECT order_credit.expire_due(0)$$),
    ('acquire_lease', $$SELECT order_credit.acquire_lease('set-%m-lease', 'me', '1000 days')$$)) v(call, stmt);
SET order_credit.max_named_locks = 1;
SELECT pg_temp.fails($$SELECT order_credit.lock(k) FROM (VALUES ('set-%m-l1'), ('set-%m-l2')) v(k)$$) AS lock;
RESET order_credit.max_named_locks;
RESET order_credit.direct_access;

-- A call that raises at the top level: its transaction is aborted.
SELECT order_credit.reserve_credit('set-acct', 100000, 'set-top');
SELECT pg_temp.same(:'session');
SELECT order_credit.reserve_stock('set-sku', 100000, 'set-top');
SELECT pg_temp.same(:'session');

-- Transaction-local values (SET LOCAL), and calls inside savepoints rolled
-- back, after a success and after an error.
BEGIN;
SET LOCAL lock_timeout = '9s';
SET LOCAL enable_hashjoin = off;
SET LOCAL search_path = order_credit, public;
SELECT pg_temp.settings() AS local \gset
SELECT order_ref, status FROM order_credit.reserve_credit('set-acct', 1, 'set-sp-rc');
SELECT pg_temp.same(:'local') AS after_success;
SAVEPOINT a;
SELECT order_ref, status FROM order_credit.reserve_stock('set-sku', 1, 'set-sp-rs');
ROLLBACK TO SAVEPOINT a;
SELECT pg_temp.same(:'local') AS after_rollback_to;
SAVEPOINT b;
SELECT order_ref, status FROM order_credit.place_order('set-sp-po', '[{"sku": "set-sku", "quantity": 100000, "unit_price": 1}]', 'set-acct');
ROLLBACK TO SAVEPOINT b;
SELECT pg_temp.same(:'local') AS after_error_rollback_to;
SAVEPOINT c;
SELECT order_credit.lock('set-sp-lock'), order_credit.acquire_lease('set-sp-lease', 'me', '1 minute') IS NOT NULL AS lease;
SELECT order_credit.expire_due(100) >= 0 AS swept;
ROLLBACK TO SAVEPOINT c;
SELECT pg_temp.same(:'local') AS after_rollback_to;
SAVEPOINT d;
SELECT order_credit.expire_due(-1);
ROLLBACK TO SAVEPOINT d;
SELECT pg_temp.same(:'local') AS after_error_rollback_to;
COMMIT;
SELECT pg_temp.same(:'session') AS after_commit;

-- A user trigger fired inside a call reads the values in force: the call's
-- lock_timeout (order_credit.lock_timeout, 2s; 1 ms in expire_due's steps),
-- enable_seqscan off for the extension's key-access statements (the
-- caller's value, on here, for expire_due's batches), and the call's
-- search path, which current_schemas() confirms is the one in force. With
-- a trigger on them, the tables are written through SQL.
SET enable_seqscan = on;
SELECT pg_temp.settings() AS session \gset
SELECT order_credit.expire_due(100000) >= 0 AS backlog_swept;
CREATE FUNCTION pg_temp.seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE '% on %: lock_timeout=% enable_seqscan=% search_path=% (in force: %)',
        TG_OP, TG_TABLE_NAME, current_setting('lock_timeout'), current_setting('enable_seqscan'),
        current_setting('search_path'),
        regexp_replace(array_to_string(current_schemas(true), ', '), 'pg_temp_[0-9]+', 'pg_temp');
    RETURN NEW;
END $$;
CREATE TRIGGER set_seen AFTER INSERT ON order_credit.ledger FOR EACH ROW EXECUTE FUNCTION pg_temp.seen();
CREATE TRIGGER set_seen AFTER INSERT ON order_credit.reservations FOR EACH ROW EXECUTE FUNCTION pg_temp.seen();
SELECT order_ref, status FROM order_credit.reserve_credit('set-acct', 1, 'set-tr-rc');
SELECT pg_temp.same(:'session');
SELECT order_ref, status FROM order_credit.reserve_stock('set-sku', 1, 'set-tr-rs');
SELECT pg_temp.same(:'session');
SELECT order_ref, status FROM order_credit.place_order('set-tr-po', '[{"sku": "set-sku", "quantity": 1, "unit_price": 2}]', 'set-acct');
SELECT pg_temp.same(:'session');
SELECT order_ref, status FROM order_credit.reserve_credit('set-acct', 1, 'set-tr-due', '1 millisecond');
SELECT pg_sleep(0.01);
SELECT order_credit.expire_due(100) AS expired;
SELECT pg_temp.same(:'session');
-- An error raised inside the trigger leaves the call, and the caller's
-- values come back.
CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused with lock_timeout=%', current_setting('lock_timeout');
END $$;
CREATE TRIGGER set_refuse AFTER INSERT ON order_credit.ledger FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
SELECT pg_temp.fails($$SELECT order_credit.reserve_credit('set-acct', 1, 'set-tr-refused')$$) AS refused;
SELECT order_ref, status FROM order_credit.reserve_credit('set-acct', 1, 'set-tr-refused');
SELECT pg_temp.same(:'session');
DROP TRIGGER set_refuse ON order_credit.ledger;
-- A trigger that changes settings with SET LOCAL changes them for the rest
-- of the call only, as in a function with a SET clause: the caller's values
-- survive the end of its transaction, and the statements after it still run
-- under the call's search path.
CREATE FUNCTION pg_temp.set_local() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('lock_timeout', '5s', true), set_config('enable_hashjoin', 'on', true),
            set_config('search_path', 'public', true);
    RETURN NEW;
END $$;
CREATE TRIGGER set_local AFTER INSERT ON order_credit.ledger FOR EACH ROW EXECUTE FUNCTION pg_temp.set_local();
SELECT order_ref, status FROM order_credit.reserve_credit('set-acct', 1, 'set-tr-local');
SELECT pg_temp.same(:'session');
BEGIN;
SELECT order_ref, status FROM order_credit.place_order('set-tr-local2', '[{"sku": "set-sku", "quantity": 1, "unit_price": 2}]', 'set-acct');
SELECT pg_temp.same(:'session');
COMMIT;
SELECT pg_temp.same(:'session');
DROP TRIGGER set_local ON order_credit.ledger;
DROP TRIGGER set_seen ON order_credit.ledger;
DROP TRIGGER set_seen ON order_credit.reservations;
RESET lock_timeout;
RESET enable_seqscan;
RESET search_path;
SELECT count(*) AS violations FROM order_credit.verify();
