-- Read-only transactions: every function that writes refuses with 25006
-- and a message naming it, before touching anything; the functions that
-- only read keep working. The write functions are taken from the catalog
-- (VOLATILE SECURITY DEFINER in schema order_credit, the extension's rule
-- for a function that writes), so a new one is covered without editing
-- this file, and one that does not refuse shows up below.
\set VERBOSITY default
SET client_min_messages = warning;

-- Something for each write to change, if it ran.
SELECT account, available FROM order_credit.create_account('ro-acct', 1000);
SELECT sku, available FROM order_credit.set_stock('ro-sku', 50, 2);
SELECT order_ref, status FROM order_credit.place_order('ro-order',
    '[{"sku": "ro-sku", "quantity": 2, "unit_price": 10}]', 'ro-acct', '1 hour');
SELECT order_ref, status FROM order_credit.reserve_credit('ro-acct', 5, 'ro-hold', '1 hour');
SELECT order_ref, status FROM order_credit.reserve_stock('ro-sku', 1, 'ro-res', '1 hour');
SELECT order_credit.acquire_lease('ro-key', 'ro-owner', '1 hour') > 0 AS leased;
SELECT state FROM order_credit.idempotency_begin('ro-key', 'fp', '1 hour');

-- One call of every write function, with arguments naming the rows above
-- (an argument name not listed gets '1' cast to its type). Each call runs
-- in its own subtransaction; its SQLSTATE (code), message and hint are returned.
CREATE FUNCTION pg_temp.call_every_write_function()
    RETURNS TABLE (function text, code text, message text, hint text)
    LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        WITH arg_value(name, value) AS (VALUES
            ('account', 'ro-acct'), ('sku', 'ro-sku'), ('order_ref', 'ro-order'),
            ('amount', '5'), ('credit_limit', '2000'), ('quantity', '1'), ('on_hand', '60'),
            ('delta', '1'), ('buckets', '1'), ('status', 'shipped'), ('key', 'ro-key'),
            ('owner', 'ro-owner'), ('ttl', '1 hour'), ('lease', '1 hour'), ('token', '1'),
            ('source', 'ro-source'), ('event_id', 'ro-event'), ('max_rows', '100'),
            ('fingerprint', 'fp'), ('response', '{}'), ('response_code', '200'),
            ('reason', 'read-only test'), ('payment_ref', 'ro-pay'),
            ('recovery_point', 'ro-point'), ('expires_in', '1 hour'), ('wait', 'false'),
            ('currency', 'EUR'),
            ('items', '[{"sku": "ro-sku", "quantity": 1, "unit_price": 10}]'))
        SELECT p.oid::regprocedure::text AS signature, p.proname,
               (SELECT string_agg(format('%L::%s', coalesce(v.value, '1'), format_type(a.type, NULL)),
                                  ', ' ORDER BY a.n)
                  FROM unnest(p.proargtypes::oid[], p.proargnames[1:p.pronargs])
                           WITH ORDINALITY AS a(type, name, n)
                  LEFT JOIN arg_value v ON v.name = a.name) AS args
          FROM pg_proc p
         WHERE p.pronamespace = 'order_credit'::regnamespace
           AND p.provolatile = 'v' AND p.prosecdef
         ORDER BY 1
    LOOP
        function := r.signature;
        BEGIN
            EXECUTE format('SELECT order_credit.%I(%s)', r.proname, coalesce(r.args, ''));
            code := '00000';
            message := 'no error';
            hint := NULL;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    hint = PG_EXCEPTION_HINT;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Every table and sequence of the extension, as one digest each.
CREATE TEMP TABLE contents_before AS
SELECT c.relname, md5(query_to_xml(format('SELECT x::text FROM (SELECT * FROM %s) x ORDER BY 1', c.oid::regclass),
                                   false, false, '')::text) AS digest
  FROM pg_class c
 WHERE c.relnamespace = 'order_credit'::regnamespace AND c.relkind IN ('r', 'S');

BEGIN READ ONLY;
SELECT function, code, message FROM pg_temp.call_every_write_function() ORDER BY function;
-- None slipped through: every one gave 25006 with the message naming it.
SELECT count(*) AS write_functions,
       count(*) FILTER (WHERE code = '25006' AND message = format(
           '%s() cannot run in a read-only transaction',
           split_part(function, '(', 1))) AS refused,
       string_agg(DISTINCT hint, ' | ') AS hints
  FROM pg_temp.call_every_write_function();
-- Nothing was written, not even by a call that failed later on: the
-- transaction never needed a transaction ID.
SELECT pg_current_xact_id_if_assigned() IS NULL AS nothing_written;
-- The read functions, the views, verify() and the named locks work.
SELECT account, posted, pending, available FROM order_credit.credit_status('ro-acct');
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('ro-sku');
SELECT order_ref, status, amount FROM order_credit.order_status('ro-order');
SELECT count(*) AS verify_rows FROM order_credit.verify();
SELECT pending, available FROM order_credit.account_balances WHERE account = 'ro-acct';
SELECT count(*) AS holds FROM order_credit.active_holds WHERE account = 'ro-acct';
SELECT on_hand, reserved FROM order_credit.stock_levels WHERE sku = 'ro-sku';
SELECT count(*) AS reservations FROM order_credit.active_reservations WHERE sku = 'ro-sku';
SELECT count(*) >= 0 AS stats_readable FROM order_credit.stats;
SELECT order_credit.lock('ro-lock'), order_credit.try_lock('ro-lock-2');
-- PL/pgSQL functions that write get PostgreSQL's own 25006.
SAVEPOINT s;
SELECT order_credit.grant_app(current_user::regrole);
ROLLBACK TO s;
SELECT pg_current_xact_id_if_assigned() IS NULL AS still_nothing_written;
COMMIT;

-- The same with default_transaction_read_only; try_ variants raise too
-- (25006 is not one of their result codes).
SET default_transaction_read_only = on;
SELECT * FROM order_credit.try_reserve_credit('ro-acct', 5, 'ro-try');
SELECT * FROM order_credit.try_reserve_stock('ro-sku', 1, 'ro-try');
SELECT * FROM order_credit.reserve_credit('ro-acct', 5, 'ro-try');
SELECT count(*) AS verify_rows FROM order_credit.verify();
RESET default_transaction_read_only;

-- Nothing changed anywhere in the extension's tables and sequences.
SELECT b.relname, b.digest = a.digest AS unchanged
  FROM contents_before b
  FULL JOIN (SELECT c.relname,
                    md5(query_to_xml(format('SELECT x::text FROM (SELECT * FROM %s) x ORDER BY 1', c.oid::regclass),
                                     false, false, '')::text) AS digest
               FROM pg_class c
              WHERE c.relnamespace = 'order_credit'::regnamespace
                AND c.relkind IN ('r', 'S')) a USING (relname)
 WHERE b.digest IS DISTINCT FROM a.digest;

-- Read-write again: the same call works.
SELECT order_ref, status, amount FROM order_credit.reserve_credit('ro-acct', 5, 'ro-try');
SELECT count(*) AS verify_rows FROM order_credit.verify();
