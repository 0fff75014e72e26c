-- ===================================================================
-- Privileges: nothing is usable by PUBLIC except default_ttl() (needed to
-- evaluate DEFAULT expressions). Roles get access through grant_app() and
-- grant_admin(), run by the extension owner or a superuser.
-- ===================================================================

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.verify()', 'admin');

REVOKE ALL ON ALL TABLES IN SCHEMA order_credit FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA order_credit FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA order_credit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION order_credit.default_ttl() TO PUBLIC;

CREATE FUNCTION order_credit.grant_app(role regrole) RETURNS void
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
COMMENT ON FUNCTION order_credit.grant_app(regrole) IS
    'Lets a role call the operational functions (reserve, capture, release, payments, status) and read the active_* views. It still cannot write any table directly, change limits or block accounts.';

CREATE FUNCTION order_credit.grant_admin(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    PERFORM order_credit.grant_app(role);
    FOR f IN SELECT function FROM order_credit.function_access WHERE tier = 'admin' LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f, role);
    END LOOP;
    -- Read-only access to every table and view, for DBAs.
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA order_credit TO %s', role);
END
$$;
COMMENT ON FUNCTION order_credit.grant_admin(regrole) IS
    'grant_app plus the admin functions (create_account, set_credit_limit, block/unblock, verify, ...) and read-only access to every table.';

CREATE FUNCTION order_credit.revoke_access(role regrole) RETURNS void
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
COMMENT ON FUNCTION order_credit.revoke_access(regrole) IS
    'Takes back what grant_app / grant_admin gave a role.';

REVOKE EXECUTE ON FUNCTION order_credit.grant_app(regrole), order_credit.grant_admin(regrole),
    order_credit.revoke_access(regrole) FROM PUBLIC;
