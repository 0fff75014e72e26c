-- Tail latency baseline: the rows reserve_credit writes (hot), as ONE plain
-- SQL statement on the extension's tables (test/bench/credit/c_plain_a.sql).
\set r random(1, 9000000000000000000)
WITH a AS (
    UPDATE order_credit.accounts
       SET pending = pending + 1,
           next_expiry = least(next_expiry, statement_timestamp() + interval '15 minutes'),
           updated_at = statement_timestamp()
     WHERE account = :acct || 'hot' AND status = 'active'
       AND (next_expiry IS NULL OR next_expiry > statement_timestamp())
       AND credit_limit - posted - pending >= 1
    RETURNING account, credit_limit, posted, pending),
h AS (
    INSERT INTO order_credit.holds (order_ref, account, amount, expires_in, expires_at)
    SELECT :run || '-' || :client_id || '-' || :r, a.account, 1, interval '15 minutes',
           statement_timestamp() + interval '15 minutes' FROM a
    RETURNING hold_id),
l AS (
    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, posted_after, pending_after, created_by)
    SELECT a.account, 'hold', 1, :run || '-' || :client_id || '-' || :r, a.posted, a.pending, current_user FROM a)
SELECT h.hold_id, a.credit_limit - a.posted - a.pending AS available FROM h CROSS JOIN a;
