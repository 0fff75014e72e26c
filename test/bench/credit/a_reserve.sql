-- (a) order_credit.reserve_credit on a random account out of 1,000.
-- order_ref: run tag, client id and a random 63-bit number (never reused).
\set acct random(1, 1000)
\set amt random(1, 100)
\set r random(1, 9000000000000000000)
SELECT hold_id FROM order_credit.reserve_credit('acct-' || :acct, :amt, :run || '-' || :client_id || '-' || :r);
