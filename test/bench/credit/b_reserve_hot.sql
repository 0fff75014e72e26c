-- (b) order_credit.reserve_credit, every client on the same account.
\set amt random(1, 100)
\set r random(1, 9000000000000000000)
SELECT hold_id FROM order_credit.reserve_credit('hot', :amt, :run || '-' || :client_id || '-' || :r);
