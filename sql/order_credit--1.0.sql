-- order_credit install script. Built by the Makefile from src/sql/NN_*.sql.
\echo Use "CREATE EXTENSION order_credit" to load this file. \quit

-- Every function pins search_path; every object below is schema-qualified.
-- Functions that write are SECURITY DEFINER: the tables are not writable by
-- anyone but the extension owner, and access is granted per function
-- (see order_credit.grant_app / grant_admin).

CREATE FUNCTION order_credit.default_ttl() RETURNS interval
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'oc_default_ttl';
COMMENT ON FUNCTION order_credit.default_ttl() IS
    'The current order_credit.default_ttl as an interval: the default expiry of holds and reservations.';

CREATE FUNCTION order_credit.append_only() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'oc_append_only';
COMMENT ON FUNCTION order_credit.append_only() IS
    'Trigger refusing UPDATE, DELETE and TRUNCATE on append-only tables (ledger, audit).';

CREATE FUNCTION order_credit._guard_selftest(kind text) RETURNS int
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_guard_selftest';
COMMENT ON FUNCTION order_credit._guard_selftest(text) IS
    'Test hook: raises a C++ exception or PostgreSQL error through the error boundary. Not for applications.';
REVOKE ALL ON FUNCTION order_credit._guard_selftest(text) FROM PUBLIC;

-- Which functions each access tier may call. Each area lists its functions
-- here; order_credit.grant_app() / grant_admin() grant from this list.
CREATE TABLE order_credit.function_access (
    function  regprocedure PRIMARY KEY,
    tier      text NOT NULL CHECK (tier IN ('app', 'admin'))
);
COMMENT ON TABLE order_credit.function_access IS
    'Access tiers: app = operational calls (reserve, capture, ...); admin = also limits, blocking, verify. Read by grant_app() and grant_admin().';
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
CREATE INDEX holds_account_pending ON order_credit.holds (account, expires_at)
    WHERE status = 'pending';
CREATE INDEX holds_pending_expiry ON order_credit.holds (expires_at)
    WHERE status = 'pending';
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
-- ===================================================================
-- Stock: items striped over bucket rows, reservations (reserve -> commit |
-- release | expire), append-only audit of every change to on_hand.
-- ===================================================================

CREATE TABLE order_credit.items (
    sku         text PRIMARY KEY,
    buckets     int NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp()
);
COMMENT ON TABLE order_credit.items IS
    'Stocked items. The levels live in stock_buckets: an item is striped over `buckets` rows so concurrent reservations do not queue on one row lock.';

CREATE TABLE order_credit.stock_buckets (
    sku         text NOT NULL REFERENCES order_credit.items (sku),
    bucket      int NOT NULL,
    on_hand     bigint NOT NULL,
    reserved    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (sku, bucket)
) WITH (fillfactor = 50);
COMMENT ON TABLE order_credit.stock_buckets IS
    'One stripe of an item: on_hand and reserved (live reservation parts, expired-but-unswept included). The item is the sum of its buckets; reserved <= on_hand per bucket, so no item is ever oversold.';

CREATE TABLE order_credit.reservations (
    reservation_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_ref       text NOT NULL,
    -- No foreign key to items on purpose: items are never deleted, every
    -- reservation is written by reserve_stock after it read the item, and
    -- verify() checks it (reservation_item). A foreign key would take a KEY
    -- SHARE lock on the item row for every reservation, which on a hot item
    -- turns into a MultiXact per buyer.
    sku             text NOT NULL,
    quantity        bigint NOT NULL,
    -- where the units came from: part_qty[i] units of bucket part_buckets[i];
    -- both NULL when all of them came from bucket 0 (every reservation of an
    -- item of one bucket), as in reservation_claims: the two one-element
    -- arrays were ~57 of the row's ~170 bytes. Read them with
    -- coalesce(part_buckets, '{0}') and coalesce(part_qty, ARRAY[quantity]).
    part_buckets    int[],
    part_qty        bigint[],    -- both or neither (the row check)
    status          text NOT NULL DEFAULT 'active',
    expires_in      interval,      -- as requested; NULL: never expires
    expires_at      timestamptz,
    reason          text,
    created_at      timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT statement_timestamp(),
    UNIQUE (order_ref, sku)
);
-- No index on status: the jobs of the former partial indexes on status =
-- 'active' (due units of a SKU, the global due scan) belong to
-- reservation_claims, so the status updates of commit and release can be HOT.
COMMENT ON TABLE order_credit.reservations IS
    'Stock reservations, one per (order_ref, sku). An active reservation past expires_at counts as expired for every reader; expiry (expire_due) does not update the row, it deletes the reservation''s claim.';

-- The reservations whose units are counted in stock_buckets.reserved right
-- now, one row each. reserve inserts the claim with the reservation;
-- commit, release and expiry delete it while holding the buckets of its
-- parts and take its parts off reserved. expire_due deletes due claims and
-- never touches reservations (the stored status stays 'active'; readers
-- judge expiry with statement_timestamp()). A DELETE of a small row is far
-- cheaper than the non-HOT update of the reservation it replaced.
-- expires_at is 'infinity' for a reservation that never expires (so it can
-- be part of the primary key). No foreign key: verify() checks that every
-- claim matches an active reservation (reservation_claim / claim_reservation).
-- The parts are NULL for the common claim, all its units from bucket 0
-- (every item of one bucket): two one-element arrays were ~60 of the row's
-- ~120 bytes, and expiring a claim costs WAL in proportion to the pages the
-- claims take (a full-page image of each after a checkpoint). Measured,
-- 1,000,000 claims: 14,286 pages with the arrays, 7,353 without; one
-- expire_due of them all wrote 187 MB of WAL, now 130 MB. Readers use
-- coalesce(part_buckets, '{0}') and coalesce(part_qty, ARRAY[quantity]).
CREATE TABLE order_credit.reservation_claims (
    sku             text NOT NULL,
    expires_at      timestamptz NOT NULL,
    reservation_id  bigint NOT NULL,
    quantity        bigint NOT NULL,
    part_buckets    int[],
    part_qty        bigint[],    -- both or neither (the row check)
    -- (sku, expires_at): the due units of one SKU, and one claim by its key
    PRIMARY KEY (sku, expires_at, reservation_id)
);
-- The global due scan of expire_due, earliest first.
CREATE INDEX reservation_claims_due ON order_credit.reservation_claims (expires_at)
    WHERE expires_at < 'infinity';
COMMENT ON TABLE order_credit.reservation_claims IS
    'One row per reservation whose units are counted in stock_buckets.reserved (same sku, parts and expires_at as the reservation; ''infinity'' when it never expires; part_buckets and part_qty NULL when all units are in bucket 0). Inserted by reserve, deleted by commit, release and expire_due, never updated (a re-stripe deletes and inserts); each bucket''s reserved is the sum of its claims'' parts.';

-- Claims are only inserted and deleted: expire_due deletes them by ctid and
-- relies on no concurrent UPDATE (src/pg/stock.cpp, S_expire_stock_batch).
CREATE FUNCTION order_credit._claims_no_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'UPDATE on order_credit.reservation_claims is not allowed: claims are only inserted and deleted'
        USING ERRCODE = '55000';
END
$$;
COMMENT ON FUNCTION order_credit._claims_no_update() IS
    'Trigger refusing UPDATE on reservation_claims (expire_due deletes claims by ctid and relies on it).';
CREATE TRIGGER reservation_claims_no_update BEFORE UPDATE ON order_credit.reservation_claims
    FOR EACH ROW EXECUTE FUNCTION order_credit._claims_no_update();

CREATE TABLE order_credit.stock_audit (
    audit_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku            text NOT NULL,
    kind           text NOT NULL,
    delta          bigint NOT NULL,
    on_hand_after  bigint NOT NULL,
    buckets_after  int NOT NULL,
    order_ref      text,
    reason         text,
    created_at     timestamptz NOT NULL DEFAULT statement_timestamp(),
    created_by     text NOT NULL
);
CREATE INDEX stock_audit_sku ON order_credit.stock_audit (sku, audit_id);
COMMENT ON TABLE order_credit.stock_audit IS
    'Append-only journal of every change to on_hand: set (set_stock), adjust (adjust_stock), sale (commit_stock), restripe (bucket count changed, delta 0). delta is signed; on_hand_after is the item total right after it.';

CREATE TRIGGER stock_audit_append_only BEFORE UPDATE OR DELETE ON order_credit.stock_audit
    FOR EACH ROW EXECUTE FUNCTION order_credit.append_only();
CREATE TRIGGER stock_audit_append_only_truncate BEFORE TRUNCATE ON order_credit.stock_audit
    FOR EACH STATEMENT EXECUTE FUNCTION order_credit.append_only();

-- Levels as every reader must see them: reservations past their expiry no
-- longer count, whether or not expire_due has deleted their claims yet.
CREATE VIEW order_credit.stock_levels AS
SELECT i.sku, b.on_hand, b.reserved - d.due AS reserved,
       b.on_hand - b.reserved + d.due AS available, i.buckets,
       greatest(i.updated_at, b.updated_at) AS updated_at
  FROM order_credit.items i
  CROSS JOIN LATERAL (
      SELECT coalesce(sum(s.on_hand), 0)::bigint AS on_hand,
             coalesce(sum(s.reserved), 0)::bigint AS reserved,
             max(s.updated_at) AS updated_at
        FROM order_credit.stock_buckets s WHERE s.sku = i.sku) b
  CROSS JOIN LATERAL (
      SELECT coalesce(sum(c.quantity), 0)::bigint AS due
        FROM order_credit.reservation_claims c
       WHERE c.sku = i.sku AND c.expires_at <= statement_timestamp()) d;
COMMENT ON VIEW order_credit.stock_levels IS
    'Every item with exact levels (reservations past expiry excluded); same columns as stock_status.';

CREATE TYPE order_credit.stock_status AS (
    sku         text,
    on_hand     bigint,
    reserved    bigint,
    available   bigint,
    buckets     int,
    updated_at  timestamptz
);

CREATE TYPE order_credit.stock_reservation AS (
    reservation_id  bigint,
    sku             text,
    order_ref       text,
    quantity        bigint,
    status          text,
    expires_at      timestamptz,
    available       bigint
);

CREATE VIEW order_credit.active_reservations AS
SELECT r.reservation_id, r.order_ref, r.sku, r.quantity, r.expires_at,
       r.expires_at - statement_timestamp() AS expires_in, r.created_at
  FROM order_credit.reservations r
 WHERE r.status = 'active'
   AND (r.expires_at IS NULL OR r.expires_at > statement_timestamp());
COMMENT ON VIEW order_credit.active_reservations IS
    'Live (active, unexpired) stock reservations.';

-- ------------------------------------------------------------------
-- Functions
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.set_stock(sku text, on_hand bigint, buckets int DEFAULT 1)
    RETURNS order_credit.stock_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_set_stock';
COMMENT ON FUNCTION order_credit.set_stock(text, bigint, int) IS
    'Creates an item or sets its on_hand level (audited as kind set). buckets > 1 stripes a hot item over that many rows; changing the count keeps every unit and every live reservation. OC004 when on_hand would go below what is reserved.';

CREATE FUNCTION order_credit.adjust_stock(sku text, delta bigint, reason text)
    RETURNS order_credit.stock_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_adjust_stock';
COMMENT ON FUNCTION order_credit.adjust_stock(text, bigint, text) IS
    'Receipts, returns (delta > 0) and shrinkage (delta < 0), audited with the reason. OC004 when available would go below zero, OC005 unknown SKU.';

CREATE FUNCTION order_credit.stock_status(sku text)
    RETURNS order_credit.stock_status
    LANGUAGE c STABLE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_stock_status';
COMMENT ON FUNCTION order_credit.stock_status(text) IS
    'on_hand, reserved, available and bucket count of an item, summed over its buckets; expired reservations never count. OC005 if unknown.';

CREATE FUNCTION order_credit.reserve_stock(sku text, quantity bigint, order_ref text,
                                           expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS order_credit.stock_reservation
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_reserve_stock';
COMMENT ON FUNCTION order_credit.reserve_stock(text, bigint, text, interval) IS
    'Reserves quantity units of sku for order_ref. NULL expires_in: never expires. Idempotent on (order_ref, sku). OC004 insufficient stock, OC005 unknown SKU, OC009 same (order_ref, sku) with other arguments, 55P03 lock wait over order_credit.lock_timeout.';

CREATE FUNCTION order_credit.reserve_stock(items jsonb, order_ref text,
                                           expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS SETOF order_credit.stock_reservation
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_reserve_stock_items';
COMMENT ON FUNCTION order_credit.reserve_stock(jsonb, text, interval) IS
    'Reserves every item of [{"sku": ..., "quantity": ...}, ...] for order_ref, all or nothing, locking rows in sku order (no deadlock whatever the listed order). Duplicate SKUs and malformed elements raise 22023 naming the element. Returns one row per SKU, in sku order.';

CREATE FUNCTION order_credit.try_reserve_stock(sku text, quantity bigint, order_ref text,
                                               expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS TABLE (ok boolean, code text, message text, reservation_id bigint, available bigint)
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_try_reserve_stock';
COMMENT ON FUNCTION order_credit.try_reserve_stock(text, bigint, text, interval) IS
    'Like reserve_stock, but reports OC001-OC011 and lock timeouts as ok = false with the code name instead of raising. Invalid input still raises.';

CREATE FUNCTION order_credit.commit_stock(order_ref text)
    RETURNS SETOF order_credit.stock_reservation
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_commit_stock';
COMMENT ON FUNCTION order_credit.commit_stock(text) IS
    'Sale: commits every reservation of order_ref (on_hand and reserved drop, audited as kind sale). Committing again changes nothing. OC006 no reservation, OC007 released, OC008 expired.';

CREATE FUNCTION order_credit.release_stock(order_ref text, reason text DEFAULT NULL)
    RETURNS SETOF order_credit.stock_reservation
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_release_stock';
COMMENT ON FUNCTION order_credit.release_stock(text, text) IS
    'Releases every active reservation of order_ref (units back to available); a reservation past expiry is marked expired. Releasing again changes nothing. OC006 no reservation, OC007 committed.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.stock_status(text)', 'app'),
    ('order_credit.reserve_stock(text, bigint, text, interval)', 'app'),
    ('order_credit.reserve_stock(jsonb, text, interval)', 'app'),
    ('order_credit.try_reserve_stock(text, bigint, text, interval)', 'app'),
    ('order_credit.commit_stock(text)', 'app'),
    ('order_credit.release_stock(text, text)', 'app'),
    ('order_credit.set_stock(text, bigint, int)', 'admin'),
    ('order_credit.adjust_stock(text, bigint, text)', 'admin');

-- Invariants of the stock area, one row per violation (part of verify()).
CREATE FUNCTION order_credit._verify_stock()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- Each bucket's reserved equals the parts of the claims in it.
    WITH parts AS (
        SELECT c.sku, p.b AS bucket, sum(p.q)::bigint AS q
          FROM order_credit.reservation_claims c,
               unnest(coalesce(c.part_buckets, '{0}'), coalesce(c.part_qty, ARRAY[c.quantity])) AS p(b, q)
         GROUP BY c.sku, p.b),
    claim_count AS (
        SELECT c.reservation_id, count(*) AS n
          FROM order_credit.reservation_claims c GROUP BY c.reservation_id)
    SELECT 'stock_reserved', coalesce(s.sku, p.sku) || '#' || coalesce(s.bucket, p.bucket),
           format('reserved=%s, sum of claimed reservation parts=%s', s.reserved, coalesce(p.q, 0))
      FROM order_credit.stock_buckets s
      FULL JOIN parts p ON p.sku = s.sku AND p.bucket = s.bucket
     WHERE s.reserved IS DISTINCT FROM coalesce(p.q, 0)
    UNION ALL
    -- Every claim is of an active reservation, with its sku, quantity,
    -- parts and expiry.
    SELECT 'claim_reservation', c.sku || '/' || c.reservation_id,
           CASE WHEN r.reservation_id IS NULL THEN 'no such reservation'
                ELSE format('reservation %s/%s: status=%s, quantity=%s, parts=%s x %s, expires_at=%s; '
                            'claim: quantity=%s, parts=%s x %s, expires_at=%s',
                            r.order_ref, r.sku, r.status, r.quantity,
                            coalesce(r.part_buckets, '{0}'), coalesce(r.part_qty, ARRAY[r.quantity]),
                            r.expires_at, c.quantity, c.part_buckets, c.part_qty, c.expires_at) END
      FROM order_credit.reservation_claims c
      LEFT JOIN order_credit.reservations r ON r.reservation_id = c.reservation_id
     WHERE r.reservation_id IS NULL OR r.status <> 'active' OR r.sku <> c.sku
        OR r.quantity <> c.quantity
        OR coalesce(r.part_buckets, '{0}') <> coalesce(c.part_buckets, '{0}')
        OR coalesce(r.part_qty, ARRAY[r.quantity]) <> coalesce(c.part_qty, ARRAY[c.quantity])
        OR coalesce(r.expires_at, 'infinity') <> c.expires_at
    UNION ALL
    -- Every active reservation not past its expiry has exactly one claim
    -- (its units are counted); no reservation has more than one.
    SELECT 'reservation_claim', r.order_ref || '/' || r.sku,
           format('status=%s, expires_at=%s, claims=%s', r.status, r.expires_at, coalesce(n.n, 0))
      FROM order_credit.reservations r
      LEFT JOIN claim_count n ON n.reservation_id = r.reservation_id
     WHERE coalesce(n.n, 0) > 1
        OR (coalesce(n.n, 0) = 0 AND r.status = 'active'
            AND (r.expires_at IS NULL OR r.expires_at > statement_timestamp()))
    UNION ALL
    -- No bucket (hence no item) is oversold.
    SELECT 'stock_oversold', s.sku || '#' || s.bucket,
           format('on_hand=%s, reserved=%s', s.on_hand, s.reserved)
      FROM order_credit.stock_buckets s
     WHERE s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand
    UNION ALL
    -- An item has exactly buckets 0..buckets-1.
    SELECT 'stock_buckets', i.sku,
           format('buckets=%s, rows=%s, highest bucket=%s', i.buckets, b.n, b.hi)
      FROM order_credit.items i
      CROSS JOIN LATERAL (SELECT count(*) AS n, max(bucket) AS hi FROM order_credit.stock_buckets
                           WHERE sku = i.sku) b
     WHERE b.n <> i.buckets OR b.hi <> i.buckets - 1
    UNION ALL
    -- Every reservation is of a known item.
    SELECT 'reservation_item', r.order_ref || '/' || r.sku, 'no such item'
      FROM order_credit.reservations r
     WHERE NOT EXISTS (SELECT 1 FROM order_credit.items i WHERE i.sku = r.sku)
    UNION ALL
    -- A reservation's parts add up to its quantity, in distinct buckets
    -- (NULL parts: all of it from bucket 0).
    SELECT 'reservation_parts', r.order_ref || '/' || r.sku,
           format('quantity=%s, parts=%s x %s', r.quantity, r.part_buckets, r.part_qty)
      FROM order_credit.reservations r
     WHERE (r.part_buckets IS NULL) <> (r.part_qty IS NULL)
        OR (SELECT sum(q) FROM unnest(r.part_qty) q) <> r.quantity
        OR EXISTS (SELECT 1 FROM unnest(r.part_qty) q WHERE q <= 0)
        OR (SELECT count(DISTINCT b) FROM unnest(r.part_buckets) b) <> cardinality(r.part_buckets)
    UNION ALL
    -- on_hand equals what the audit adds up to, and the newest entry carries it.
    SELECT 'stock_audit', i.sku,
           format('on_hand=%s, audit sum=%s, last on_hand_after=%s', b.on_hand, a.s, l.on_hand_after)
      FROM order_credit.items i
      CROSS JOIN LATERAL (SELECT coalesce(sum(on_hand), 0) AS on_hand FROM order_credit.stock_buckets
                           WHERE sku = i.sku) b
      CROSS JOIN LATERAL (SELECT coalesce(sum(delta), 0) AS s FROM order_credit.stock_audit
                           WHERE sku = i.sku) a
      LEFT JOIN LATERAL (SELECT on_hand_after FROM order_credit.stock_audit
                          WHERE sku = i.sku ORDER BY audit_id DESC LIMIT 1) l ON true
     WHERE b.on_hand <> a.s OR l.on_hand_after IS DISTINCT FROM b.on_hand
    UNION ALL
    -- Every audit entry follows from the one before it.
    SELECT 'stock_audit_chain', c.sku,
           format('entry %s (%s %s) goes from on_hand=%s to %s', c.audit_id, c.kind, c.delta,
                  c.prev, c.on_hand_after)
      FROM (SELECT a.*, coalesce(lag(a.on_hand_after) OVER w, 0) AS prev
              FROM order_credit.stock_audit a WINDOW w AS (PARTITION BY a.sku ORDER BY a.audit_id)) c
     WHERE c.on_hand_after <> c.prev + c.delta
$$;
-- ===================================================================
-- Coordination: idempotency keys, named locks, leases with fencing
-- tokens, exactly-once events (API.md sections 4 and 5).
-- See docs/coordination.md.
-- ===================================================================

CREATE TABLE order_credit.idempotency_keys (
    key               text PRIMARY KEY,
    fingerprint       text NOT NULL,
    state             text NOT NULL DEFAULT 'in_progress',
    response          jsonb,
    response_code     int,
    recovery_point    text,
    -- the lease as requested (renewed by each checkpoint) and when it lapses;
    -- NULL: protected only by the transaction that began or resumed the key
    lease             interval,
    lease_expires_at  timestamptz,
    resumed           int NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    completed_at      timestamptz
);
CREATE INDEX idempotency_keys_created ON order_credit.idempotency_keys (created_at);
COMMENT ON TABLE order_credit.idempotency_keys IS
    'One row per idempotency key: in_progress (begun) or completed (response stored for replay). Kept order_credit.idempotency_ttl, then purged.';

CREATE TABLE order_credit.leases (
    key          text PRIMARY KEY,
    owner        text,   -- NULL: free
    token        bigint NOT NULL,
    expires_at   timestamptz,
    acquired_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT statement_timestamp()
);
COMMENT ON TABLE order_credit.leases IS
    'One row per lease key, kept forever so that fencing tokens only grow. owner NULL: released. A lease past expires_at may be taken by anyone.';

CREATE TABLE order_credit.processed_events (
    source        text NOT NULL,
    event_id      text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (source, event_id)
);
CREATE INDEX processed_events_at ON order_credit.processed_events (processed_at);
COMMENT ON TABLE order_credit.processed_events IS
    'Events process_once() has answered true for (committed with the caller''s writes). Kept order_credit.event_retention, then purged.';

-- ------------------------------------------------------------------
-- Idempotency keys
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.idempotency_begin(key text, fingerprint text,
                                               lease interval DEFAULT NULL,
                                               wait boolean DEFAULT false)
    RETURNS TABLE (state text, response jsonb, response_code int,
                   recovery_point text, retry_after interval)
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_idempotency_begin';
COMMENT ON FUNCTION order_credit.idempotency_begin(text, text, interval, boolean) IS
    'Starts (new), replays (replay: stored response and code), refuses (in_progress: another transaction or live lease holds the key; retry_after when a lease is known) or resumes (resume: a lease lapsed; recovery_point) an idempotent request. Same key, other fingerprint: OC009. wait = true waits (order_credit.lock_timeout, then 55P03) for the holding transaction instead of answering in_progress.';

CREATE FUNCTION order_credit.idempotency_checkpoint(key text, recovery_point text)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_idempotency_checkpoint';
COMMENT ON FUNCTION order_credit.idempotency_checkpoint(text, text) IS
    'Records how far an in-progress request got (returned as recovery_point by a later resume) and renews its lease by the lease given to begin. OC006 unknown key, OC007 already completed.';

CREATE FUNCTION order_credit.idempotency_complete(key text, response jsonb,
                                                  response_code int DEFAULT 200)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_idempotency_complete';
COMMENT ON FUNCTION order_credit.idempotency_complete(text, jsonb, int) IS
    'Stores the response of an in-progress key; every later begin replays it. Completing again with the same response changes nothing; another response raises OC009. OC006 if the key was never begun. response_code 100..599.';

-- ------------------------------------------------------------------
-- Named locks
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.lock(key text, timeout interval DEFAULT NULL)
    RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_lock';
COMMENT ON FUNCTION order_credit.lock(text, interval) IS
    'Takes a transaction-scoped exclusive lock named key, in the extension''s own advisory-lock space (pg_locks: classid/objid = hashtextextended(key, 20291) high/low 32 bits, objsubid = 20291). Waits at most timeout (NULL: order_credit.lock_timeout), then 55P03.';

CREATE FUNCTION order_credit.try_lock(key text)
    RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_try_lock';
COMMENT ON FUNCTION order_credit.try_lock(text) IS
    'Like lock(key) but never waits: false when another transaction holds the lock.';

-- ------------------------------------------------------------------
-- Leases with fencing tokens
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.acquire_lease(key text, owner text, ttl interval)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_acquire_lease';
COMMENT ON FUNCTION order_credit.acquire_lease(text, text, interval) IS
    'Acquires the lease key for owner until the database clock passes now + ttl and returns its fencing token (larger than every token issued before for key); NULL while another owner holds a live lease. The same owner acquiring its live lease again gets its current token, unchanged.';

CREATE FUNCTION order_credit.renew_lease(key text, owner text, token bigint, ttl interval)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_renew_lease';
COMMENT ON FUNCTION order_credit.renew_lease(text, text, bigint, interval) IS
    'Extends the lease to now + ttl when owner still holds it with token (also after it lapsed, as long as nobody acquired it since); false otherwise.';

CREATE FUNCTION order_credit.release_lease(key text, owner text, token bigint)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_release_lease';
COMMENT ON FUNCTION order_credit.release_lease(text, text, bigint) IS
    'Frees the lease when owner holds it with token; false otherwise (already released, or acquired by someone else since). The token is never reused.';

CREATE FUNCTION order_credit.check_fence(key text, token bigint)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_check_fence';
COMMENT ON FUNCTION order_credit.check_fence(text, bigint) IS
    'Raises OC011 unless token is the newest fencing token of lease key (OC006 if the key never had a lease). Share-locks the lease row until the transaction ends, so no newer token can be issued before the caller''s fenced writes commit.';

-- ------------------------------------------------------------------
-- Exactly-once events
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit.process_once(source text, event_id text)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_process_once';
COMMENT ON FUNCTION order_credit.process_once(text, text) IS
    'True the first time (source, event_id) is seen, false afterwards; atomic with the caller''s transaction (a rollback makes the event unprocessed again). A concurrent duplicate waits for the first transaction (order_credit.lock_timeout), then answers false, or true if the first rolled back.';

-- ------------------------------------------------------------------
-- Purge (called by expire_due)
-- ------------------------------------------------------------------

CREATE FUNCTION order_credit._purge_coordination(max_rows int)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_purge_coordination';
COMMENT ON FUNCTION order_credit._purge_coordination(int) IS
    'Deletes at most max_rows rows: idempotency keys created more than order_credit.idempotency_ttl ago (unless their lease is live), then events processed more than order_credit.event_retention ago. Skips rows locked by others. Returns the number deleted. Called by expire_due().';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.idempotency_begin(text, text, interval, boolean)', 'app'),
    ('order_credit.idempotency_checkpoint(text, text)', 'app'),
    ('order_credit.idempotency_complete(text, jsonb, int)', 'app'),
    ('order_credit.lock(text, interval)', 'app'),
    ('order_credit.try_lock(text)', 'app'),
    ('order_credit.acquire_lease(text, text, interval)', 'app'),
    ('order_credit.renew_lease(text, text, bigint, interval)', 'app'),
    ('order_credit.release_lease(text, text, bigint)', 'app'),
    ('order_credit.check_fence(text, bigint)', 'app'),
    ('order_credit.process_once(text, text)', 'app');
-- ===================================================================
-- Orders: stock + credit reserved together, paid or timed out
-- ===================================================================

CREATE TABLE order_credit.orders (
    order_ref    text PRIMARY KEY,
    account      text REFERENCES order_credit.accounts (account),
    status       text NOT NULL,
    amount       numeric NOT NULL,
    items        jsonb NOT NULL,
    expires_in   interval,
    expires_at   timestamptz,
    payment_ref  text,
    created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT statement_timestamp()
);
CREATE INDEX orders_pending_expiry ON order_credit.orders (expires_at) WHERE status = 'pending';
COMMENT ON TABLE order_credit.orders IS
    'Orders placed with place_order(). A pending order past expires_at reads as expired.';

CREATE TABLE order_credit.order_history (
    entry_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_ref    text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
    created_by   text NOT NULL
);
CREATE INDEX order_history_ref ON order_credit.order_history (order_ref, entry_id);
COMMENT ON TABLE order_credit.order_history IS
    'Append-only history of every order transition: from, to, when, who, why.';
CREATE TRIGGER order_history_append_only BEFORE UPDATE OR DELETE ON order_credit.order_history
    FOR EACH ROW EXECUTE FUNCTION order_credit.append_only();
CREATE TRIGGER order_history_append_only_truncate BEFORE TRUNCATE ON order_credit.order_history
    FOR EACH STATEMENT EXECUTE FUNCTION order_credit.append_only();

CREATE TYPE order_credit.order_status AS (
    order_ref   text,
    account     text,
    status      text,
    amount      numeric,
    expires_at  timestamptz,
    updated_at  timestamptz
);

CREATE FUNCTION order_credit.place_order(order_ref text, items jsonb, account text DEFAULT NULL,
                                         expires_in interval DEFAULT order_credit.default_ttl())
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_place_order';
COMMENT ON FUNCTION order_credit.place_order(text, jsonb, text, interval) IS
    'Places an order: reserves every item and, with an account, credit for sum(quantity * unit_price); all or nothing. items: [{"sku","quantity","unit_price"}], each SKU once.';

CREATE FUNCTION order_credit.confirm_order(order_ref text, payment_ref text DEFAULT NULL)
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_confirm_order';
COMMENT ON FUNCTION order_credit.confirm_order(text, text) IS
    'pending -> paid: commits the stock (a sale) and captures the credit. OC008 once expired, OC007 if cancelled; confirming a paid order again returns it.';

CREATE FUNCTION order_credit.set_order_status(order_ref text, status text)
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_set_order_status';
COMMENT ON FUNCTION order_credit.set_order_status(text, text) IS
    'paid -> processing -> shipped -> delivered, one step at a time (OC007 otherwise); setting the current status again changes nothing.';

CREATE FUNCTION order_credit.cancel_order(order_ref text, reason text DEFAULT NULL)
    RETURNS order_credit.order_status
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_cancel_order';
COMMENT ON FUNCTION order_credit.cancel_order(text, text) IS
    'Cancels a pending (releases stock, voids credit), paid or processing order (restocks, reverses credit). OC007 from other states.';

CREATE FUNCTION order_credit.order_status(order_ref text)
    RETURNS order_credit.order_status
    LANGUAGE c STABLE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_order_status';
COMMENT ON FUNCTION order_credit.order_status(text) IS
    'The order as it stands; a pending order past expires_at reads expired. OC006 if unknown.';

CREATE FUNCTION order_credit._verify_orders()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'order_amount', o.order_ref, format('amount=%s, items total=%s', o.amount, t.total)
      FROM order_credit.orders o
      CROSS JOIN LATERAL (SELECT coalesce(sum((e->>'quantity')::numeric * (e->>'unit_price')::numeric), 0) AS total
                            FROM jsonb_array_elements(o.items) e) t
     WHERE o.amount <> t.total
    UNION ALL
    -- The order's current status is the last transition in its history.
    SELECT 'order_history', o.order_ref, format('status=%s, last history entry=%s', o.status, h.to_status)
      FROM order_credit.orders o
      CROSS JOIN LATERAL (SELECT to_status FROM order_credit.order_history
                           WHERE order_ref = o.order_ref ORDER BY entry_id DESC LIMIT 1) h
     WHERE h.to_status <> o.status
$$;

COMMENT ON FUNCTION order_credit._verify_orders() IS
    'Order invariant checks used by verify().';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.place_order(text, jsonb, text, interval)', 'app'),
    ('order_credit.confirm_order(text, text)', 'app'),
    ('order_credit.set_order_status(text, text)', 'app'),
    ('order_credit.cancel_order(text, text)', 'app'),
    ('order_credit.order_status(text)', 'app');
-- ===================================================================
-- Row checks: each table's integrity rules (the CHECK constraints a column
-- list would carry) in ONE constraint per table that calls a C function over
-- the whole row. The rules live in src/core/row_checks.cpp. PostgreSQL 15
-- re-reads every CHECK expression of a table from its stored text in every
-- statement that writes it; a dozen small constraints cost more than the
-- statement's own work (see docs/benchmarks.md), one short one does not.
-- A broken rule raises 23514 (check_violation) naming the constraint, the
-- column and the rule, like a column CHECK would.
-- ===================================================================

CREATE FUNCTION order_credit._row_valid(order_credit.accounts) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.accounts) IS
    'Row check of accounts (its CHECK constraint accounts_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.accounts ADD CONSTRAINT accounts_row_check CHECK (order_credit._row_valid(accounts));
COMMENT ON CONSTRAINT accounts_row_check ON order_credit.accounts IS
    'Rules: account and currency 1 to 200 characters; credit_limit, posted, pending >= 0; status active or blocked.';

CREATE FUNCTION order_credit._row_valid(order_credit.holds) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.holds) IS
    'Row check of holds (its CHECK constraint holds_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.holds ADD CONSTRAINT holds_row_check CHECK (order_credit._row_valid(holds));
COMMENT ON CONSTRAINT holds_row_check ON order_credit.holds IS
    'Rules: order_ref 1 to 200 characters; amount > 0; 0 <= captured <= amount; status pending, captured, voided, expired or reversed.';

CREATE FUNCTION order_credit._row_valid(order_credit.payments) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.payments) IS
    'Row check of payments (its CHECK constraint payments_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.payments ADD CONSTRAINT payments_row_check CHECK (order_credit._row_valid(payments));
COMMENT ON CONSTRAINT payments_row_check ON order_credit.payments IS
    'Rules: payment_ref 1 to 200 characters; amount > 0.';

CREATE FUNCTION order_credit._row_valid(order_credit.ledger) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.ledger) IS
    'Row check of ledger (its CHECK constraint ledger_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.ledger ADD CONSTRAINT ledger_row_check CHECK (order_credit._row_valid(ledger));
COMMENT ON CONSTRAINT ledger_row_check ON order_credit.ledger IS
    'Rules: kind one of hold, capture, void, expire, reverse, payment, limit, block, unblock.';

CREATE FUNCTION order_credit._row_valid(order_credit.idempotency_keys) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.idempotency_keys) IS
    'Row check of idempotency_keys (its CHECK constraint idempotency_keys_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.idempotency_keys ADD CONSTRAINT idempotency_keys_row_check CHECK (order_credit._row_valid(idempotency_keys));
COMMENT ON CONSTRAINT idempotency_keys_row_check ON order_credit.idempotency_keys IS
    'Rules: key 1 to 200 characters; fingerprint and recovery_point 1 to 1000; state in_progress or completed; response_code 100 to 599; completed exactly when response and response_code are set.';

CREATE FUNCTION order_credit._row_valid(order_credit.leases) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.leases) IS
    'Row check of leases (its CHECK constraint leases_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.leases ADD CONSTRAINT leases_row_check CHECK (order_credit._row_valid(leases));
COMMENT ON CONSTRAINT leases_row_check ON order_credit.leases IS
    'Rules: key and owner 1 to 200 characters; token > 0; owner set exactly when expires_at is set.';

CREATE FUNCTION order_credit._row_valid(order_credit.processed_events) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.processed_events) IS
    'Row check of processed_events (its CHECK constraint processed_events_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.processed_events ADD CONSTRAINT processed_events_row_check CHECK (order_credit._row_valid(processed_events));
COMMENT ON CONSTRAINT processed_events_row_check ON order_credit.processed_events IS
    'Rules: source and event_id 1 to 200 characters.';

CREATE FUNCTION order_credit._row_valid(order_credit.orders) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.orders) IS
    'Row check of orders (its CHECK constraint orders_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.orders ADD CONSTRAINT orders_row_check CHECK (order_credit._row_valid(orders));
COMMENT ON CONSTRAINT orders_row_check ON order_credit.orders IS
    'Rules: order_ref 1 to 200 characters; status pending, paid, processing, shipped, delivered, cancelled or expired; amount >= 0.';

CREATE FUNCTION order_credit._row_valid(order_credit.items) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.items) IS
    'Row check of items (its CHECK constraint items_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.items ADD CONSTRAINT items_row_check CHECK (order_credit._row_valid(items));
COMMENT ON CONSTRAINT items_row_check ON order_credit.items IS
    'Rules: sku 1 to 200 characters; buckets 1 to 1024.';
CREATE FUNCTION order_credit._row_valid(order_credit.stock_buckets) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.stock_buckets) IS
    'Row check of stock_buckets (its CHECK constraint stock_buckets_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.stock_buckets ADD CONSTRAINT stock_buckets_row_check CHECK (order_credit._row_valid(stock_buckets));
COMMENT ON CONSTRAINT stock_buckets_row_check ON order_credit.stock_buckets IS
    'Rules: bucket >= 0; on_hand >= 0; 0 <= reserved <= on_hand.';
CREATE FUNCTION order_credit._row_valid(order_credit.reservations) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.reservations) IS
    'Row check of reservations (its CHECK constraint reservations_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.reservations ADD CONSTRAINT reservations_row_check CHECK (order_credit._row_valid(reservations));
COMMENT ON CONSTRAINT reservations_row_check ON order_credit.reservations IS
    'Rules: order_ref 1 to 200 characters; quantity > 0; status active, committed, released or expired; part_buckets and part_qty both NULL (all units in bucket 0) or of the same, non-zero length.';
CREATE FUNCTION order_credit._row_valid(order_credit.stock_audit) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.stock_audit) IS
    'Row check of stock_audit (its CHECK constraint stock_audit_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.stock_audit ADD CONSTRAINT stock_audit_row_check CHECK (order_credit._row_valid(stock_audit));
COMMENT ON CONSTRAINT stock_audit_row_check ON order_credit.stock_audit IS
    'Rules: kind set, adjust, sale or restripe.';

CREATE FUNCTION order_credit._row_valid(order_credit.reservation_claims) RETURNS boolean
    AS 'MODULE_PATHNAME', 'oc_row_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION order_credit._row_valid(order_credit.reservation_claims) IS
    'Row check of reservation_claims (its CHECK constraint reservation_claims_row_check): true, or raises 23514 naming the broken rule.';
ALTER TABLE order_credit.reservation_claims ADD CONSTRAINT reservation_claims_row_check CHECK (order_credit._row_valid(reservation_claims));
COMMENT ON CONSTRAINT reservation_claims_row_check ON order_credit.reservation_claims IS
    'Rules: quantity > 0; part_buckets and part_qty both NULL (all units in bucket 0) or of the same, non-zero length.';
-- ===================================================================
-- Live statistics for DBAs (shared memory; needs shared_preload_libraries)
-- ===================================================================

CREATE FUNCTION order_credit._stats()
    RETURNS TABLE (operation text, outcome text, calls bigint, total_ms double precision,
                   max_ms double precision, lock_wait_ms double precision)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats';
COMMENT ON FUNCTION order_credit._stats() IS
    'Reads the shared-memory counters behind order_credit.stats.';

CREATE VIEW order_credit.stats AS
SELECT operation, outcome, calls, total_ms, max_ms, lock_wait_ms
  FROM order_credit._stats();
COMMENT ON VIEW order_credit.stats IS
    'Calls, total and max time, and time in lock-acquiring steps per operation and outcome. Fed from shared memory: EMPTY unless order_credit is in shared_preload_libraries (every function works without it). Reset with order_credit.stats_reset().';

CREATE FUNCTION order_credit.stats_reset() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_reset';
COMMENT ON FUNCTION order_credit.stats_reset() IS
    'Zeroes every counter of order_credit.stats.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.stats_reset()', 'admin'),
    ('order_credit._stats()', 'admin');
-- ===================================================================
-- verify(): every invariant, one row per violation (no rows: all hold)
-- ===================================================================
-- Areas add checks by adding a branch to order_credit._verify_checks
-- (credit here; stock and orders in their own files).

CREATE FUNCTION order_credit._verify_credit()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- Balances on the account row equal what the ledger adds up to.
    WITH sums AS (
        SELECT l.account,
               coalesce(sum(l.amount) FILTER (WHERE l.kind = 'hold'), 0)
             - coalesce(sum(l.amount) FILTER (WHERE l.kind IN ('capture', 'void', 'expire')), 0) AS pending,
               coalesce(sum(l.amount) FILTER (WHERE l.kind = 'capture'), 0)
             - coalesce(sum(l.amount) FILTER (WHERE l.kind IN ('reverse', 'payment')), 0) AS posted
          FROM order_credit.ledger l GROUP BY l.account)
    SELECT 'ledger_balance', a.account,
           format('posted=%s, ledger posted=%s, pending=%s, ledger pending=%s',
                  a.posted, coalesce(s.posted, 0), a.pending, coalesce(s.pending, 0))
      FROM order_credit.accounts a LEFT JOIN sums s USING (account)
     WHERE a.posted <> coalesce(s.posted, 0) OR a.pending <> coalesce(s.pending, 0)
    UNION ALL
    -- pending equals the sum of holds still pending in storage.
    SELECT 'pending_holds', a.account, format('pending=%s, sum of pending holds=%s', a.pending, h.s)
      FROM order_credit.accounts a
      CROSS JOIN LATERAL (SELECT coalesce(sum(amount), 0) AS s FROM order_credit.holds
                           WHERE account = a.account AND status = 'pending') h
     WHERE a.pending <> h.s
    UNION ALL
    -- The newest ledger entry carries the account's current balances.
    SELECT 'ledger_last_entry', a.account,
           format('posted=%s pending=%s, last entry %s has posted_after=%s pending_after=%s',
                  a.posted, a.pending, l.entry_id, l.posted_after, l.pending_after)
      FROM order_credit.accounts a
      CROSS JOIN LATERAL (SELECT entry_id, posted_after, pending_after FROM order_credit.ledger
                           WHERE account = a.account ORDER BY entry_id DESC LIMIT 1) l
     WHERE l.posted_after <> a.posted OR l.pending_after <> a.pending
    UNION ALL
    -- Every entry follows from the one before it.
    SELECT 'ledger_chain', c.account,
           format('entry %s (%s %s) goes from posted=%s pending=%s to posted=%s pending=%s',
                  c.entry_id, c.kind, c.amount, c.prev_posted, c.prev_pending, c.posted_after, c.pending_after)
      FROM (SELECT l.*,
                   coalesce(lag(l.posted_after) OVER w, 0) AS prev_posted,
                   coalesce(lag(l.pending_after) OVER w, 0) AS prev_pending
              FROM order_credit.ledger l WINDOW w AS (PARTITION BY l.account ORDER BY l.entry_id)) c
     WHERE c.posted_after <> c.prev_posted + CASE c.kind WHEN 'capture' THEN c.amount
                                                         WHEN 'reverse' THEN -c.amount
                                                         WHEN 'payment' THEN -c.amount ELSE 0 END
        OR c.pending_after <> c.prev_pending + CASE c.kind WHEN 'hold' THEN c.amount
                                                           WHEN 'capture' THEN -c.amount
                                                           WHEN 'void' THEN -c.amount
                                                           WHEN 'expire' THEN -c.amount ELSE 0 END
    UNION ALL
    SELECT 'ledger_orphan', l.account, format('%s ledger entries for an unknown account', count(*))
      FROM order_credit.ledger l
     WHERE NOT EXISTS (SELECT 1 FROM order_credit.accounts a WHERE a.account = l.account)
     GROUP BY l.account
    UNION ALL
    -- next_expiry must never lie after a pending hold's expiry (it gates exact reads).
    SELECT 'next_expiry', a.account, format('next_expiry=%s, earliest pending hold expires %s', a.next_expiry, h.m)
      FROM order_credit.accounts a
      CROSS JOIN LATERAL (SELECT min(expires_at) AS m FROM order_credit.holds
                           WHERE account = a.account AND status = 'pending') h
     WHERE h.m IS NOT NULL AND (a.next_expiry IS NULL OR a.next_expiry > h.m)
    UNION ALL
    SELECT 'hold_captured', h.order_ref, format('status=%s, captured=%s', h.status, h.captured)
      FROM order_credit.holds h
     WHERE (h.status IN ('captured', 'reversed')) <> (h.captured > 0)
$$;

COMMENT ON FUNCTION order_credit._verify_credit() IS
    'Credit-line invariant checks used by verify().';
-- The list of invariant checks verify() runs. Each area appends its own
-- _verify_<area>() to this union.
CREATE FUNCTION order_credit._verify_checks()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM order_credit._verify_credit()
    UNION ALL
    SELECT * FROM order_credit._verify_stock()
    UNION ALL
    SELECT * FROM order_credit._verify_orders()
$$;

COMMENT ON FUNCTION order_credit._verify_checks() IS
    'Union of every area''s invariant checks; verify() orders and returns them.';

CREATE FUNCTION order_credit.verify()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM order_credit._verify_checks() ORDER BY 1, 2
$$;
COMMENT ON FUNCTION order_credit.verify() IS
    'Checks every invariant (ledger adds up to balances, pending equals live holds, ...): one row per violation, no rows when all hold.';
-- ===================================================================
-- expire_due(): the sweep. One C++ entry point (src/pg/expire.cpp) runs
-- each area's step in turn with the remaining row budget; an area adds its
-- purge step (idempotency keys, events, orders) to the step list there.
-- ===================================================================

CREATE FUNCTION order_credit.expire_due(max_rows int DEFAULT 10000)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_expire_due';
COMMENT ON FUNCTION order_credit.expire_due(int) IS
    'Marks at most max_rows due credit holds, stock reservations and pending orders expired and gives their credit and units back, then purges idempotency keys and events past their retention; returns how many rows it changed. Never waits for a row lock: rows a live transaction holds are skipped and taken next time. Safe from several sessions at once.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.expire_due(int)', 'admin');
-- ===================================================================
-- Privileges: nothing is usable by PUBLIC except default_ttl() (needed to
-- evaluate DEFAULT expressions). Roles get access through grant_app() and
-- grant_admin(), run by the extension owner or a superuser.
-- ===================================================================

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.verify()', 'admin');

REVOKE ALL ON ALL TABLES IN SCHEMA order_credit FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA order_credit FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA order_credit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION order_credit.default_ttl() TO PUBLIC;

CREATE FUNCTION order_credit.grant_app(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
    v text;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = '22004';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA order_credit TO %s', role);
    FOR f IN SELECT function FROM order_credit.function_access WHERE tier = 'app' LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f, role);
    END LOOP;
    FOR v IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'order_credit'::regnamespace AND c.relkind = 'v'
                AND c.relname IN ('active_holds', 'active_reservations') LOOP
        EXECUTE format('GRANT SELECT ON order_credit.%I TO %s', v, role);
    END LOOP;
END
$$;
COMMENT ON FUNCTION order_credit.grant_app(regrole) IS
    'Lets a role call the operational functions (reserve, capture, release, payments, status) and read the active_* views. It still cannot write any table directly, change limits or block accounts.';

CREATE FUNCTION order_credit.grant_admin(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    PERFORM order_credit.grant_app(role);
    FOR f IN SELECT function FROM order_credit.function_access WHERE tier = 'admin' LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f, role);
    END LOOP;
    -- Read-only access to every table and view, for DBAs.
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA order_credit TO %s', role);
END
$$;
COMMENT ON FUNCTION order_credit.grant_admin(regrole) IS
    'grant_app plus the admin functions (create_account, set_credit_limit, block/unblock, verify, ...) and read-only access to every table.';

CREATE FUNCTION order_credit.revoke_access(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT function FROM order_credit.function_access LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, role);
    END LOOP;
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA order_credit FROM %s', role);
    EXECUTE format('REVOKE USAGE ON SCHEMA order_credit FROM %s', role);
END
$$;
COMMENT ON FUNCTION order_credit.revoke_access(regrole) IS
    'Takes back what grant_app / grant_admin gave a role.';

REVOKE EXECUTE ON FUNCTION order_credit.grant_app(regrole), order_credit.grant_admin(regrole),
    order_credit.revoke_access(regrole) FROM PUBLIC;
