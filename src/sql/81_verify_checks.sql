-- The list of invariant checks verify() runs. Each area appends its own
-- _verify_<area>() to this union.
CREATE FUNCTION order_credit._verify_checks()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM order_credit._verify_credit()
    UNION ALL
    SELECT * FROM order_credit._verify_stock()
    UNION ALL
    SELECT * FROM order_credit._verify_stock_alerts()
    UNION ALL
    SELECT * FROM order_credit._verify_orders()
$$;

COMMENT ON FUNCTION order_credit._verify_checks() IS
    'Union of every area''s invariant checks; verify() orders and returns them.';

CREATE FUNCTION order_credit.verify()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM order_credit._verify_checks() ORDER BY 1, 2
$$;
COMMENT ON FUNCTION order_credit.verify() IS
    'Checks every invariant (ledger adds up to balances, pending equals live holds, ...): one row per violation, no rows when all hold.';
