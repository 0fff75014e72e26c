-- place_order (one SKU, credit on a random account) and confirm_order, one transaction.
\set a random(1, :accounts)
\set s random(1, 10000)
\set r random(1, 9000000000000000000)
BEGIN;
SELECT status FROM order_credit.place_order(:run || '-' || :client_id || '-' || :r,
    jsonb_build_array(jsonb_build_object('sku', 'sku-' || :s, 'quantity', 1, 'unit_price', 2)), 'acct-' || :a);
SELECT status FROM order_credit.confirm_order(:run || '-' || :client_id || '-' || :r);
END;
