-- (d) The common application pattern on a hot account: lock the account row,
-- add up the account's ledger, compare with the limit, insert, commit. The
-- ledger is the plain table app_ledger (pre-filled with 100,000 entries for
-- 'hot-app', index on account), so the extension's own ledger is untouched.
\set amt random(1, 100)
\set r random(1, 9000000000000000000)
BEGIN;
SELECT credit_limit AS lim FROM order_credit.accounts WHERE account = 'hot-app' FOR UPDATE \gset
SELECT coalesce(sum(amount), 0) AS used FROM app_ledger WHERE account = 'hot-app' \gset
\if :used + :amt <= :lim
INSERT INTO app_ledger (account, amount, order_ref) VALUES ('hot-app', :amt, :run || '-' || :client_id || '-' || :r);
\endif
COMMIT;
