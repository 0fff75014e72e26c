-- order_credit 1.0 -> 1.1
\echo Use "ALTER EXTENSION order_credit UPDATE TO '1.1'" to load this file. \quit

-- Backups: the tables holding user data and the sequences behind them become
-- configuration objects, so pg_dump writes their rows (src/sql/95_backup.sql).
SELECT pg_catalog.pg_extension_config_dump('order_credit.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.holds', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.payments', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.ledger', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.items', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_buckets', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservations', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservation_claims', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_audit', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.idempotency_keys', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.leases', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.processed_events', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.orders', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.order_history', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.holds_hold_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.ledger_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservations_reservation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_audit_audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.order_history_entry_id_seq', '');

-- grant_app, grant_admin (through grant_app) and revoke_access refuse a
-- regrole that is no role (22023; revoke_access also NULL, 22004) instead of
-- failing with a syntax error in the GRANT they build (src/sql/90_access.sql).
CREATE OR REPLACE FUNCTION order_credit.grant_app(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
    v text;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- A regrole can hold any OID; one that is no role prints as a number
    -- (or '-') that GRANT / REVOKE cannot parse.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::oid USING ERRCODE = '22023';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA order_credit TO %s', role);
    FOR f IN SELECT function FROM order_credit.function_access WHERE tier = 'app' LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f, role);
    END LOOP;
    FOR v IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'order_credit'::regnamespace AND c.relkind = 'v'
                AND c.relname IN ('active_holds', 'active_reservations') LOOP
        EXECUTE format('GRANT SELECT ON order_credit.%I TO %s', v, role);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION order_credit.revoke_access(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- A regrole can hold any OID; one that is no role prints as a number
    -- (or '-') that GRANT / REVOKE cannot parse.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::oid USING ERRCODE = '22023';
    END IF;
    FOR f IN SELECT function FROM order_credit.function_access LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, role);
    END LOOP;
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA order_credit FROM %s', role);
    EXECUTE format('REVOKE USAGE ON SCHEMA order_credit FROM %s', role);
END
$$;
