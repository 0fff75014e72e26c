-- One order of the burst: reserve_credit on the burst's account.
\set r random(1, 9000000000000000000)
SELECT ok FROM order_credit.try_reserve_credit(:acct, 1, :run || '-' || :client_id || '-' || :r);
