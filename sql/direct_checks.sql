-- The direct write path (src/pg/stock/*_direct.cpp, src/pg/credit/hold_direct.cpp) against what the executor
-- checks on the SQL path: rules, replica identity of published tables, the
-- row check's expression (not its name), NOT NULL, column defaults,
-- partitions, the table access method, the owner's privileges, read-only
-- transactions. Each case runs the same call with order_credit.direct_access
-- on and off (handles and SKUs carry the mode, so both start from the same
-- levels) and shows that the outcome is the same: the direct path falls
-- back to the SQL path (DEBUG2 names the path that ran) or raises what the
-- SQL path raises. Every table change is made in a transaction that is
-- rolled back.
\i sql/include/err.sql

-- in_mode(mode, stmt): stmt's first column as text, or its SQLSTATE,
-- message and detail (a failing row's values, which hold ids and times,
-- elided).
CREATE FUNCTION pg_temp.in_mode(mode text, stmt text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text; msg text; det text; r text;
BEGIN
    PERFORM set_config('order_credit.direct_access', mode, true);
    EXECUTE stmt INTO r;
    RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg
        || coalesce(' [' || nullif(regexp_replace(det, 'contains \(.*\)', 'contains (...)'), '') || ']', '');
END
$f$;
-- both(stmt): stmt with direct access on, then off; %m in stmt becomes the
-- mode (on / off).
CREATE FUNCTION pg_temp.both(stmt text) RETURNS TABLE(direct_on text, direct_off text)
LANGUAGE sql AS $$
    SELECT pg_temp.in_mode('on', replace(stmt, '%m', 'on')),
           pg_temp.in_mode('off', replace(stmt, '%m', 'off'))
$$;
-- The calls, one per function that has a direct path.
CREATE FUNCTION pg_temp.stock(ref text, qty int DEFAULT 1) RETURNS text LANGUAGE sql AS $$
    SELECT format($s$SELECT row(sku, order_ref, quantity, status, available)::text
                     FROM order_credit.reserve_stock('dc-%%m', %s, 'dc-s-%s-%%m', '1 hour')$s$, qty, ref)
$$;
CREATE FUNCTION pg_temp.credit(ref text, amount numeric DEFAULT 10) RETURNS text LANGUAGE sql AS $$
    SELECT format($s$SELECT row(account, order_ref, amount, status, available)::text
                     FROM order_credit.reserve_credit('dc-%%m', %s, 'dc-c-%s-%%m', '1 hour')$s$, amount, ref)
$$;
CREATE FUNCTION pg_temp.order_(ref text, qty int DEFAULT 1, price int DEFAULT 2) RETURNS text LANGUAGE sql AS $$
    SELECT format($s$SELECT row(order_ref, account, status, amount)::text
                     FROM order_credit.place_order('dc-o-%s-%%m',
                          '[{"sku": "dc-%%m", "quantity": %s, "unit_price": %s}]', 'dc-%%m', '1 hour')$s$,
                  ref, qty, price)
$$;
-- expire_due: make_due leaves one due claim per mode's SKU (made due by
-- hand, the on one first), expire() sweeps one claim per call, so each
-- mode sweeps its own; levels() shows the units given back.
CREATE FUNCTION pg_temp.make_due(ref text) RETURNS void LANGUAGE sql AS $$
    SELECT order_credit.reserve_stock('dc-' || m, 2, 'dc-e-' || ref || '-' || m, '1 hour') FROM unnest('{on,off}'::text[]) m;
    WITH gone AS (
        DELETE FROM order_credit.reservation_claims c USING order_credit.reservations r
         WHERE r.order_ref LIKE 'dc-e-' || ref || '-%' AND c.reservation_id = r.reservation_id
        RETURNING c.*, r.order_ref)
    INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity, part_buckets, part_qty)
    SELECT sku, statement_timestamp() - CASE WHEN order_ref LIKE '%-on' THEN interval '2 s' ELSE interval '1 s' END,
           reservation_id, quantity, part_buckets, part_qty
      FROM gone;
$$;
CREATE FUNCTION pg_temp.expire() RETURNS text LANGUAGE sql AS $$
    SELECT 'SELECT order_credit.expire_due(1)'
$$;
CREATE FUNCTION pg_temp.levels() RETURNS TABLE(sku text, on_hand bigint, reserved bigint, available bigint)
LANGUAGE sql AS $$
    SELECT s.sku, s.on_hand, s.reserved, s.available
      FROM unnest('{on,off}'::text[]) m, order_credit.stock_status('dc-' || m) s
$$;
CREATE TABLE public.dc_log (what text, ref text);

SELECT order_credit.expire_due() >= 0 AS earlier_due_swept;
SELECT count(*) FROM (SELECT order_credit.set_stock('dc-' || m, 100), order_credit.create_account('dc-' || m, 1000)
                        FROM unnest('{on,off}'::text[]) m) s;

-- ================================================================ as created
-- Both modes write the same rows; with direct access on, the direct path.
BEGIN;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('plain'));
SELECT * FROM pg_temp.both(pg_temp.credit('plain'));
SELECT * FROM pg_temp.both(pg_temp.order_('plain'));
SET LOCAL client_min_messages = notice;
SELECT pg_temp.make_due('plain-due');
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
ROLLBACK;

-- ================================================================ rules
-- A rule on a table the call writes: the SQL path's statements are
-- data-modifying WITH queries, which refuse a DO ALSO rule (0A000); with
-- direct access on, the same refusal (the direct path steps aside), and
-- nothing is written, the rule's table included.
CREATE FUNCTION pg_temp.rule_case(t text, ev text, stmt text)
RETURNS TABLE(tbl text, event text, direct_on text, direct_off text, logged bigint)
LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format('CREATE RULE dc_rule AS ON %s TO order_credit.%I DO ALSO INSERT INTO public.dc_log VALUES (%L, %L)',
                   ev, t, t, ev);
    RETURN QUERY SELECT t, ev, b.direct_on, b.direct_off, (SELECT count(*) FROM public.dc_log)
                   FROM pg_temp.both(stmt) b;
    EXECUTE format('DROP RULE dc_rule ON order_credit.%I', t);
END
$f$;
BEGIN;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.rule_case('reservations', 'INSERT', pg_temp.stock('rule'));
SELECT * FROM pg_temp.rule_case('reservation_claims', 'INSERT', pg_temp.stock('rule'));
SELECT * FROM pg_temp.rule_case('stock_buckets', 'UPDATE', pg_temp.stock('rule'));
SELECT * FROM pg_temp.rule_case('accounts', 'UPDATE', pg_temp.credit('rule'));
SELECT * FROM pg_temp.rule_case('holds', 'INSERT', pg_temp.credit('rule'));
SELECT * FROM pg_temp.rule_case('ledger', 'INSERT', pg_temp.credit('rule'));
SELECT * FROM pg_temp.rule_case('orders', 'INSERT', pg_temp.order_('rule'));
SELECT * FROM pg_temp.rule_case('order_history', 'INSERT', pg_temp.order_('rule'));
SELECT * FROM pg_temp.rule_case('holds', 'INSERT', pg_temp.order_('rule'));
SET LOCAL client_min_messages = notice;
SELECT pg_temp.make_due('rule-due');
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.rule_case('reservation_claims', 'DELETE', pg_temp.expire());
SELECT * FROM pg_temp.rule_case('stock_buckets', 'UPDATE', pg_temp.expire());
-- nothing written by any of them
SELECT count(*) AS reservations FROM order_credit.reservations WHERE order_ref LIKE 'dc-_-rule-%';
SELECT count(*) AS holds FROM order_credit.holds WHERE order_ref LIKE 'dc-_-rule-%';
SELECT count(*) AS orders FROM order_credit.orders WHERE order_ref LIKE 'dc-_-rule-%';
ROLLBACK;

-- ================================================================ replica identity
-- A published table: with its primary key as replica identity the direct
-- path stays in use; with REPLICA IDENTITY NOTHING an update (a delete) of
-- it is refused with 55000, by both paths. A publication of inserts only
-- needs no identity.
BEGIN;
SET LOCAL client_min_messages = error;  -- (wal_level may be below logical here)
CREATE PUBLICATION dc_pub FOR TABLE order_credit.stock_buckets, order_credit.accounts,
    order_credit.reservation_claims, order_credit.reservations, order_credit.holds;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('ri-pkey'));
SELECT * FROM pg_temp.both(pg_temp.credit('ri-pkey'));
SELECT * FROM pg_temp.both(pg_temp.order_('ri-pkey'));
SET LOCAL client_min_messages = notice;
ALTER TABLE order_credit.stock_buckets REPLICA IDENTITY NOTHING;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('ri-none'));
SELECT * FROM pg_temp.both(pg_temp.order_('ri-none'));
SET LOCAL client_min_messages = notice;
ALTER TABLE order_credit.stock_buckets REPLICA IDENTITY DEFAULT;
ALTER TABLE order_credit.accounts REPLICA IDENTITY NOTHING;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.credit('ri-none'));
SELECT * FROM pg_temp.both(pg_temp.order_('ri-none'));
SET LOCAL client_min_messages = notice;
ALTER TABLE order_credit.accounts REPLICA IDENTITY DEFAULT;
SELECT pg_temp.make_due('ri-due');
ALTER TABLE order_credit.reservation_claims REPLICA IDENTITY NOTHING;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
SET LOCAL client_min_messages = notice;
ALTER TABLE order_credit.reservation_claims REPLICA IDENTITY DEFAULT;
ALTER TABLE order_credit.stock_buckets REPLICA IDENTITY NOTHING;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
SET LOCAL client_min_messages = notice;
ALTER PUBLICATION dc_pub SET (publish = 'insert');
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('ri-insert-only'));
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
ROLLBACK;

-- ================================================================ row checks
-- The row check replaced under its own name by a stricter expression: both
-- paths enforce the new one (23514 naming the constraint); a row it allows
-- is written by both.
CREATE FUNCTION pg_temp.stricter(tbl text, cond text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format('ALTER TABLE order_credit.%1$I DROP CONSTRAINT %2$I, '
                   'ADD CONSTRAINT %2$I CHECK (order_credit._row_valid(%1$I) AND %3$s) NOT VALID',
                   tbl, tbl || '_row_check', cond);
END
$f$;
BEGIN;
SELECT pg_temp.stricter('stock_buckets', 'reserved < 6');
SELECT pg_temp.stricter('reservations', 'quantity < 5');
SELECT pg_temp.stricter('reservation_claims', 'quantity < 4');
SELECT pg_temp.stricter('accounts', 'pending < 60');
SELECT pg_temp.stricter('holds', 'amount < 50');
SELECT pg_temp.stricter('ledger', 'amount < 40');
SELECT pg_temp.stricter('orders', 'amount < 20');
SET LOCAL client_min_messages = debug2;
-- bucket, reservation, claim: each refuses one call
SELECT * FROM pg_temp.both(pg_temp.stock('check-bucket', 6));
SELECT * FROM pg_temp.both(pg_temp.stock('check-reservation', 5));
SELECT * FROM pg_temp.both(pg_temp.stock('check-claim', 4));
SELECT * FROM pg_temp.both(pg_temp.stock('check-ok', 1));
-- account, hold, ledger entry
SELECT * FROM pg_temp.both(pg_temp.credit('check-account', 60));
SELECT * FROM pg_temp.both(pg_temp.credit('check-hold', 50));
SELECT * FROM pg_temp.both(pg_temp.credit('check-ledger', 40));
SELECT * FROM pg_temp.both(pg_temp.credit('check-ok', 1));
-- order
SELECT * FROM pg_temp.both(pg_temp.order_('check-order', 1, 20));
SELECT * FROM pg_temp.both(pg_temp.order_('check-ok', 1, 2));
SELECT order_ref, quantity FROM order_credit.reservations WHERE order_ref LIKE 'dc-_-check%' ORDER BY 1;
SELECT order_ref, amount FROM order_credit.holds WHERE order_ref LIKE 'dc-_-check%' ORDER BY 1;
ROLLBACK;
-- The row check's function replaced (same name and argument): the direct
-- path steps aside and the new function decides.
BEGIN;
CREATE OR REPLACE FUNCTION order_credit._row_valid(order_credit.reservations) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT $1.quantity < 2';
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('fn', 2));
SELECT * FROM pg_temp.both(pg_temp.stock('fn-ok', 1));
ROLLBACK;

-- ================================================================ NOT NULL
-- NOT NULL on a column the direct path leaves NULL (a reservation's
-- reason): the executor's 23502, with the failing row, from both.
BEGIN;
UPDATE order_credit.reservations SET reason = 'dc' WHERE reason IS NULL;
ALTER TABLE order_credit.reservations ALTER COLUMN reason SET NOT NULL;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('notnull'));
ROLLBACK;

-- ================================================================ defaults
-- The SQL statements leave some columns to their defaults: another default
-- is written by both paths.
BEGIN;
ALTER TABLE order_credit.reservations ALTER COLUMN reason SET DEFAULT 'dc-default';
ALTER TABLE order_credit.holds ALTER COLUMN reason SET DEFAULT 'dc-default';
ALTER TABLE order_credit.ledger ALTER COLUMN reason SET DEFAULT 'dc-default';
ALTER TABLE order_credit.orders ALTER COLUMN payment_ref SET DEFAULT 'dc-default';
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('default'));
SELECT * FROM pg_temp.both(pg_temp.credit('default'));
SELECT * FROM pg_temp.both(pg_temp.order_('default'));
SET LOCAL client_min_messages = notice;
SELECT order_ref, reason FROM order_credit.reservations WHERE order_ref LIKE 'dc-_-default-%' ORDER BY 1;
SELECT order_ref, reason FROM order_credit.holds WHERE order_ref LIKE 'dc-_-default-%' ORDER BY 1;
SELECT order_ref, kind, reason FROM order_credit.ledger WHERE order_ref LIKE 'dc-_-default-%' ORDER BY 1;
SELECT order_ref, payment_ref FROM order_credit.orders WHERE order_ref LIKE 'dc-_-default-%' ORDER BY 1;
ROLLBACK;

-- ================================================================ partitions
-- reservations attached as the default partition of a table whose other
-- partition takes SKU dc-part: a reservation of dc-part breaks the
-- partition constraint (23514) on both paths; others are written by both.
-- stock_buckets and holds as partitions: the same rows as without.
SELECT count(*) FROM (SELECT order_credit.set_stock('dc-part', 10)) s;
BEGIN;
CREATE TABLE public.dc_res (LIKE order_credit.reservations) PARTITION BY LIST (sku);
CREATE TABLE public.dc_res_part PARTITION OF public.dc_res FOR VALUES IN ('dc-part');
ALTER TABLE public.dc_res ATTACH PARTITION order_credit.reservations DEFAULT;
CREATE TABLE public.dc_buckets (LIKE order_credit.stock_buckets) PARTITION BY LIST (sku);
ALTER TABLE public.dc_buckets ATTACH PARTITION order_credit.stock_buckets DEFAULT;
CREATE TABLE public.dc_holds (LIKE order_credit.holds) PARTITION BY LIST (account);
ALTER TABLE public.dc_holds ATTACH PARTITION order_credit.holds DEFAULT;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both($$SELECT row(sku, quantity)::text
                              FROM order_credit.reserve_stock('dc-part', 1, 'dc-part-%m')$$);
SELECT * FROM pg_temp.both(pg_temp.stock('part'));
SELECT * FROM pg_temp.both(pg_temp.credit('part'));
SELECT * FROM pg_temp.both(pg_temp.order_('part'));
SET LOCAL client_min_messages = notice;
SELECT pg_temp.make_due('part-due');
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
ROLLBACK;

-- ================================================================ access method
-- Another table access method (heap's handler under another name): the
-- direct path steps aside, the SQL path writes the same rows.
BEGIN;
CREATE ACCESS METHOD dc_heap2 TYPE TABLE HANDLER heap_tableam_handler;
ALTER TABLE order_credit.reservations SET ACCESS METHOD dc_heap2;
ALTER TABLE order_credit.holds SET ACCESS METHOD dc_heap2;
ALTER TABLE order_credit.reservation_claims SET ACCESS METHOD dc_heap2;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('am'));
SELECT * FROM pg_temp.both(pg_temp.credit('am'));
SELECT * FROM pg_temp.both(pg_temp.order_('am'));
SET LOCAL client_min_messages = notice;
SELECT pg_temp.make_due('am-due');
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
ROLLBACK;

-- ================================================================ privileges
-- The writers are SECURITY DEFINER: their statements run with the owner's
-- privileges. An owner without privileges on the tables: both paths raise
-- the statements' 42501. With them, the direct path is used; without
-- EXECUTE on a row check's function, 42501 again from both.
BEGIN;
CREATE ROLE regress_dc_owner NOLOGIN;
ALTER FUNCTION order_credit.reserve_stock(text, bigint, text, interval) OWNER TO regress_dc_owner;
ALTER FUNCTION order_credit.reserve_credit(text, numeric, text, interval) OWNER TO regress_dc_owner;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('priv-none'));
SELECT * FROM pg_temp.both(pg_temp.credit('priv-none'));
SET LOCAL client_min_messages = notice;
GRANT USAGE ON SCHEMA order_credit TO regress_dc_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA order_credit TO regress_dc_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA order_credit TO regress_dc_owner;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('priv-all'));
SELECT * FROM pg_temp.both(pg_temp.credit('priv-all'));
SET LOCAL client_min_messages = notice;
REVOKE EXECUTE ON FUNCTION order_credit._row_valid(order_credit.reservations) FROM regress_dc_owner;
REVOKE UPDATE ON order_credit.accounts FROM regress_dc_owner;
SET LOCAL client_min_messages = debug2;
SELECT * FROM pg_temp.both(pg_temp.stock('priv-fn'));
SELECT * FROM pg_temp.both(pg_temp.credit('priv-update'));
ROLLBACK;

-- ================================================================ read only
-- A read-only transaction: every writer is refused with 25006 before its
-- body runs, in both modes.
BEGIN READ ONLY;
SELECT * FROM pg_temp.both(pg_temp.stock('ro'));
SELECT * FROM pg_temp.both(pg_temp.credit('ro'));
SELECT * FROM pg_temp.both(pg_temp.order_('ro'));
SELECT * FROM pg_temp.both(pg_temp.expire());
SELECT * FROM pg_temp.levels();
ROLLBACK;

-- Nothing of the cases is left: the levels as set.
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('dc-on')
UNION ALL SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('dc-off');
SELECT account, pending, available FROM order_credit.credit_status('dc-on')
UNION ALL SELECT account, pending, available FROM order_credit.credit_status('dc-off');
DROP TABLE public.dc_log;
