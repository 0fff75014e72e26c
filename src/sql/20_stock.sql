-- ===================================================================
-- Stock: items striped over bucket rows, reservations (reserve -> commit |
-- release | expire), append-only audit of every change to on_hand.
-- ===================================================================

CREATE TABLE order_credit.items (
    sku         text PRIMARY KEY,
    buckets     int NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- set_stock_alert's threshold (NULL: none); each bucket carries its
    -- share in stock_buckets.alert_below.
    alert_threshold bigint
);
COMMENT ON TABLE order_credit.items IS
    'Stocked items. The levels live in stock_buckets: an item is striped over `buckets` rows so concurrent reservations do not queue on one row lock.';

CREATE TABLE order_credit.stock_buckets (
    sku         text NOT NULL REFERENCES order_credit.items (sku),
    bucket      int NOT NULL,
    on_hand     bigint NOT NULL,
    reserved    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    -- This bucket's share of the item's alert threshold (core::bucket_share;
    -- NULL: no threshold), in the row every writer of the bucket already
    -- reads and locks: the crossing rule needs no other lookup.
    alert_below bigint,
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
-- relies on no concurrent UPDATE (src/pg/stock/stock.cpp, S_expire_stock_batch).
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

CREATE TYPE order_credit.stock_alert AS (
    sku          text,
    threshold    bigint,
    buckets      int,
    available    bigint,
    low_buckets  int
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

-- Items with an alert threshold and where they stand (docs/monitoring.md).
CREATE VIEW order_credit.stock_alerts AS
SELECT i.sku, i.alert_threshold AS threshold, i.buckets, l.available,
       (SELECT count(*) FROM order_credit.stock_buckets s
         WHERE s.sku = i.sku AND s.on_hand - s.reserved <= s.alert_below)::int AS low_buckets
  FROM order_credit.items i JOIN order_credit.stock_levels l ON l.sku = i.sku
 WHERE i.alert_threshold IS NOT NULL;
COMMENT ON VIEW order_credit.stock_alerts IS
    'Items with an alert threshold: threshold, available (exact, as stock_status), and low_buckets, the buckets at or below their share of the threshold (levels as stored: a reservation past expiry counts until it is expired). An item''s available can be at or below its threshold only while low_buckets > 0.';

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
CREATE FUNCTION order_credit.set_stock_alert(sku text, threshold bigint)
    RETURNS order_credit.stock_alert
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_set_stock_alert';
COMMENT ON FUNCTION order_credit.set_stock_alert(text, bigint) IS
    'Sets the alert threshold of an item (NULL removes it): channel order_credit_stock is notified when a bucket''s available units fall to or below its share of the threshold, and when they rise above it again (docs/monitoring.md). Setting it notifies nothing. 22023 negative threshold, OC005 unknown SKU.';

CREATE FUNCTION order_credit._stock_crossed(sku text, bucket int, before bigint, after bigint,
                                            threshold bigint)
    RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stock_crossed';
COMMENT ON FUNCTION order_credit._stock_crossed(text, int, bigint, bigint, bigint) IS
    'Internal: the threshold rule for the stock statements (a bucket''s available units went from before to after): notifies order_credit_stock and returns true when they crossed threshold.';

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
    ('order_credit.adjust_stock(text, bigint, text)', 'admin'),
    ('order_credit.set_stock_alert(text, bigint)', 'admin');

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

-- Alert shares (part of verify()): an item's threshold is carried by its
-- buckets, each with its share (core::bucket_share), the shares adding up to
-- the threshold; an item without one has no shares.
CREATE FUNCTION order_credit._verify_stock_alerts()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'stock_alert', i.sku,
           format('threshold=%s, buckets=%s, buckets with a share=%s, sum of shares=%s, lowest share=%s',
                  i.alert_threshold, b.n, b.shares, b.s, b.lo)
      FROM order_credit.items i
      CROSS JOIN LATERAL (SELECT count(*) AS n, count(alert_below) AS shares,
                                 sum(alert_below) AS s, min(alert_below) AS lo
                            FROM order_credit.stock_buckets WHERE sku = i.sku) b
     WHERE CASE WHEN i.alert_threshold IS NULL THEN b.shares > 0
                ELSE b.shares <> b.n OR b.s <> i.alert_threshold OR b.lo < 0 END
$$;
COMMENT ON FUNCTION order_credit._verify_stock_alerts() IS
    'Stock alert invariant checks used by verify(): the buckets'' shares add up to the item''s threshold.';
