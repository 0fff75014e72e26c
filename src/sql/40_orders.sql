-- ===================================================================
-- Orders: stock + credit reserved together, paid or timed out
-- ===================================================================

CREATE TABLE order_credit.orders (
    order_ref    text PRIMARY KEY,
    account      text REFERENCES order_credit.accounts (account),
    status       text NOT NULL,
    amount       numeric NOT NULL,
    items        jsonb NOT NULL,
    expires_in   interval,
    expires_at   timestamptz,
    payment_ref  text,
    created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT statement_timestamp()
);
CREATE INDEX orders_pending_expiry ON order_credit.orders (expires_at) WHERE status = 'pending';
COMMENT ON TABLE order_credit.orders IS
    'Orders placed with place_order(). A pending order past expires_at reads as expired.';

CREATE TABLE order_credit.order_history (
    entry_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_ref    text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
    created_by   text NOT NULL
);
CREATE INDEX order_history_ref ON order_credit.order_history (order_ref, entry_id);
COMMENT ON TABLE order_credit.order_history IS
    'Append-only history of every order transition: from, to, when, who, why.';
CREATE TRIGGER order_history_append_only BEFORE UPDATE OR DELETE ON order_credit.order_history
    FOR EACH ROW EXECUTE FUNCTION order_credit.append_only();
CREATE TRIGGER order_history_append_only_truncate BEFORE TRUNCATE ON order_credit.order_history
    FOR EACH STATEMENT EXECUTE FUNCTION order_credit.append_only();

CREATE TYPE order_credit.order_status AS (
    order_ref   text,
    account     text,
    status      text,
    amount      numeric,
    expires_at  timestamptz,
    updated_at  timestamptz
);

CREATE FUNCTION order_credit.place_order(order_ref text, items jsonb, account text DEFAULT NULL,
                                         expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_place_order';
COMMENT ON FUNCTION order_credit.place_order(text, jsonb, text, interval) IS
    'Places an order: reserves every item and, with an account, credit for sum(quantity * unit_price); all or nothing. items: [{"sku","quantity","unit_price"}], each SKU once.';

CREATE FUNCTION order_credit.confirm_order(order_ref text, payment_ref text DEFAULT NULL)
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_confirm_order';
COMMENT ON FUNCTION order_credit.confirm_order(text, text) IS
    'pending -> paid: commits the stock (a sale) and captures the credit. OC008 once expired, OC007 if cancelled; confirming a paid order again returns it.';

CREATE FUNCTION order_credit.set_order_status(order_ref text, status text)
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_set_order_status';
COMMENT ON FUNCTION order_credit.set_order_status(text, text) IS
    'paid -> processing -> shipped -> delivered, one step at a time (OC007 otherwise); setting the current status again changes nothing.';

CREATE FUNCTION order_credit.cancel_order(order_ref text, reason text DEFAULT NULL)
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_cancel_order';
COMMENT ON FUNCTION order_credit.cancel_order(text, text) IS
    'Cancels a pending (releases stock, voids credit), paid or processing order (restocks, reverses credit). OC007 from other states.';

CREATE FUNCTION order_credit.order_status(order_ref text)
    RETURNS order_credit.order_status
    LANGUAGE c STABLE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_order_status';
COMMENT ON FUNCTION order_credit.order_status(text) IS
    'The order as it stands; a pending order past expires_at reads expired. OC006 if unknown.';

CREATE FUNCTION order_credit._verify_orders()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'order_amount', o.order_ref, format('amount=%s, items total=%s', o.amount, t.total)
      FROM order_credit.orders o
      CROSS JOIN LATERAL (SELECT coalesce(sum((e->>'quantity')::numeric * (e->>'unit_price')::numeric), 0) AS total
                            FROM jsonb_array_elements(o.items) e) t
     WHERE o.amount <> t.total
    UNION ALL
    -- The order's current status is the last transition in its history.
    SELECT 'order_history', o.order_ref, format('status=%s, last history entry=%s', o.status, h.to_status)
      FROM order_credit.orders o
      CROSS JOIN LATERAL (SELECT to_status FROM order_credit.order_history
                           WHERE order_ref = o.order_ref ORDER BY entry_id DESC LIMIT 1) h
     WHERE h.to_status <> o.status
$$;

COMMENT ON FUNCTION order_credit._verify_orders() IS
    'Order invariant checks used by verify().';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.place_order(text, jsonb, text, interval)', 'app'),
    ('order_credit.confirm_order(text, text)', 'app'),
    ('order_credit.set_order_status(text, text)', 'app'),
    ('order_credit.cancel_order(text, text)', 'app'),
    ('order_credit.order_status(text)', 'app');
