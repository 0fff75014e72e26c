-- reserve_stock of a one-bucket item writes through the table access method
-- (src/pg/stock/reserve_direct.cpp) while the tables are as the extension created them,
-- and through SQL statements otherwise or with order_credit.direct_access
-- off. Both must leave exactly the same rows and return the same results.
\set VERBOSITY default
SET order_credit.default_ttl = '1h';

-- The same calls in both modes, on two items.
CREATE TEMP TABLE runs (mode text, step text, result text);
CREATE FUNCTION pg_temp.run(mode text, sku text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    PERFORM set_config('order_credit.direct_access', CASE mode WHEN 'direct' THEN 'on' ELSE 'off' END, true);
    PERFORM order_credit.set_stock(sku, 5);
    SELECT * INTO r FROM order_credit.reserve_stock(sku, 2, 'da-a', '10 minutes');
    INSERT INTO runs VALUES (mode, 'ttl', format('%s %s %s %s %s %s', r.sku = sku, r.order_ref, r.quantity, r.status,
                                                 r.expires_at = statement_timestamp() + interval '10 minutes', r.available));
    SELECT * INTO r FROM order_credit.reserve_stock(sku, 1, 'da-b', NULL);
    INSERT INTO runs VALUES (mode, 'no ttl', format('%s %s %s %s %s %s', r.sku = sku, r.order_ref, r.quantity, r.status,
                                                    r.expires_at IS NULL, r.available));
    -- a replay returns the same reservation
    SELECT * INTO r FROM order_credit.reserve_stock(sku, 1, 'da-b', NULL);
    INSERT INTO runs VALUES (mode, 'replay', format('%s %s %s', r.quantity, r.status, r.available));
    -- more than bucket 0 holds: the slow path answers OC004 with the numbers
    BEGIN
        PERFORM order_credit.reserve_stock(sku, 3, 'da-c');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO runs VALUES (mode, 'too many', SQLSTATE || ' ' || replace(SQLERRM, sku, '<sku>'));
    END;
    SELECT * INTO r FROM order_credit.try_reserve_stock(sku, 2, 'da-d');
    INSERT INTO runs VALUES (mode, 'try', format('%s %s %s', r.ok, r.code, r.available));
    SELECT * INTO r FROM order_credit.stock_status(sku);
    INSERT INTO runs VALUES (mode, 'status', format('%s %s %s', r.on_hand, r.reserved, r.available));
    -- the rows written: reservation and claim agree, bucket counters add up
    INSERT INTO runs
    SELECT mode, 'row ' || x.order_ref,
           format('%s %s %s %s %s %s %s %s %s', x.quantity, coalesce(x.part_buckets::text, 'NULL'),
                  coalesce(x.part_qty::text, 'NULL'), x.status, x.expires_in,
                  x.created_at = statement_timestamp(), c.expires_at = coalesce(x.expires_at, 'infinity'),
                  (c.part_buckets, c.part_qty) IS NOT DISTINCT FROM (x.part_buckets, x.part_qty),
                  -- stored without parts when all units are in bucket 0
                  CASE WHEN c.part_buckets IS NULL THEN 'bucket 0' ELSE c.part_buckets::text END)
      FROM order_credit.reservations x
      JOIN order_credit.reservation_claims c USING (reservation_id)
     WHERE x.sku = run.sku;
    INSERT INTO runs
    SELECT mode, 'bucket', format('%s %s %s %s', b.bucket, b.on_hand, b.reserved, b.updated_at = statement_timestamp())
      FROM order_credit.stock_buckets b WHERE b.sku = run.sku;
END
$$;
SELECT pg_temp.run('direct', 'dx');
SELECT pg_temp.run('sql', 'sx');
-- on by default
SHOW order_credit.direct_access;
SELECT step, result FROM runs WHERE mode = 'direct' ORDER BY step;
-- no difference between the modes
(SELECT step, result FROM runs WHERE mode = 'direct' EXCEPT SELECT step, result FROM runs WHERE mode = 'sql')
UNION ALL
(SELECT step, result FROM runs WHERE mode = 'sql' EXCEPT SELECT step, result FROM runs WHERE mode = 'direct');
SELECT count(*) AS violations FROM order_credit.verify();

-- A trigger added to a table the direct path writes takes it out of use:
-- the trigger fires (the SQL path runs), for inserts and for the bucket update.
CREATE FUNCTION pg_temp.note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE '% % on %', TG_WHEN, TG_OP, TG_TABLE_NAME;
    RETURN NEW;
END
$$;
SELECT sku FROM order_credit.set_stock('tr', 10);
CREATE TRIGGER note_insert AFTER INSERT ON order_credit.reservations
    FOR EACH ROW EXECUTE FUNCTION pg_temp.note();
SELECT sku, quantity, available FROM order_credit.reserve_stock('tr', 1, 'da-e');
DROP TRIGGER note_insert ON order_credit.reservations;
CREATE TRIGGER note_update BEFORE UPDATE ON order_credit.stock_buckets
    FOR EACH ROW EXECUTE FUNCTION pg_temp.note();
SELECT sku, quantity, available FROM order_credit.reserve_stock('tr', 1, 'da-f');
DROP TRIGGER note_update ON order_credit.stock_buckets;
-- without them, nothing fires and the reservation is made the same way
SELECT sku, quantity, available FROM order_credit.reserve_stock('tr', 1, 'da-g');
SELECT sku, quantity, available FROM order_credit.reserve_stock('tr', 1, 'da-h');
SELECT on_hand, reserved, available FROM order_credit.stock_status('tr');
SELECT count(*) AS violations FROM order_credit.verify();

-- A column added to reservations takes the direct path out of use too (the
-- SQL path fills the column's default); dropped again, the direct path works
-- around the dropped column.
ALTER TABLE order_credit.reservations ADD COLUMN note text DEFAULT 'via sql';
SELECT quantity, available FROM order_credit.reserve_stock('tr', 1, 'da-col1');
SELECT note FROM order_credit.reservations WHERE order_ref = 'da-col1';
ALTER TABLE order_credit.reservations DROP COLUMN note;
SELECT quantity, available FROM order_credit.reserve_stock('tr', 1, 'da-col2');
SELECT order_ref, quantity, status, part_buckets FROM order_credit.reservations
 WHERE order_ref LIKE 'da-col%' ORDER BY 1;
SELECT count(*) AS violations FROM order_credit.verify();

-- An expired-but-unswept reservation counts as available at once, on the
-- direct path as everywhere.
SELECT sku FROM order_credit.set_stock('ex', 3);
BEGIN;
SELECT quantity FROM order_credit.reserve_stock('ex', 2, 'da-x1', '1 hour');
-- pretend an hour went by: move the reservation and its claim into the past
UPDATE order_credit.reservations SET expires_at = statement_timestamp() - interval '1 second'
 WHERE order_ref = 'da-x1';
DELETE FROM order_credit.reservation_claims c USING order_credit.reservations r
 WHERE r.order_ref = 'da-x1' AND c.reservation_id = r.reservation_id
RETURNING c.quantity AS moved_claim;
INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity, part_buckets, part_qty)
SELECT sku, expires_at, reservation_id, quantity, part_buckets, part_qty FROM order_credit.reservations
 WHERE order_ref = 'da-x1';
-- 3 on hand, 2 reserved by an expired reservation: available 3 before, 2 after
SELECT quantity, available FROM order_credit.reserve_stock('ex', 1, 'da-x2');
COMMIT;
SELECT order_ref, quantity,
       CASE WHEN status = 'active' AND expires_at <= statement_timestamp() THEN 'expired' ELSE status END AS status
  FROM order_credit.reservations WHERE sku = 'ex' ORDER BY order_ref;
SELECT on_hand, reserved, available FROM order_credit.stock_status('ex');
SELECT count(*) AS violations FROM order_credit.verify();

-- In REPEATABLE READ the reservation sees the transaction's snapshot.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT quantity, available FROM order_credit.reserve_stock('ex', 1, 'da-x3');
SELECT quantity, available FROM order_credit.reserve_stock('ex', 1, 'da-x4');
COMMIT;
SELECT order_credit.reserve_stock('ex', 1, 'da-x5');

-- Many reservations of one item in one transaction: the bucket's page fills
-- with versions no one can prune yet, so updates stop being HOT and the
-- bucket gets new index entries (through which later reservations find it).
SELECT sku FROM order_credit.set_stock('many', 1000);
BEGIN;
SELECT count(*) AS reserved, min(r.available) AS last_available
  FROM generate_series(1, 400) i, LATERAL order_credit.reserve_stock('many', 1, 'da-m' || i) r;
SELECT n_tup_upd >= 400 AS updated, n_tup_hot_upd < n_tup_upd AS some_not_hot
  FROM pg_stat_xact_user_tables WHERE relid = 'order_credit.stock_buckets'::regclass;
COMMIT;
SELECT on_hand, reserved, available FROM order_credit.stock_status('many');
SELECT count(*) AS violations FROM order_credit.verify();

-- Striped items (several buckets) take the same path: the reservation's
-- part names the bucket it came from, the item's levels add up.
SELECT sku FROM order_credit.set_stock('striped', 8, 4);
SELECT count(*) AS reserved
  FROM generate_series(1, 8) i, LATERAL order_credit.reserve_stock('striped', 1, 'da-s' || i) r;
SELECT count(DISTINCT part_buckets) > 1 AS spread, sum(quantity) AS units
  FROM order_credit.reservations WHERE sku = 'striped';
SELECT order_credit.reserve_stock('striped', 1, 'da-s9');
SELECT on_hand, reserved, available, buckets FROM order_credit.stock_status('striped');
SELECT count(*) AS violations FROM order_credit.verify();

-- place_order's fast path reserves its SKUs the same way, then writes the
-- credit hold and the order without the executor too; with direct access
-- off, one SQL statement writes everything (one-bucket SKUs) or the composed
-- path does. The same rows either way.
SELECT account FROM order_credit.create_account('da-acct', 1000);
SELECT sku FROM order_credit.set_stock('da-p1', 10);
SELECT sku FROM order_credit.set_stock('da-p2', 10, 2);
-- (which path wrote each order is reported at DEBUG2)
SET client_min_messages = debug2;
SELECT order_ref, status, amount FROM order_credit.place_order('da-po1',
    '[{"sku": "da-p2", "quantity": 1, "unit_price": 1}, {"sku": "da-p1", "quantity": 2, "unit_price": 5}]', 'da-acct');
SET order_credit.direct_access = off;
SELECT order_ref, status, amount FROM order_credit.place_order('da-po2',
    '[{"sku": "da-p2", "quantity": 1, "unit_price": 1}, {"sku": "da-p1", "quantity": 2, "unit_price": 5}]', 'da-acct');
RESET order_credit.direct_access;
RESET client_min_messages;
SELECT order_ref, sku, quantity, status FROM order_credit.reservations
 WHERE order_ref LIKE 'da-po%' ORDER BY 1, 2;
SELECT order_ref, amount, status FROM order_credit.holds WHERE order_ref LIKE 'da-po%' ORDER BY 1;
SELECT order_ref, kind, amount, pending_after FROM order_credit.ledger WHERE order_ref LIKE 'da-po%' ORDER BY 1;
SELECT order_ref, from_status, to_status FROM order_credit.order_history WHERE order_ref LIKE 'da-po%' ORDER BY 1;
-- The credit and order rows are written without the executor too
-- (src/pg/credit/hold_direct.cpp): column by column the same as the SQL path's,
-- ids and times aside (both orders have the same expires_in).
SELECT order_ref, to_jsonb(h) - '{hold_id,order_ref,created_at,updated_at,expires_at}'::text[] AS hold,
       expires_at - created_at AS ttl, updated_at = created_at AS same_time
  FROM order_credit.holds h WHERE order_ref IN ('da-po1', 'da-po2') ORDER BY 1;
SELECT order_ref, to_jsonb(l) - '{entry_id,order_ref,created_at,created_by}'::text[] AS entry
  FROM order_credit.ledger l WHERE order_ref IN ('da-po1', 'da-po2') ORDER BY 1;
SELECT order_ref, to_jsonb(o) - '{order_ref,created_at,updated_at,expires_at}'::text[] AS order_row,
       expires_at - created_at AS ttl, updated_at = created_at AS same_time
  FROM order_credit.orders o WHERE order_ref IN ('da-po1', 'da-po2') ORDER BY 1;
SELECT order_ref, to_jsonb(x) - '{entry_id,order_ref,created_at,created_by}'::text[] AS history
  FROM order_credit.order_history x WHERE order_ref IN ('da-po1', 'da-po2') ORDER BY 1;
SELECT count(DISTINCT created_by) AS one_creator
  FROM (SELECT created_by FROM order_credit.ledger WHERE order_ref IN ('da-po1', 'da-po2')
        UNION ALL
        SELECT created_by FROM order_credit.order_history WHERE order_ref IN ('da-po1', 'da-po2')) c;
-- the account: pending both totals, next_expiry the earliest hold's expiry
SELECT a.pending, a.next_expiry = (SELECT min(expires_at) FROM order_credit.holds WHERE account = 'da-acct')
       AS next_expiry_ok, a.updated_at = (SELECT max(created_at) FROM order_credit.holds WHERE account = 'da-acct')
       AS updated_ok
  FROM order_credit.accounts a WHERE account = 'da-acct';
-- reserve_credit writes the account, the hold and its ledger entry without
-- the executor too (src/pg/credit/hold_direct.cpp, place_credit_hold): the same
-- result and, column by column, the same rows as the SQL path.
SELECT account FROM order_credit.create_account('da-rc', 1000);
SET client_min_messages = debug2;
SELECT hold_id > 0 AS has_id, account, order_ref, amount, captured, status,
       expires_at - statement_timestamp() AS ttl, available
  FROM order_credit.reserve_credit('da-rc', 100.50, 'da-rc1', interval '10 minutes');
SELECT hold_id > 0 AS has_id, account, order_ref, amount, captured, status, expires_at, available
  FROM order_credit.reserve_credit('da-rc', 1, 'da-rc3', NULL);
SET order_credit.direct_access = off;
SELECT hold_id > 0 AS has_id, account, order_ref, amount, captured, status,
       expires_at - statement_timestamp() AS ttl, available
  FROM order_credit.reserve_credit('da-rc', 100.50, 'da-rc2', interval '10 minutes');
SELECT hold_id > 0 AS has_id, account, order_ref, amount, captured, status, expires_at, available
  FROM order_credit.reserve_credit('da-rc', 1, 'da-rc4', NULL);
RESET order_credit.direct_access;
RESET client_min_messages;
SELECT order_ref, to_jsonb(h) - '{hold_id,order_ref,created_at,updated_at,expires_at}'::text[] AS hold,
       expires_at - created_at AS ttl, updated_at = created_at AS same_time
  FROM order_credit.holds h WHERE order_ref LIKE 'da-rc%' ORDER BY 1;
SELECT order_ref, to_jsonb(l) - '{entry_id,order_ref,created_at}'::text[] AS entry
  FROM order_credit.ledger l WHERE order_ref LIKE 'da-rc%' ORDER BY entry_id;
SELECT a.pending, a.next_expiry = (SELECT min(expires_at) FROM order_credit.holds WHERE account = 'da-rc')
       AS next_expiry_ok, a.updated_at = (SELECT max(created_at) FROM order_credit.holds WHERE account = 'da-rc')
       AS updated_ok
  FROM order_credit.accounts a WHERE account = 'da-rc';
-- A replay finds the hold (the direct guard refuses, the slow path answers
-- from the hold); the errors are the SQL path's.
SET client_min_messages = debug2;
SELECT order_ref, amount, status FROM order_credit.reserve_credit('da-rc', 100.50, 'da-rc1', interval '10 minutes');
RESET client_min_messages;
SELECT count(*) AS rc1_holds, sum(amount) AS rc1_amount FROM order_credit.holds WHERE order_ref = 'da-rc1';
SELECT * FROM order_credit.reserve_credit('da-rc', 2, 'da-rc1', interval '10 minutes');
SELECT * FROM order_credit.reserve_credit('da-rc', 900, 'da-rc5');
SELECT * FROM order_credit.reserve_credit('da-nope', 1, 'da-rc6');
SELECT ok, code, hold_id > 0 AS has_id, available, credit_limit
  FROM order_credit.try_reserve_credit('da-rc', 10, 'da-rc7');
SELECT ok, code, hold_id, available, credit_limit
  FROM order_credit.try_reserve_credit('da-rc', 10000, 'da-rc8');
-- A user trigger on the ledger takes reserve_credit to the SQL path (the
-- trigger fires).
CREATE FUNCTION pg_temp.da_rc_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'trigger on % fired for %', TG_TABLE_NAME, NEW.order_ref;
    RETURN NEW;
END $$;
CREATE TRIGGER da_rc_ledger AFTER INSERT ON order_credit.ledger FOR EACH ROW EXECUTE FUNCTION pg_temp.da_rc_notice();
SET client_min_messages = debug2;
SELECT order_ref, status FROM order_credit.reserve_credit('da-rc', 1, 'da-rc9');
RESET client_min_messages;
DROP TRIGGER da_rc_ledger ON order_credit.ledger;
SELECT order_ref, kind, amount FROM order_credit.ledger WHERE order_ref = 'da-rc9';
SELECT count(*) AS violations FROM order_credit.verify();
-- A user trigger on holds or on order_history switches the direct order
-- path off (the trigger fires); without it, it is used again.
CREATE FUNCTION pg_temp.da_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'trigger on % fired for %', TG_TABLE_NAME, NEW.order_ref;
    RETURN NEW;
END $$;
CREATE TRIGGER da_holds AFTER INSERT ON order_credit.holds FOR EACH ROW EXECUTE FUNCTION pg_temp.da_notice();
SET client_min_messages = debug2;
SELECT order_ref, status FROM order_credit.place_order('da-po6', '[{"sku": "da-p1", "quantity": 1, "unit_price": 1}]', 'da-acct');
RESET client_min_messages;
DROP TRIGGER da_holds ON order_credit.holds;
CREATE TRIGGER da_history AFTER INSERT ON order_credit.order_history FOR EACH ROW EXECUTE FUNCTION pg_temp.da_notice();
SELECT order_ref, status FROM order_credit.place_order('da-po7', '[{"sku": "da-p1", "quantity": 1, "unit_price": 1}]', 'da-acct');
DROP TRIGGER da_history ON order_credit.order_history;
SET client_min_messages = debug2;
SELECT order_ref, status FROM order_credit.place_order('da-po8', '[{"sku": "da-p1", "quantity": 1, "unit_price": 1}]', 'da-acct');
RESET client_min_messages;
SELECT order_ref, count(*) AS rows FROM (
    SELECT order_ref FROM order_credit.holds UNION ALL SELECT order_ref FROM order_credit.ledger
    UNION ALL SELECT order_ref FROM order_credit.orders UNION ALL SELECT order_ref FROM order_credit.order_history
    UNION ALL SELECT order_ref FROM order_credit.reservations) r
 WHERE order_ref IN ('da-po6', 'da-po7', 'da-po8') GROUP BY 1 ORDER BY 1;
-- An account whose next_expiry says a hold may be due: the direct guard
-- refuses, the composed path (reserve_credit) looks at the holds and places.
UPDATE order_credit.accounts SET next_expiry = statement_timestamp() - interval '1 minute' WHERE account = 'da-acct';
SELECT order_ref, status FROM order_credit.place_order('da-po9', '[{"sku": "da-p1", "quantity": 1, "unit_price": 1}]', 'da-acct');
SELECT next_expiry > statement_timestamp() AS next_expiry_renewed FROM order_credit.accounts WHERE account = 'da-acct';
-- A replayed order is answered (by the composed path); nothing is written
-- twice.
SELECT order_ref, status, amount FROM order_credit.place_order('da-po1',
    '[{"sku": "da-p2", "quantity": 1, "unit_price": 1}, {"sku": "da-p1", "quantity": 2, "unit_price": 5}]', 'da-acct');
SELECT count(*) AS po1_holds FROM order_credit.holds WHERE order_ref = 'da-po1';
-- With direct access off the composed path places the whole order: the same
-- rows as the fast path writes.
SET order_credit.direct_access = off;
SELECT order_ref, status, amount FROM order_credit.place_order('da-po5',
    '[{"sku": "da-p1", "quantity": 1, "unit_price": 3}]', 'da-acct');
RESET order_credit.direct_access;
SELECT order_ref, sku, quantity FROM order_credit.reservations WHERE order_ref = 'da-po5';
SELECT h.amount, l.kind, l.pending_after, o.status, oh.to_status
  FROM order_credit.holds h JOIN order_credit.ledger l USING (order_ref)
  JOIN order_credit.orders o USING (order_ref) JOIN order_credit.order_history oh USING (order_ref)
 WHERE order_ref = 'da-po5';
-- Short of credit: the stock the fast attempt reserved is rolled back.
SELECT order_credit.place_order('da-po3', '[{"sku": "da-p1", "quantity": 1, "unit_price": 5000}]', 'da-acct');
SELECT count(*) AS po3_reservations FROM order_credit.reservations WHERE order_ref = 'da-po3';
-- Short of stock on the second SKU: the first is rolled back too.
SELECT order_credit.place_order('da-po4',
    '[{"sku": "da-p1", "quantity": 1, "unit_price": 1}, {"sku": "da-p2", "quantity": 50, "unit_price": 1}]', 'da-acct');
SELECT count(*) AS po4_reservations FROM order_credit.reservations WHERE order_ref = 'da-po4';
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('da-p1')
UNION ALL
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('da-p2');
SELECT pending, available FROM order_credit.credit_status('da-acct');
SELECT count(*) AS violations FROM order_credit.verify();
RESET order_credit.default_ttl;

-- expire_due's stock step deletes due claims and gives their units back
-- without the executor too (src/pg/stock/expire_direct.cpp); with direct access
-- off, one statement does it (S_expire_stock_batch). The same rows either
-- way: identical sets of items, each with due reservations (one-bucket;
-- striped, one of them over both buckets) and live ones, one set swept in
-- each mode, and one by the direct sweep reading the table in block order
-- (order_credit.expire_scan = heap) instead of the due index.
SELECT order_credit.expire_due() >= 0 AS earlier_due_swept;
CREATE FUNCTION pg_temp.da_stock_set(p text) RETURNS void LANGUAGE sql AS $$
    SELECT order_credit.set_stock(p || '-one', 10);
    SELECT order_credit.set_stock(p || '-st', 10, 2);
    SELECT order_credit.reserve_stock(p || '-one', 3, p || '-d1', '1 hour');
    SELECT order_credit.reserve_stock(p || '-one', 2, p || '-l1', '1 hour');
    SELECT order_credit.reserve_stock(p || '-st', 7, p || '-d2', '1 hour');
    SELECT order_credit.reserve_stock(p || '-st', 1, p || '-d3', '1 hour');
    SELECT order_credit.reserve_stock(p || '-st', 1, p || '-l2', '1 hour');
    SELECT order_credit.reserve_stock(p || '-one', 1, p || '-l3');
$$;
-- pretend an hour went by for the -d reservations of set p
CREATE FUNCTION pg_temp.da_make_due(p text) RETURNS bigint LANGUAGE sql AS $$
    UPDATE order_credit.reservations SET expires_at = statement_timestamp() - interval '1 second'
     WHERE order_ref LIKE p || '-d%';
    WITH gone AS (
        DELETE FROM order_credit.reservation_claims c USING order_credit.reservations r
         WHERE r.order_ref LIKE p || '-d%' AND c.reservation_id = r.reservation_id RETURNING c.*)
    INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity, part_buckets, part_qty)
    SELECT g.sku, r.expires_at, g.reservation_id, g.quantity, g.part_buckets, g.part_qty
      FROM gone g JOIN order_credit.reservations r USING (reservation_id)
    RETURNING 1;
    SELECT count(*) FROM order_credit.reservation_claims c JOIN order_credit.reservations r USING (reservation_id)
     WHERE r.order_ref LIKE p || '-d%' AND c.expires_at <= statement_timestamp();
$$;
SELECT pg_temp.da_stock_set('dxs'), pg_temp.da_stock_set('dxd'), pg_temp.da_stock_set('dxh');
SELECT order_ref, sku, part_buckets, part_qty FROM order_credit.reservations
 WHERE order_ref LIKE 'dx%-d2' ORDER BY 1;
SELECT pg_temp.da_make_due('dxs') AS due_sql_set;
SET client_min_messages = debug2;
SET order_credit.direct_access = off;
SELECT order_credit.expire_due() AS expired_sql;
RESET order_credit.direct_access;
SELECT pg_temp.da_make_due('dxd') AS due_direct_set;
SELECT order_credit.expire_due() AS expired_direct;
SELECT pg_temp.da_make_due('dxh') AS due_heap_set;
SET order_credit.expire_scan = heap;
SELECT order_credit.expire_due() AS expired_heap;
RESET order_credit.expire_scan;
RESET client_min_messages;
-- bucket by bucket, the three sets alike: reserved lowered by the due parts
-- only, on_hand untouched
SELECT substr(b.sku, 5) AS item, b.bucket,
       max(b.on_hand) FILTER (WHERE b.sku LIKE 'dxs%') AS on_hand_sql,
       max(b.on_hand) FILTER (WHERE b.sku LIKE 'dxd%') AS on_hand_direct,
       max(b.on_hand) FILTER (WHERE b.sku LIKE 'dxh%') AS on_hand_heap,
       max(b.reserved) FILTER (WHERE b.sku LIKE 'dxs%') AS reserved_sql,
       max(b.reserved) FILTER (WHERE b.sku LIKE 'dxd%') AS reserved_direct,
       max(b.reserved) FILTER (WHERE b.sku LIKE 'dxh%') AS reserved_heap
  FROM order_credit.stock_buckets b WHERE b.sku LIKE 'dx_-%' GROUP BY 1, 2 ORDER BY 1, 2;
-- the claims left: the live reservations' only; no reservation row changed
SELECT substr(r.order_ref, 5) AS ref,
       bool_or(c.reservation_id IS NOT NULL) FILTER (WHERE r.order_ref LIKE 'dxs%') AS claimed_sql,
       bool_or(c.reservation_id IS NOT NULL) FILTER (WHERE r.order_ref LIKE 'dxd%') AS claimed_direct,
       bool_or(c.reservation_id IS NOT NULL) FILTER (WHERE r.order_ref LIKE 'dxh%') AS claimed_heap,
       string_agg(DISTINCT r.status, ',') AS stored_status
  FROM order_credit.reservations r LEFT JOIN order_credit.reservation_claims c USING (reservation_id)
 WHERE r.order_ref LIKE 'dx_-%' GROUP BY 1 ORDER BY 1;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_levels WHERE sku LIKE 'dx_-%' ORDER BY sku;
SELECT count(*) AS violations FROM order_credit.verify();
-- A trigger on deleting claims takes the direct sweep out of use (the SQL
-- path runs and the trigger fires); in REPEATABLE READ the statement runs
-- too (its SKIP LOCKED and serialization rules are the executor's).
CREATE FUNCTION pg_temp.da_claim_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'claim of % deleted', OLD.sku;
    RETURN OLD;
END $$;
SELECT pg_temp.da_stock_set('dxt');
SELECT pg_temp.da_make_due('dxt') AS due_trigger_set;
CREATE TRIGGER da_claims AFTER DELETE ON order_credit.reservation_claims
    FOR EACH ROW EXECUTE FUNCTION pg_temp.da_claim_gone();
SET client_min_messages = debug2;
SELECT order_credit.expire_due() AS expired_with_trigger;
RESET client_min_messages;
DROP TRIGGER da_claims ON order_credit.reservation_claims;
SELECT pg_temp.da_stock_set('dxr');
SELECT pg_temp.da_make_due('dxr') AS due_rr_set;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL client_min_messages = debug2;
SELECT order_credit.expire_due() AS expired_repeatable_read;
COMMIT;
SET client_min_messages = debug2;
SELECT order_credit.expire_due() AS nothing_left;
RESET client_min_messages;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_levels WHERE sku ~ '^dx[tr]' ORDER BY sku;
SELECT count(*) AS violations FROM order_credit.verify();

-- The heap pass (direct_expire.cpp): with expire_scan = auto, a call of
-- 1,000 or more on a claims table of 256 pages or more reads the table in
-- block order, from where the last pass stopped, when at least 1 in 16 of
-- the claims on 32 pages picked at random is due; otherwise the due index.
-- 40 items with 1,000 reservations each written as reserve_stock writes
-- them (claim, reserved), due or live.
CREATE FUNCTION public.da_backlog(p text, due boolean) RETURNS bigint LANGUAGE sql AS $$
    SELECT order_credit.set_stock(p || i, 1000) FROM generate_series(1, 40) i;
    WITH r AS (
        INSERT INTO order_credit.reservations (order_ref, sku, quantity, expires_in, expires_at)
        SELECT p || '-r' || n, p || (1 + n % 40), 1, interval '1 hour',
               statement_timestamp() + CASE WHEN due THEN -interval '1 minute' ELSE interval '1 hour' END
          FROM generate_series(1, 40000) n
        RETURNING reservation_id, sku, quantity, expires_at)
    INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity)
    SELECT sku, expires_at, reservation_id, quantity FROM r;  -- parts NULL (both rows): all from bucket 0
    UPDATE order_credit.stock_buckets SET reserved = 1000 WHERE sku LIKE p || '%';
    SELECT count(*) FROM order_credit.reservation_claims WHERE sku LIKE p || '%' AND expires_at <= statement_timestamp();
$$;
-- (unpaced: whether a batch pauses depends on how long the one before took)
SET order_credit.expire_max_rate = 0;
SELECT public.da_backlog('dbk', true) AS due_backlog;
SELECT pg_relation_size('order_credit.reservation_claims') / current_setting('block_size')::int >= 256 AS table_big_enough;
-- in batches: each call takes its 20,000 in block order, the next one
-- goes on from there; then nothing is due and the index is asked
SET client_min_messages = debug2;
SELECT order_credit.expire_due(20000) AS batch_1;
SELECT order_credit.expire_due(20000) AS batch_2;
SELECT order_credit.expire_due(20000) AS batch_3;
RESET client_min_messages;
SELECT count(*) AS items, sum(on_hand) AS on_hand, sum(reserved) AS reserved
  FROM order_credit.stock_levels WHERE sku LIKE 'dbk%';
SELECT count(*) AS claims_left FROM order_credit.reservation_claims WHERE sku LIKE 'dbk%';
SELECT count(*) AS violations FROM order_credit.verify();
-- Few due claims among many live ones: the due index finds them.
SELECT public.da_backlog('dlv', false) AS live_due;
-- 10 of them made due (claims are only inserted and deleted)
UPDATE order_credit.reservations SET expires_at = statement_timestamp() - interval '1 second'
 WHERE order_ref IN (SELECT 'dlv-r' || n FROM generate_series(1000, 39000, 4000) n);
WITH gone AS (
    DELETE FROM order_credit.reservation_claims c USING order_credit.reservations r
     WHERE c.reservation_id = r.reservation_id
       AND r.order_ref IN (SELECT 'dlv-r' || n FROM generate_series(1000, 39000, 4000) n)
    RETURNING c.*)
INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity, part_buckets, part_qty)
SELECT g.sku, r.expires_at, g.reservation_id, g.quantity, g.part_buckets, g.part_qty
  FROM gone g JOIN order_credit.reservations r USING (reservation_id);
SET client_min_messages = debug2;
SELECT order_credit.expire_due(6000) AS few_due;
RESET client_min_messages;
SELECT count(*) AS claims_left FROM order_credit.reservation_claims WHERE sku LIKE 'dlv%';
SELECT sum(reserved) AS reserved FROM order_credit.stock_buckets WHERE sku LIKE 'dlv%';
SELECT count(*) AS violations FROM order_credit.verify();
DROP FUNCTION public.da_backlog(text, boolean);
