-- reserve_credit on a random account (:accounts of them).
\set a random(1, :accounts)
\set r random(1, 9000000000000000000)
SELECT hold_id FROM order_credit.reserve_credit('acct-' || :a, 1, :run || '-' || :client_id || '-' || :r);
