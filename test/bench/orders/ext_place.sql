-- (a) order_credit.place_order: 3 distinct SKUs out of 1,000 (random order in
-- the items array), an account out of 1,000, a never-repeated order_ref.
\set x random(1000, 1999)
\set y 1000 + (:x - 1000 + random(1, 499)) % 1000
\set z 1000 + (:x - 1000 + random(500, 998)) % 1000
\set acct random(1, 1000)
\set r random(1, 9000000000000000000)
SELECT status FROM order_credit.place_order(
    :run || '-' || :client_id || '-' || :r,
    jsonb_build_array(jsonb_build_object('sku', 'sku-' || :x, 'quantity', 1, 'unit_price', 10.50),
                      jsonb_build_object('sku', 'sku-' || :y, 'quantity', 2, 'unit_price', 4.25),
                      jsonb_build_object('sku', 'sku-' || :z, 'quantity', 1, 'unit_price', 99.99)),
    'acct-' || :acct);
