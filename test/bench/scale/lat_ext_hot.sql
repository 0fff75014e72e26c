-- Tail latency: reserve_credit, every client on the hot account.
\set r random(1, 9000000000000000000)
SELECT hold_id FROM order_credit.reserve_credit(:acct || 'hot', 1, :run || '-' || :client_id || '-' || :r);
