-- order_credit 1.0 -> 1.1
\echo Use "ALTER EXTENSION order_credit UPDATE TO '1.1'" to load this file. \quit

-- Backups: the tables holding user data and the sequences behind them become
-- configuration objects, so pg_dump writes their rows (src/sql/95_backup.sql).
SELECT pg_catalog.pg_extension_config_dump('order_credit.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.holds', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.payments', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.ledger', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.items', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_buckets', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservations', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservation_claims', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_audit', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.idempotency_keys', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.leases', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.processed_events', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.orders', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.order_history', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.holds_hold_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.ledger_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.reservations_reservation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.stock_audit_audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('order_credit.order_history_entry_id_seq', '');

-- Leases: tokens from one sequence (above every token issued so far), so a
-- purged lease's key still gets a larger token; break_lease for
-- administrators; the purge also deletes leases released or lapsed more than
-- order_credit.lease_retention ago.
CREATE SEQUENCE order_credit.lease_tokens;
COMMENT ON SEQUENCE order_credit.lease_tokens IS
    'Fencing tokens of every lease: each acquire or break draws the next.';
SELECT pg_catalog.setval('order_credit.lease_tokens', max(token)) FROM order_credit.leases HAVING max(token) IS NOT NULL;
SELECT pg_catalog.pg_extension_config_dump('order_credit.lease_tokens', '');
COMMENT ON TABLE order_credit.leases IS
    'One row per lease key. owner NULL: released. A lease past expires_at may be taken by anyone. Tokens come from the sequence lease_tokens, so they keep growing after the purge deletes a row released or lapsed more than order_credit.lease_retention ago.';
CREATE FUNCTION order_credit.break_lease(key text)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_break_lease';
COMMENT ON FUNCTION order_credit.break_lease(text) IS
    'Administrators: frees lease key whoever holds it and returns its new fencing token, which makes the last holder''s token stale (OC011 at its next check_fence). Waits for transactions that checked the fence to end. OC006 if the key has no lease.';

REVOKE ALL ON SEQUENCE order_credit.lease_tokens FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION order_credit.break_lease(text) FROM PUBLIC;
INSERT INTO order_credit.function_access (function, tier) VALUES ('order_credit.break_lease(text)', 'admin');
-- Roles of the admin tier get break_lease by running grant_admin() again
-- (a grant made here would count as part of the extension and be left out of
-- pg_dump).
-- The lease writers and the purge move to the 1.1 entry points (the 1.0 ones
-- stay in the library, for databases not updated yet).
CREATE OR REPLACE FUNCTION order_credit.acquire_lease(key text, owner text, ttl interval)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_acquire_lease_v1_1';
CREATE OR REPLACE FUNCTION order_credit._purge_coordination(max_rows int)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_purge_coordination_v1_1';
CREATE OR REPLACE FUNCTION order_credit.expire_due(max_rows int DEFAULT 10000)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_expire_due_v1_1';
COMMENT ON FUNCTION order_credit.expire_due(int) IS
    'Marks at most max_rows due credit holds, stock reservations and pending orders expired and gives their credit and units back, then purges idempotency keys, events and leases past their retention and finished orders, holds and reservations past order_credit.finished_retention (as purge() does); returns how many rows it changed. Never waits for a row lock: rows a live transaction holds are skipped and taken next time. Safe from several sessions at once.';
COMMENT ON FUNCTION order_credit._purge_coordination(int) IS
    'Deletes at most max_rows rows: idempotency keys created more than order_credit.idempotency_ttl ago (unless their lease is live), then events processed more than order_credit.event_retention ago, then leases released or lapsed more than order_credit.lease_retention ago. Skips rows locked by others. Returns the number deleted. Called by expire_due().';

-- grant_app, grant_admin (through grant_app) and revoke_access refuse a
-- regrole that is no role (22023; revoke_access also NULL, 22004) instead of
-- failing with a syntax error in the GRANT they build (src/sql/90_access.sql).
CREATE OR REPLACE FUNCTION order_credit.grant_app(role regrole) RETURNS void
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
    -- A regrole can hold any OID; one that is no role prints as a number
    -- (or '-') that GRANT / REVOKE cannot parse.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::oid USING ERRCODE = '22023';
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

CREATE OR REPLACE FUNCTION order_credit.revoke_access(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- A regrole can hold any OID; one that is no role prints as a number
    -- (or '-') that GRANT / REVOKE cannot parse.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::oid USING ERRCODE = '22023';
    END IF;
    FOR f IN SELECT function FROM order_credit.function_access LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, role);
    END LOOP;
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA order_credit FROM %s', role);
    EXECUTE format('REVOKE USAGE ON SCHEMA order_credit FROM %s', role);
END
$$;

-- Latency histograms (src/sql/70_stats.sql): order_credit.stats gains
-- p50_ms, p95_ms and p99_ms, read from _stats_latency() (which also returns
-- _stats()'s columns, so each row is read at one moment; _stats() goes,
-- its C entry point stays in the library for databases not updated yet);
-- the raw buckets in order_credit.stats_latency_buckets.
CREATE FUNCTION order_credit._stats_latency()
    RETURNS TABLE (operation text, outcome text, calls bigint, total_ms double precision,
                   max_ms double precision, lock_wait_ms double precision,
                   p50_ms double precision, p95_ms double precision, p99_ms double precision)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_latency';
COMMENT ON FUNCTION order_credit._stats_latency() IS
    'Reads the shared-memory counters and latency histograms behind order_credit.stats.';
CREATE OR REPLACE VIEW order_credit.stats AS
SELECT operation, outcome, calls, total_ms, max_ms, lock_wait_ms, p50_ms, p95_ms, p99_ms
  FROM order_credit._stats_latency();
COMMENT ON VIEW order_credit.stats IS
    'Calls, total and max time, time in lock-acquiring steps, and the 50th, 95th and 99th percentile of the time of a call (estimated from a latency histogram; NULL when order_credit.latency_histograms was off for every call) per operation and outcome. Fed from shared memory: EMPTY unless order_credit is in shared_preload_libraries (every function works without it). Reset with order_credit.stats_reset().';
DELETE FROM order_credit.function_access WHERE function = 'order_credit._stats()'::regprocedure;
DROP FUNCTION order_credit._stats();

CREATE FUNCTION order_credit._stats_latency_buckets()
    RETURNS TABLE (operation text, outcome text, le double precision, calls bigint)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_latency_buckets';
COMMENT ON FUNCTION order_credit._stats_latency_buckets() IS
    'Reads the latency histograms behind order_credit.stats_latency_buckets.';
CREATE VIEW order_credit.stats_latency_buckets AS
SELECT operation, outcome, le, calls
  FROM order_credit._stats_latency_buckets();
COMMENT ON VIEW order_credit.stats_latency_buckets IS
    'Latency histogram of each operation and outcome of order_credit.stats, as Prometheus buckets: calls that took at most le seconds (cumulative; le = Infinity counts every call in the histogram). Bounds 1, 2 and 5 of each decade from 1 microsecond to 10 seconds. Only calls made while order_credit.latency_histograms was on. Needs shared_preload_libraries, as order_credit.stats.';
COMMENT ON FUNCTION order_credit.stats_reset() IS
    'Zeroes every counter and histogram of order_credit.stats and order_credit.stats_latency_buckets.';
REVOKE ALL ON order_credit.stats_latency_buckets FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION order_credit._stats_latency(), order_credit._stats_latency_buckets() FROM PUBLIC;
INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit._stats_latency()', 'admin'),
    ('order_credit._stats_latency_buckets()', 'admin');
-- Roles of the admin tier read the new view and functions after
-- grant_admin() runs again.

-- ===================================================================
-- Lifecycle of finished rows (docs/lifecycle.md): purge() deletes finished
-- orders (with their history), holds and reservations past
-- order_credit.finished_retention, then idempotency keys, events and
-- leases past theirs. expire_due() runs the same purges after its expiry
-- steps, so the sweeper keeps the tables level on its own; purge() is the
-- call for a scheduler (pg_cron) when the sweeper is not loaded.
-- The ledger, stock_audit and payments are never purged.
-- ===================================================================

-- The finished holds, oldest first (same status list as
-- core::finished_hold_statuses_sql): an entry is added by the update that
-- finishes a hold, which changes status and so is never a HOT update anyway.
CREATE INDEX holds_finished ON order_credit.holds (updated_at)
    WHERE status IN ('captured', 'voided', 'expired', 'reversed');
-- The finished orders, oldest first (core::finished_order_statuses_sql).
CREATE INDEX orders_finished ON order_credit.orders (updated_at)
    WHERE status IN ('delivered', 'cancelled', 'expired');

CREATE FUNCTION order_credit.purge(max_rows int DEFAULT 10000)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_purge';
COMMENT ON FUNCTION order_credit.purge(int) IS
    'Deletes finished rows past their retention, oldest first, and returns how many: orders delivered, cancelled or expired more than order_credit.finished_retention ago with their history, hold and reservations; holds and reservations of no order finished that long ago; then idempotency keys, events and leases past their own retention. max_rows bounds the orders, holds and reservations picked (an order''s history goes with it). Skips rows other transactions hold. Never touches the ledger, stock_audit or payments.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.purge(int)', 'admin');
REVOKE EXECUTE ON FUNCTION order_credit.purge(int) FROM PUBLIC;

-- Autovacuum for the tables every call updates or that are queues
-- (inserted, then deleted by commit, expiry or the purge): vacuumed after
-- 2% of their rows changed instead of 20%, so dead rows and index entries
-- stay a small fraction of each table as it grows. holds and orders carry
-- the due queues expire_due scans from their oldest entry
-- (holds_pending_expiry, orders_pending_expiry): an entry of a row that
-- left 'pending' stays in them until a vacuum with index cleanup, and every
-- due scan steps over it. They are vacuumed after 5,000 changed rows,
-- whatever their size, with index cleanup always (not skipped when few heap
-- pages have dead rows).
ALTER TABLE order_credit.accounts SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.stock_buckets SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.holds SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                                   vacuum_index_cleanup = on, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.reservations SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.reservation_claims SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.orders SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                                    vacuum_index_cleanup = on, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.order_history SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.idempotency_keys SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.processed_events SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.leases SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);

-- Stock alerts (docs/monitoring.md, "Notifications"): a threshold per item,
-- each bucket's share of it beside its levels, set_stock_alert, the
-- statements' way to the crossing rule, and the stock_alerts view.
ALTER TABLE order_credit.items ADD COLUMN alert_threshold bigint;
ALTER TABLE order_credit.stock_buckets ADD COLUMN alert_below bigint;

CREATE TYPE order_credit.stock_alert AS (
    sku          text,
    threshold    bigint,
    buckets      int,
    available    bigint,
    low_buckets  int
);

CREATE VIEW order_credit.stock_alerts AS
SELECT i.sku, i.alert_threshold AS threshold, i.buckets, l.available,
       (SELECT count(*) FROM order_credit.stock_buckets s
         WHERE s.sku = i.sku AND s.on_hand - s.reserved <= s.alert_below)::int AS low_buckets
  FROM order_credit.items i JOIN order_credit.stock_levels l ON l.sku = i.sku
 WHERE i.alert_threshold IS NOT NULL;
COMMENT ON VIEW order_credit.stock_alerts IS
    'Items with an alert threshold: threshold, available (exact, as stock_status), and low_buckets, the buckets at or below their share of the threshold (levels as stored: a reservation past expiry counts until it is expired). An item''s available can be at or below its threshold only while low_buckets > 0.';

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

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.set_stock_alert(text, bigint)', 'admin');
REVOKE EXECUTE ON FUNCTION order_credit.set_stock_alert(text, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION order_credit._stock_crossed(text, int, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON order_credit.stock_alerts FROM PUBLIC;

-- Alert shares (part of verify(), which gains the check): an item's
-- threshold is carried by its buckets, each with its share
-- (core::bucket_share), the shares adding up to the threshold; an item
-- without one has no shares.
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
REVOKE EXECUTE ON FUNCTION order_credit._verify_stock_alerts() FROM PUBLIC;

CREATE OR REPLACE FUNCTION order_credit._verify_checks()
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM order_credit._verify_credit()
    UNION ALL
    SELECT * FROM order_credit._verify_stock()
    UNION ALL
    SELECT * FROM order_credit._verify_stock_alerts()
    UNION ALL
    SELECT * FROM order_credit._verify_orders()
$$;

COMMENT ON FUNCTION order_credit._verify_checks() IS
    'Union of every area''s invariant checks; verify() orders and returns them.';

-- ===================================================================
-- Bounded verification for DBAs: verify_account(account) and
-- verify_sku(sku) run verify()'s checks that can be answered from one
-- account's (one SKU's) own rows through their indexes, so that their cost
-- does not grow with the database; run them every minute on the accounts
-- and SKUs that changed, and verify() itself in a quiet hour
-- (docs/lifecycle.md, "Verifying a large database").
-- ===================================================================

CREATE FUNCTION order_credit.verify_account(account text)
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH a AS (SELECT * FROM order_credit.accounts WHERE account = $1),
    l AS (SELECT l.*,
                 coalesce(lag(l.posted_after) OVER w, 0) AS prev_posted,
                 coalesce(lag(l.pending_after) OVER w, 0) AS prev_pending,
                 row_number() OVER (ORDER BY l.entry_id DESC) AS from_last
            FROM order_credit.ledger l WHERE l.account = $1 WINDOW w AS (ORDER BY l.entry_id)),
    s AS (SELECT coalesce(sum(amount) FILTER (WHERE kind = 'hold'), 0)
               - coalesce(sum(amount) FILTER (WHERE kind IN ('capture', 'void', 'expire')), 0) AS pending,
                 coalesce(sum(amount) FILTER (WHERE kind = 'capture'), 0)
               - coalesce(sum(amount) FILTER (WHERE kind IN ('reverse', 'payment')), 0) AS posted
            FROM l),
    h AS (SELECT coalesce(sum(amount), 0) AS s, min(expires_at) AS m
            FROM order_credit.holds WHERE account = $1 AND status = 'pending')
    SELECT 'account', $1, 'no such account' WHERE NOT EXISTS (SELECT 1 FROM a)
    UNION ALL
    SELECT 'ledger_balance', a.account,
           format('posted=%s, ledger posted=%s, pending=%s, ledger pending=%s', a.posted, s.posted, a.pending, s.pending)
      FROM a, s WHERE a.posted <> s.posted OR a.pending <> s.pending
    UNION ALL
    SELECT 'pending_holds', a.account, format('pending=%s, sum of pending holds=%s', a.pending, h.s)
      FROM a, h WHERE a.pending <> h.s
    UNION ALL
    SELECT 'ledger_last_entry', a.account,
           format('posted=%s pending=%s, last entry %s has posted_after=%s pending_after=%s',
                  a.posted, a.pending, l.entry_id, l.posted_after, l.pending_after)
      FROM a JOIN l ON l.from_last = 1
     WHERE l.posted_after <> a.posted OR l.pending_after <> a.pending
    UNION ALL
    SELECT 'ledger_chain', l.account,
           format('entry %s (%s %s) goes from posted=%s pending=%s to posted=%s pending=%s',
                  l.entry_id, l.kind, l.amount, l.prev_posted, l.prev_pending, l.posted_after, l.pending_after)
      FROM l
     WHERE l.posted_after <> l.prev_posted + CASE l.kind WHEN 'capture' THEN l.amount
                                                         WHEN 'reverse' THEN -l.amount
                                                         WHEN 'payment' THEN -l.amount ELSE 0 END
        OR l.pending_after <> l.prev_pending + CASE l.kind WHEN 'hold' THEN l.amount
                                                           WHEN 'capture' THEN -l.amount
                                                           WHEN 'void' THEN -l.amount
                                                           WHEN 'expire' THEN -l.amount ELSE 0 END
    UNION ALL
    SELECT 'next_expiry', a.account, format('next_expiry=%s, earliest pending hold expires %s', a.next_expiry, h.m)
      FROM a, h WHERE h.m IS NOT NULL AND (a.next_expiry IS NULL OR a.next_expiry > h.m)
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION order_credit.verify_account(text) IS
    'verify()''s checks of one account, through its own rows only (its ledger entries, its pending holds): balances equal the ledger, pending equals the pending holds, the ledger chain, the last entry, next_expiry; ''no such account'' for an unknown one. No rows when all hold.';

CREATE FUNCTION order_credit.verify_sku(sku text)
    RETURNS TABLE (check_name text, subject text, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH i AS (SELECT * FROM order_credit.items WHERE sku = $1),
    b AS (SELECT * FROM order_credit.stock_buckets WHERE sku = $1),
    c AS (SELECT * FROM order_credit.reservation_claims WHERE sku = $1),
    parts AS (SELECT p.b AS bucket, sum(p.q)::bigint AS q
                FROM c, unnest(coalesce(c.part_buckets, '{0}'), coalesce(c.part_qty, ARRAY[c.quantity])) AS p(b, q)
               GROUP BY p.b),
    au AS (SELECT a.*, coalesce(lag(a.on_hand_after) OVER (ORDER BY a.audit_id), 0) AS prev,
                  row_number() OVER (ORDER BY a.audit_id DESC) AS from_last
             FROM order_credit.stock_audit a WHERE a.sku = $1)
    SELECT 'item', $1, 'no such item' WHERE NOT EXISTS (SELECT 1 FROM i)
    UNION ALL
    SELECT 'stock_reserved', $1 || '#' || coalesce(b.bucket, p.bucket),
           format('reserved=%s, sum of claimed reservation parts=%s', b.reserved, coalesce(p.q, 0))
      FROM b FULL JOIN parts p ON p.bucket = b.bucket
     WHERE b.reserved IS DISTINCT FROM coalesce(p.q, 0)
    UNION ALL
    SELECT 'claim_reservation', c.sku || '/' || c.reservation_id,
           CASE WHEN r.reservation_id IS NULL THEN 'no such reservation'
                ELSE format('reservation %s/%s: status=%s, quantity=%s, expires_at=%s; claim: quantity=%s, expires_at=%s',
                            r.order_ref, r.sku, r.status, r.quantity, r.expires_at, c.quantity, c.expires_at) END
      FROM c LEFT JOIN order_credit.reservations r ON r.reservation_id = c.reservation_id
     WHERE r.reservation_id IS NULL OR r.status <> 'active' OR r.sku <> c.sku
        OR r.quantity <> c.quantity
        OR coalesce(r.part_buckets, '{0}') <> coalesce(c.part_buckets, '{0}')
        OR coalesce(r.part_qty, ARRAY[r.quantity]) <> coalesce(c.part_qty, ARRAY[c.quantity])
        OR coalesce(r.expires_at, 'infinity') <> c.expires_at
    UNION ALL
    SELECT 'stock_oversold', b.sku || '#' || b.bucket, format('on_hand=%s, reserved=%s', b.on_hand, b.reserved)
      FROM b WHERE b.on_hand < 0 OR b.reserved < 0 OR b.reserved > b.on_hand
    UNION ALL
    SELECT 'stock_buckets', i.sku, format('buckets=%s, rows=%s, highest bucket=%s', i.buckets, n.n, n.hi)
      FROM i, (SELECT count(*) AS n, max(bucket) AS hi FROM b) n
     WHERE n.n <> i.buckets OR n.hi <> i.buckets - 1
    UNION ALL
    SELECT 'stock_audit', i.sku, format('on_hand=%s, audit sum=%s, last on_hand_after=%s', o.on_hand, s.s, l.on_hand_after)
      FROM i, (SELECT coalesce(sum(on_hand), 0) AS on_hand FROM b) o,
           (SELECT coalesce(sum(delta), 0) AS s FROM au) s
      LEFT JOIN au l ON l.from_last = 1
     WHERE o.on_hand <> s.s OR l.on_hand_after IS DISTINCT FROM o.on_hand
    UNION ALL
    SELECT 'stock_audit_chain', au.sku, format('entry %s (%s %s) goes from on_hand=%s to %s',
                                               au.audit_id, au.kind, au.delta, au.prev, au.on_hand_after)
      FROM au WHERE au.on_hand_after <> au.prev + au.delta
    UNION ALL
    SELECT 'stock_alert', i.sku,
           format('threshold=%s, buckets=%s, buckets with a share=%s, sum of shares=%s, lowest share=%s',
                  i.alert_threshold, x.n, x.shares, x.s, x.lo)
      FROM i, (SELECT count(*) AS n, count(alert_below) AS shares, sum(alert_below) AS s,
                      min(alert_below) AS lo FROM b) x
     WHERE CASE WHEN i.alert_threshold IS NULL THEN x.shares > 0
                ELSE x.shares <> x.n OR x.s <> i.alert_threshold OR x.lo < 0 END
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION order_credit.verify_sku(text) IS
    'verify()''s checks of one SKU, through its own rows only (its buckets, claims, audit entries): each bucket''s reserved equals its claims, every claim is of an active reservation, no bucket oversold, buckets 0..n-1, on_hand equals the audit and its chain, the alert shares add up to the threshold; ''no such item'' for an unknown one. No rows when all hold.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.verify_account(text)', 'admin'),
    ('order_credit.verify_sku(text)', 'admin');
REVOKE EXECUTE ON FUNCTION order_credit.verify_account(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION order_credit.verify_sku(text) FROM PUBLIC;

-- holds_pending_expiry names expires_at < 'infinity' in its predicate, so
-- that only the due scan (which states it) can use it: with status =
-- 'pending' alone, statements on one account's pending holds could be
-- planned through it, a filter on account over every pending hold.
DROP INDEX order_credit.holds_pending_expiry;
CREATE INDEX holds_pending_expiry ON order_credit.holds (expires_at)
    WHERE status = 'pending' AND expires_at < 'infinity';
-- ... and holds_account_pending names account IS NOT NULL, so that the due
-- scan (which names no account) cannot use it.
DROP INDEX order_credit.holds_account_pending;
CREATE INDEX holds_account_pending ON order_credit.holds (account, expires_at)
    WHERE status = 'pending' AND account IS NOT NULL;
