-- Tail latency: reserve_credit, each client on an account of its own.
\set r random(1, 9000000000000000000)
SELECT hold_id FROM order_credit.reserve_credit(:acct || (:client_id + 1), 1, :run || '-' || :client_id || '-' || :r);
