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
-- stay a small fraction of each table as it grows.
ALTER TABLE order_credit.accounts SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.stock_buckets SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.holds SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.reservations SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.reservation_claims SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.orders SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.order_history SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.idempotency_keys SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.processed_events SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE order_credit.leases SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
