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
