-- ===================================================================
-- expire_due(): the sweep. One C++ entry point (src/pg/expiry/expire.cpp) runs
-- each area's step in turn with the remaining row budget; an area adds its
-- purge step (idempotency keys, events, orders) to the step list there.
-- ===================================================================

CREATE FUNCTION order_credit.expire_due(max_rows int DEFAULT 10000)
    RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'oc_expire_due_v1_1';
COMMENT ON FUNCTION order_credit.expire_due(int) IS
    'Marks at most max_rows due credit holds, stock reservations and pending orders expired and gives their credit and units back, then purges idempotency keys, events and leases past their retention and finished orders, holds and reservations past order_credit.finished_retention (as purge() does); returns how many rows it changed. Never waits for a row lock: rows a live transaction holds are skipped and taken next time. Safe from several sessions at once.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.expire_due(int)', 'admin');
