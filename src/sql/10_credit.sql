-- ===================================================================
-- Credit lines: accounts, two-phase holds, payments, append-only ledger
-- ===================================================================

CREATE TABLE order_credit.accounts (
    account         text PRIMARY KEY,
    currency        text,
    credit_limit    numeric NOT NULL,
    posted          numeric NOT NULL DEFAULT 0,
    pending         numeric NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'active',
    blocked_reason  text,
    -- create_account's own arguments, so that a retried create is recognised
    initial_limit   numeric NOT NULL,
    -- lower bound of the earliest expiry among pending holds (NULL: none);
    -- while it lies in the future no hold of the account can be due
    next_expiry     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT statement_timestamp()
);
COMMENT ON TABLE order_credit.accounts IS
    'Credit lines. posted and pending are kept here (O(1) checks); the ledger adds up to them.';

CREATE TABLE order_credit.holds (
    hold_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_ref   text NOT NULL UNIQUE,
    account     text NOT NULL REFERENCES order_credit.accounts (account),
    amount      numeric NOT NULL,
    captured    numeric NOT NULL DEFAULT 0,
    status      text NOT NULL DEFAULT 'pending',
    expires_in  interval,      -- as requested; NULL: never expires
    expires_at  timestamptz,
    reason      text,
    created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp()
);
-- One account's pending holds. Its predicate names account IS NOT NULL
-- (implied by every statement that states an account, never by the global
-- due scan), so that expire_due's due scan cannot be planned through it: an
-- index-only walk of every pending hold with a sort, which the planner takes
-- whenever ANALYZE saw few pending holds.
CREATE INDEX holds_account_pending ON order_credit.holds (account, expires_at)
    WHERE status = 'pending' AND account IS NOT NULL;
-- The global due scan of expire_due, earliest first. Its predicate names
-- expires_at < 'infinity' so that only a query stating it (the due scan) can
-- use it: with status = 'pending' alone, a statement on one account's
-- pending holds could be planned through it (a filter on account over every
-- pending hold), which the planner takes whenever ANALYZE saw few pending
-- holds, the usual state once finished holds dominate the table.
CREATE INDEX holds_pending_expiry ON order_credit.holds (expires_at)
    WHERE status = 'pending' AND expires_at < 'infinity';
COMMENT ON TABLE order_credit.holds IS
    'Two-phase credit holds, one per order_ref. A pending hold past expires_at counts as expired for every reader.';

CREATE TABLE order_credit.payments (
    account      text NOT NULL REFERENCES order_credit.accounts (account),
    payment_ref  text NOT NULL,
    amount       numeric NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (account, payment_ref)
);
COMMENT ON TABLE order_credit.payments IS
    'Payments recorded with record_payment(), one per (account, payment_ref): the idempotency record.';

CREATE TABLE order_credit.ledger (
    entry_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account        text NOT NULL,
    kind           text NOT NULL,
    amount         numeric,
    order_ref      text,
    ref            text,
    reason         text,
    posted_after   numeric NOT NULL,
    pending_after  numeric NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT statement_timestamp(),
    created_by     text NOT NULL
);
CREATE INDEX ledger_account ON order_credit.ledger (account, entry_id);
COMMENT ON TABLE order_credit.ledger IS
    'Append-only journal of every balance change. hold adds to pending; capture moves amount from pending to posted; void and expire take it off pending; reverse and payment take it off posted; limit, block, unblock change no balance.';

CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON order_credit.ledger
    FOR EACH ROW EXECUTE FUNCTION order_credit.append_only();
CREATE TRIGGER ledger_append_only_truncate BEFORE TRUNCATE ON order_credit.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION order_credit.append_only();

-- Balances as every reader must see them: pending holds past their expiry no
-- longer count, whether or not anything has marked them expired yet. The
-- lateral sum only runs when the account's next_expiry says a hold may be due.
CREATE VIEW order_credit.account_balances AS
SELECT a.account, a.currency, a.credit_limit, a.posted,
       a.pending - d.due AS pending,
       a.credit_limit - a.posted - (a.pending - d.due) AS available,
       a.status, a.blocked_reason, a.updated_at
  FROM order_credit.accounts a
  CROSS JOIN LATERAL (
      SELECT coalesce(sum(h.amount), 0) AS due
        FROM order_credit.holds h
       WHERE a.next_expiry <= statement_timestamp()
         AND h.account = a.account AND h.status = 'pending'
         AND h.expires_at <= statement_timestamp()) d;
COMMENT ON VIEW order_credit.account_balances IS
    'Every account with exact balances (holds past expiry excluded); same columns as account_status.';

CREATE TYPE order_credit.account_status AS (
    account        text,
    currency       text,
    credit_limit   numeric,
    posted         numeric,
    pending        numeric,
    available      numeric,
    status         text,
    blocked_reason text,
    updated_at     timestamptz
);

CREATE TYPE order_credit.credit_hold AS (
    hold_id     bigint,
    account     text,
    order_ref   text,
    amount      numeric,
    captured    numeric,
    status      text,
    expires_at  timestamptz,
    available   numeric
);

CREATE VIEW order_credit.active_holds AS
SELECT h.hold_id, h.account, h.order_ref, h.amount, h.expires_at,
       h.expires_at - statement_timestamp() AS expires_in, h.created_at
  FROM order_credit.holds h
 WHERE h.status = 'pending'
   AND (h.expires_at IS NULL OR h.expires_at > statement_timestamp());
COMMENT ON VIEW order_credit.active_holds IS
    'Live (pending, unexpired) credit holds, soonest expiry first when ordered by expires_at.';

-- ------------------------------------------------------------------
-- Functions
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.create_account(account text, credit_limit numeric,
                                            currency text DEFAULT NULL)
    RETURNS order_credit.account_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_create_account';
COMMENT ON FUNCTION order_credit.create_account(text, numeric, text) IS
    'Creates a credit line (limit >= 0). Repeating the call with the same arguments returns the account; other arguments raise OC009.';

CREATE FUNCTION order_credit.set_credit_limit(account text, credit_limit numeric)
    RETURNS order_credit.account_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_set_credit_limit';
COMMENT ON FUNCTION order_credit.set_credit_limit(text, numeric) IS
    'Sets the credit limit (may go below what is in use: existing holds stay, new ones fail). Ledger kind limit.';

CREATE FUNCTION order_credit.block_account(account text, reason text)
    RETURNS order_credit.account_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_block_account';
COMMENT ON FUNCTION order_credit.block_account(text, text) IS
    'Blocks an account: new holds raise OC002; captures, releases and payments still work. Blocking a blocked account changes nothing.';

CREATE FUNCTION order_credit.unblock_account(account text)
    RETURNS order_credit.account_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_unblock_account';
COMMENT ON FUNCTION order_credit.unblock_account(text) IS
    'Unblocks an account. Unblocking an active account changes nothing.';

CREATE FUNCTION order_credit.credit_status(account text)
    RETURNS order_credit.account_status
    LANGUAGE c STABLE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_credit_status';
COMMENT ON FUNCTION order_credit.credit_status(text) IS
    'Limit, posted, pending, available and status of an account; expired holds never count. OC003 if unknown.';

CREATE FUNCTION order_credit.reserve_credit(account text, amount numeric, order_ref text,
                                            expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS order_credit.credit_hold
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_reserve_credit';
COMMENT ON FUNCTION order_credit.reserve_credit(text, numeric, text, interval) IS
    'Places a credit hold for order_ref (phase one). NULL expires_in: never expires. OC001 insufficient credit, OC002 blocked, OC003 unknown account, OC009 order_ref reused with other arguments, 55P03 lock wait over order_credit.lock_timeout.';

CREATE FUNCTION order_credit.try_reserve_credit(account text, amount numeric, order_ref text,
                                                expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS TABLE (ok boolean, code text, message text, hold_id bigint,
                   available numeric, credit_limit numeric)
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_try_reserve_credit';
COMMENT ON FUNCTION order_credit.try_reserve_credit(text, numeric, text, interval) IS
    'Like reserve_credit, but reports OC001-OC011 and lock timeouts as ok = false with the code name instead of raising. Invalid input still raises.';

CREATE FUNCTION order_credit.capture_credit(order_ref text, amount numeric DEFAULT NULL)
    RETURNS order_credit.credit_hold
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_capture_credit';
COMMENT ON FUNCTION order_credit.capture_credit(text, numeric) IS
    'Captures a pending hold (phase two): pending -> posted. A smaller amount captures part and releases the rest. OC006 unknown, OC007 voided/reversed, OC008 expired.';

CREATE FUNCTION order_credit.release_credit(order_ref text, reason text DEFAULT NULL)
    RETURNS order_credit.credit_hold
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_release_credit';
COMMENT ON FUNCTION order_credit.release_credit(text, text) IS
    'Releases a hold: pending -> voided, captured -> reversed (the debt is cancelled). Releasing a released hold changes nothing.';

CREATE FUNCTION order_credit.record_payment(account text, amount numeric, payment_ref text)
    RETURNS order_credit.account_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_record_payment';
COMMENT ON FUNCTION order_credit.record_payment(text, numeric, text) IS
    'Records a payment that reduces posted; idempotent on (account, payment_ref). A payment above the debt raises 22023.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.credit_status(text)', 'app'),
    ('order_credit.reserve_credit(text, numeric, text, interval)', 'app'),
    ('order_credit.try_reserve_credit(text, numeric, text, interval)', 'app'),
    ('order_credit.capture_credit(text, numeric)', 'app'),
    ('order_credit.release_credit(text, text)', 'app'),
    ('order_credit.record_payment(text, numeric, text)', 'app'),
    ('order_credit.create_account(text, numeric, text)', 'admin'),
    ('order_credit.set_credit_limit(text, numeric)', 'admin'),
    ('order_credit.block_account(text, text)', 'admin'),
    ('order_credit.unblock_account(text)', 'admin');
