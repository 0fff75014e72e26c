-- One order of the burst: the application pattern on the burst's account.
\set r random(1, 9000000000000000000)
SELECT app_order(:acct, 1, :run || '-' || :client_id || '-' || :r);
