-- The listener test's workload (test/monitoring/notify_listener.sh). Each
-- transaction changes one item through one call and records, in hist, the
-- level of every bucket it changed, read while it still holds the bucket's
-- lock: per bucket, hist's order is the order of its committed changes, so
-- the crossings a listener must receive follow from hist alone. Rolled-back
-- transactions leave no hist row, but count their crossings in the
-- sequence crossings_tried (sequences ignore rollbacks).
CREATE TABLE hist (
    seq     bigserial PRIMARY KEY,
    sku     text NOT NULL,
    bucket  int NOT NULL,
    avail   bigint NOT NULL,
    share   bigint,         -- the bucket's alert_below then
    counted boolean NOT NULL DEFAULT false,  -- its crossing (if any) is in crossings_tried
    baseline boolean NOT NULL DEFAULT false, -- after set_stock_alert: no crossing, a new start
    removed boolean NOT NULL DEFAULT false   -- a re-stripe removed the bucket (avail, share 0)
);
CREATE SEQUENCE crossings_tried;
CREATE SEQUENCE wl_refs;

-- Records the current level of the buckets `bs` of `sku` (locked by the
-- caller's transaction), and counts the crossings from `before` in
-- crossings_tried. before: the levels before the call, same order.
CREATE FUNCTION wl_record(p_sku text, bs int[], before bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i int;
    a bigint;
    s bigint;
BEGIN
    FOR i IN 1 .. cardinality(bs) LOOP
        SELECT on_hand - reserved, alert_below INTO a, s
          FROM order_credit.stock_buckets WHERE sku = p_sku AND bucket = bs[i];
        INSERT INTO hist (sku, bucket, avail, share, counted)
        VALUES (p_sku, bs[i], a, s, before IS NOT NULL);
        IF s IS NOT NULL AND before[i] IS NOT NULL
           AND ((before[i] > s) <> (a > s)) THEN
            PERFORM nextval('crossings_tried');
        END IF;
    END LOOP;
END
$$;

-- The current levels of buckets `bs` of `sku` (the caller holds them).
CREATE FUNCTION wl_levels(p_sku text, bs int[]) RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT array_agg((SELECT on_hand - reserved FROM order_credit.stock_buckets
                       WHERE sku = p_sku AND bucket = b) ORDER BY o)
      FROM unnest(bs) WITH ORDINALITY AS x(b, o)
$$;

-- One step: reserve (direct writer or, 1 in 4, the statement path),
-- release an active reservation, or adjust the level.
CREATE FUNCTION wl_step() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    p_sku text := (ARRAY['h1', 'h1', 's4', 'h2'])[1 + floor(random() * 4)::int];
    r float8 := random();
    ref text;
    bs int[];
    nb int;
    before bigint[];
    q bigint := 1 + floor(random() * 6)::int;
BEGIN
    SELECT buckets INTO nb FROM order_credit.items WHERE sku = p_sku;
    IF r < 0.45 THEN
        ref := 'r' || nextval('wl_refs');
        IF r < 0.12 THEN
            SET LOCAL order_credit.direct_access = off;
        END IF;
        BEGIN
            PERFORM order_credit.reserve_stock(p_sku, q, ref, NULL);
        EXCEPTION WHEN SQLSTATE 'OC004' THEN
            RETURN 'short';
        END;
        SELECT coalesce(part_buckets, '{0}') INTO bs
          FROM order_credit.reservations WHERE order_ref = ref AND sku = p_sku;
        -- the level before: after + the parts (a reservation of one bucket
        -- on the direct path; several on the statement path)
        SELECT array_agg(l + coalesce(pq[o], q) ORDER BY o) INTO before
          FROM unnest(wl_levels(p_sku, bs)) WITH ORDINALITY AS x(l, o),
               (SELECT part_qty AS pq FROM order_credit.reservations
                 WHERE order_ref = ref AND sku = p_sku) p;
        PERFORM wl_record(p_sku, bs, before);
        RETURN 'reserve';
    ELSIF r < 0.87 THEN
        SELECT order_ref, coalesce(part_buckets, '{0}') INTO ref, bs
          FROM order_credit.reservations
         WHERE sku = p_sku AND status = 'active'
         ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF ref IS NULL THEN
            RETURN 'none';
        END IF;
        IF r < 0.55 THEN
            SET LOCAL order_credit.direct_access = off;
        END IF;
        PERFORM order_credit.release_stock(ref);
        SELECT array_agg(l - coalesce(pq[o], pqq) ORDER BY o) INTO before
          FROM unnest(wl_levels(p_sku, bs)) WITH ORDINALITY AS x(l, o),
               (SELECT part_qty AS pq, quantity AS pqq FROM order_credit.reservations
                 WHERE order_ref = ref AND sku = p_sku) p;
        PERFORM wl_record(p_sku, bs, before);
        RETURN 'release';
    ELSE
        BEGIN
            PERFORM order_credit.adjust_stock(p_sku, (ARRAY[-3, -2, 2, 3])[1 + floor(random() * 4)::int],
                                              'workload');
        EXCEPTION WHEN SQLSTATE 'OC004' THEN
            RETURN 'short';
        END;
        -- adjust_stock re-spreads the free units over every bucket (all locked)
        bs := ARRAY(SELECT generate_series(0, nb - 1));
        PERFORM wl_record(p_sku, bs, NULL);
        RETURN 'adjust';
    END IF;
END
$$;

-- Records every bucket of every item (single-session phases); `baseline`
-- after a threshold was set (setting one notifies nothing). A bucket whose
-- latest record is of a bucket that no longer exists gets a `removed` one.
CREATE FUNCTION wl_record_all(baseline boolean DEFAULT false) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO hist (sku, bucket, avail, share, removed)
    SELECT DISTINCT ON (h.sku, h.bucket) h.sku, h.bucket, 0, 0, true
      FROM hist h
     WHERE NOT EXISTS (SELECT 1 FROM order_credit.stock_buckets b WHERE b.sku = h.sku AND b.bucket = h.bucket)
       AND NOT (SELECT l.removed FROM hist l WHERE l.sku = h.sku AND l.bucket = h.bucket ORDER BY seq DESC LIMIT 1)
     ORDER BY h.sku, h.bucket;
    INSERT INTO hist (sku, bucket, avail, share, baseline)
    SELECT sku, bucket, on_hand - reserved, alert_below, baseline FROM order_credit.stock_buckets
     ORDER BY sku, bucket;
$$;

-- The crossings hist implies, per bucket in order: the first row of a
-- bucket compares with its level before the run (levels0), or, for a bucket
-- a re-stripe added (or added again), counts as above; a removed bucket
-- that was low is reported as removed.
CREATE VIEW expected AS
SELECT h.sku, h.bucket, h.seq, h.counted,
       CASE WHEN h.baseline THEN NULL
            WHEN h.removed THEN CASE WHEN h.prev_avail <= h.prev_share THEN 'removed' END
            WHEN h.prev_avail > h.prev_share AND h.avail <= h.share THEN 'fell'
            WHEN h.prev_avail <= h.prev_share AND h.avail > h.share THEN 'rose' END AS event,
       h.avail
  FROM (SELECT hist.*,
               coalesce(CASE WHEN lag(hist.removed) OVER w THEN 9223372036854775807 ELSE lag(hist.avail) OVER w END,
                        l.avail, 9223372036854775807) AS prev_avail,
               coalesce(lag(hist.share) OVER w, l.share, hist.share) AS prev_share
          FROM hist LEFT JOIN levels0 l USING (sku, bucket)
        WINDOW w AS (PARTITION BY hist.sku, hist.bucket ORDER BY seq)) h
 WHERE h.share IS NOT NULL AND h.prev_share IS NOT NULL;
