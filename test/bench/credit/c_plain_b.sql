-- (c-b) The rows reserve_credit writes, as ONE plain SQL statement run
-- directly on the tables (superuser): guarded UPDATE of the account, INSERT
-- of the hold and of its ledger entry, as data-modifying CTEs. It mirrors
-- S_reserve in src/pg/credit/holds.cpp with the default TTL (15 min) spelled out,
-- but has no idempotency lookup, no order_ref lock and no function call:
-- the strongest fair baseline. Same hot account as (b).
\set amt random(1, 100)
\set r random(1, 9000000000000000000)
WITH a AS (
    UPDATE order_credit.accounts
       SET pending = pending + :amt::numeric,
           next_expiry = least(next_expiry, statement_timestamp() + interval '15 minutes'),
           updated_at = statement_timestamp()
     WHERE account = 'hot' AND status = 'active'
       AND (next_expiry IS NULL OR next_expiry > statement_timestamp())
       AND credit_limit - posted - pending >= :amt::numeric
    RETURNING account, credit_limit, posted, pending),
h AS (
    INSERT INTO order_credit.holds (order_ref, account, amount, expires_in, expires_at)
    SELECT :run || '-' || :client_id || '-' || :r, a.account, :amt::numeric, interval '15 minutes',
           statement_timestamp() + interval '15 minutes' FROM a
    RETURNING hold_id, account, order_ref, amount, captured, status, expires_at),
l AS (
    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, posted_after, pending_after, created_by)
    SELECT a.account, 'hold', :amt::numeric, :run || '-' || :client_id || '-' || :r, a.posted, a.pending, current_user FROM a)
SELECT h.hold_id, a.credit_limit - a.posted - a.pending AS available
  FROM h CROSS JOIN a;
