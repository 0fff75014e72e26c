-- ===================================================================
-- Row checks: each table's integrity rules (the CHECK constraints a column
-- list would carry) in ONE constraint per table that calls a C function over
-- the whole row. The rules live in src/core/row_checks.cpp. PostgreSQL 15
-- re-reads every CHECK expression of a table from its stored text in every
-- statement that writes it; a dozen small constraints cost more than the
-- statement's own work (callgrind, docs/benchmarks.md), one short one does not.
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
