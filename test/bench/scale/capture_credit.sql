-- A hold and its capture, one transaction (two calls).
\set a random(1, :accounts)
\set r random(1, 9000000000000000000)
BEGIN;
SELECT hold_id FROM order_credit.reserve_credit('acct-' || :a, 1, :run || '-' || :client_id || '-' || :r);
SELECT status FROM order_credit.capture_credit(:run || '-' || :client_id || '-' || :r);
END;
