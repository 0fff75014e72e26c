-- A reservation and a hold that expire at once, then expire_due(4): the
-- sweep's per-call cost beside the writes that give it work.
\set a random(1, :accounts)
\set s random(1, 10000)
\set r random(1, 9000000000000000000)
SELECT reservation_id FROM order_credit.reserve_stock('sku-' || :s, 1, :run || '-' || :client_id || '-' || :r, '1 microsecond');
SELECT hold_id FROM order_credit.reserve_credit('acct-' || :a, 1, :run || '-' || :client_id || '-' || :r, '1 microsecond');
SELECT order_credit.expire_due(4);
