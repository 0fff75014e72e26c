-- Stock: every function, error and boundary of docs/reference.md, plus
-- expire_due for reservations, active_reservations and verify().
\set VERBOSITY default
SET order_credit.default_ttl = '1h';
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.set_stock('rice', 10);
-- set_stock again with the same level changes nothing (no audit entry).
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.set_stock('rice', 10);
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.stock_status('rice');

-- Argument errors.
SELECT order_credit.set_stock('x', -1);
SELECT order_credit.set_stock('x', 1, 0);
SELECT order_credit.set_stock('x', 1, 1025);
SELECT order_credit.set_stock(NULL, 1);
SELECT order_credit.set_stock('', 1);
SELECT order_credit.reserve_stock('rice', 0, 'q0');
SELECT order_credit.reserve_stock('rice', -1, 'q1');
SELECT order_credit.reserve_stock('rice', NULL::bigint, 'q1');
SELECT order_credit.reserve_stock('rice', 1, NULL);
SELECT order_credit.reserve_stock('rice', '9223372036854775808'::bigint, 'q2');
SELECT order_credit.reserve_stock('rice', 9223372036854775807, 'q2');
SELECT order_credit.reserve_stock('rice', 1, 'q3', '-1 minute');
SELECT order_credit.reserve_stock('nope', 1, 'q4');
SELECT order_credit.stock_status('nope');
SELECT order_credit.adjust_stock('nope', 1, 'receipt');
SELECT order_credit.adjust_stock('rice', 0, 'nothing');
SELECT order_credit.adjust_stock('rice', 1, NULL);

-- Reserve, replay, mismatch, insufficient.
SELECT reservation_id IS NOT NULL AS has_id, sku, order_ref, quantity, status, available
  FROM order_credit.reserve_stock('rice', 3, 'o1');
SELECT reservation_id AS o1_id FROM order_credit.reservations WHERE order_ref = 'o1' AND sku = 'rice' \gset
-- The replay returns the same reservation.
SELECT reservation_id = :o1_id AS same_id, sku, order_ref, quantity, status, available
  FROM order_credit.reserve_stock('rice', 3, 'o1');
SELECT order_credit.reserve_stock('rice', 4, 'o1');
SELECT order_credit.reserve_stock('rice', 3, 'o1', '2 hours');
SELECT order_credit.reserve_stock('rice', 8, 'o2');
SELECT ok, code, message, reservation_id IS NULL AS no_id, available
  FROM order_credit.try_reserve_stock('rice', 8, 'o2');
SELECT ok, code, message, reservation_id IS NOT NULL AS has_id, available
  FROM order_credit.try_reserve_stock('rice', 7, 'o2');
SELECT ok, code, available FROM order_credit.try_reserve_stock('nope', 1, 'o2');
SELECT order_credit.try_reserve_stock('rice', 0, 'o2');
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('rice');

-- adjust below reserved: OC004; receipts are fine.
SELECT order_credit.adjust_stock('rice', -1, 'shrinkage');
SELECT sku, on_hand, reserved, available FROM order_credit.adjust_stock('rice', 5, 'receipt');
SELECT sku, on_hand, reserved, available FROM order_credit.adjust_stock('rice', -2, 'damaged');
SELECT order_credit.set_stock('rice', 9);

-- Commit, commit twice, release after commit.
SELECT sku, order_ref, quantity, status, available FROM order_credit.commit_stock('o1');
SELECT sku, order_ref, quantity, status, available FROM order_credit.commit_stock('o1');
SELECT order_credit.release_stock('o1');
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('rice');
-- Release, release twice, commit after release.
SELECT sku, order_ref, quantity, status, available FROM order_credit.release_stock('o2', 'changed mind');
SELECT sku, order_ref, quantity, status, available FROM order_credit.release_stock('o2');
SELECT order_credit.commit_stock('o2');
SELECT order_credit.commit_stock('nobody');
SELECT order_credit.release_stock('nobody');
SELECT order_credit.commit_stock(NULL);

-- Multi-item: all or nothing, sku order, replay, bad documents.
SELECT sku, on_hand, buckets FROM order_credit.set_stock('beans', 5);
SELECT sku, order_ref, quantity, status, available
  FROM order_credit.reserve_stock('[{"sku": "rice", "quantity": 2}, {"sku": "beans", "quantity": 1}]', 'm1');
SELECT sku, order_ref, quantity, status, available
  FROM order_credit.reserve_stock('[{"sku": "beans", "quantity": 1}, {"sku": "rice", "quantity": 2}]', 'm1');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 2}, {"sku": "rice", "quantity": 2}]', 'm1');
-- beans would fit, rice would not: nothing is reserved.
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 1}, {"sku": "rice", "quantity": 100}]', 'm2');
SELECT count(*) AS m2_rows FROM order_credit.reservations WHERE order_ref = 'm2';
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('beans');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 1}, {"sku": "nope", "quantity": 1}]', 'm3');
SELECT order_credit.reserve_stock('{"sku": "beans", "quantity": 1}', 'm4');
SELECT order_credit.reserve_stock('[]', 'm4');
SELECT order_credit.reserve_stock('"beans"', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 1}, 7]', 'm4');
SELECT order_credit.reserve_stock('[{"quantity": 1}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": 12, "quantity": 1}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "", "quantity": 1}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans"}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 0}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": -2}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 1.5}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": "1"}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 9223372036854775808}]', 'm4');
SELECT order_credit.reserve_stock('[{"sku": "beans", "quantity": 1}, {"sku": "rice", "quantity": 1}, {"sku": "beans", "quantity": 1}]', 'm4');
SELECT order_credit.reserve_stock(NULL::jsonb, 'm4');
SELECT sku, quantity, status FROM order_credit.reserve_stock('[{"sku": "beans", "quantity": 1.000}]', 'm4');

-- Striped items: a request larger than any bucket spans buckets; the item
-- shows as one; changing the bucket count keeps every unit.
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.set_stock('hot', 20, 4);
SELECT bucket, on_hand, reserved FROM order_credit.stock_buckets WHERE sku = 'hot' ORDER BY bucket;
SELECT sku, quantity, status, available FROM order_credit.reserve_stock('hot', 12, 'h1');
SELECT cardinality(part_buckets) > 1 AS spans, quantity FROM order_credit.reservations WHERE order_ref = 'h1';
SELECT sku, quantity, available FROM order_credit.reserve_stock('hot', 3, 'h2');
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.set_stock('hot', 20, 2);
-- a reservation and its claim store the same parts, NULL when all units
-- are in bucket 0
CREATE TEMP VIEW hot_claims AS
SELECT r.order_ref,
       (coalesce(r.part_buckets, '{0}') = '{0}') = (r.part_buckets IS NULL AND r.part_qty IS NULL)
       AND (r.part_buckets IS NULL) = (c.part_buckets IS NULL) AS null_iff_bucket_0,
       c.quantity = r.quantity
       AND (c.part_buckets, c.part_qty) IS NOT DISTINCT FROM (r.part_buckets, r.part_qty) AS same_parts
  FROM order_credit.reservations r JOIN order_credit.reservation_claims c USING (reservation_id)
 WHERE r.sku = 'hot' ORDER BY 1;
SELECT * FROM hot_claims;
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.set_stock('hot', 20, 8);
SELECT order_credit.set_stock('hot', 14, 8);
SELECT sku, quantity, available FROM order_credit.reserve_stock('hot', 5, 'h3');
SELECT order_credit.reserve_stock('hot', 1, 'h4');
SELECT sku, order_ref, quantity, status FROM order_credit.commit_stock('h1');
SELECT sku, on_hand, reserved, available, buckets FROM order_credit.stock_status('hot');
SELECT * FROM hot_claims;
-- back to one bucket: every part moves to bucket 0, the claims drop their parts
SELECT sku, on_hand, reserved, available, buckets
  FROM order_credit.set_stock('hot', (SELECT on_hand FROM order_credit.stock_status('hot')), 1);
SELECT * FROM hot_claims;
SELECT count(*) AS claims, count(*) FILTER (WHERE part_buckets IS NULL AND part_qty IS NULL) AS without_parts
  FROM order_credit.reservation_claims WHERE sku = 'hot';
SELECT count(*) AS reservations, count(*) FILTER (WHERE part_buckets IS NULL AND part_qty IS NULL) AS without_parts
  FROM order_credit.reservations WHERE sku = 'hot' AND status = 'active';
SELECT * FROM order_credit.verify();

-- Exact expiry: an expired reservation never blocks a buyer and cannot be
-- committed, whether or not expire_due ran.
SELECT sku, on_hand, buckets FROM order_credit.set_stock('seat', 1);
SELECT sku, quantity, status FROM order_credit.reserve_stock('seat', 1, 'e1', '1 millisecond');
SELECT pg_sleep(0.02);
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('seat');
SELECT count(*) AS e1_active FROM order_credit.active_reservations WHERE order_ref = 'e1';
SELECT order_credit.commit_stock('e1');
SELECT sku, quantity, status FROM order_credit.reserve_stock('seat', 1, 'e2');
SELECT sku, order_ref, status FROM order_credit.release_stock('e1');
SELECT order_ref, status FROM order_credit.reservations WHERE sku = 'seat' ORDER BY order_ref;
SELECT order_credit.commit_stock('e2') IS NOT NULL AS committed;
-- expire_due deletes the claims of due reservations and gives the units
-- back. (First sweep
-- whatever earlier test files left due, so the counts below are this file's.)
SELECT order_credit.expire_due(1000000) >= 0 AS swept_earlier_files;
SELECT sku, on_hand, buckets FROM order_credit.set_stock('pen', 10, 2);
SELECT count(*) FROM (SELECT order_credit.reserve_stock('pen', 1, 'x' || i, '1 millisecond')
                        FROM generate_series(1, 5) i) s;
SELECT sku, quantity FROM order_credit.reserve_stock('pen', 2, 'keep', NULL);
SELECT pg_sleep(0.02);
SELECT sum(reserved) AS stored_reserved FROM order_credit.stock_buckets WHERE sku = 'pen';
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('pen');
SELECT order_credit.expire_due(3) AS first_batch;
SELECT order_credit.expire_due() AS second_batch;
SELECT order_credit.expire_due() AS nothing_left;
SELECT sum(reserved) AS stored_reserved FROM order_credit.stock_buckets WHERE sku = 'pen';
SELECT order_ref, sku, quantity, expires_at IS NULL AS never FROM order_credit.active_reservations
 WHERE sku = 'pen';
SELECT count(*) AS pen_claims FROM order_credit.reservation_claims WHERE sku = 'pen';
SELECT order_credit.expire_due(0);
SELECT order_credit.expire_due(NULL);

-- expire_due does not update an expired reservation's row (it deletes the
-- reservation's claim): the stored status stays active, yet every reader
-- sees it expired, and commit is OC008 whether or not expire_due ran.
SELECT sku, on_hand FROM order_credit.set_stock('lamp', 5);
SELECT sku, order_ref, status FROM order_credit.reserve_stock('lamp', 1, 'l1', '1 millisecond');
SELECT sku, order_ref, status FROM order_credit.reserve_stock('lamp', 2, 'l2', '1 millisecond');
SELECT pg_sleep(0.02);
SELECT ctid AS l2_ctid, xmin AS l2_xmin FROM order_credit.reservations WHERE order_ref = 'l2' \gset
SELECT order_credit.commit_stock('l1');
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('lamp');
SELECT order_credit.expire_due() AS swept;
SELECT order_ref, status AS stored_status, ctid = :'l2_ctid'::tid AND xmin = :'l2_xmin'::xid AS row_untouched
  FROM order_credit.reservations WHERE order_ref = 'l2';
SELECT count(*) AS lamp_claims FROM order_credit.reservation_claims WHERE sku = 'lamp';
SELECT sum(reserved) AS stored_reserved FROM order_credit.stock_buckets WHERE sku = 'lamp';
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('lamp');
SELECT count(*) AS lamp_active FROM order_credit.active_reservations WHERE sku = 'lamp';
SELECT sku, order_ref, quantity, status FROM order_credit.reserve_stock('lamp', 2, 'l2', '1 millisecond');
SELECT order_credit.commit_stock('l2');
SELECT order_credit.commit_stock('l1');
SELECT sku, order_ref, status FROM order_credit.release_stock('l2');
SELECT order_ref, status AS stored_status FROM order_credit.reservations WHERE sku = 'lamp' ORDER BY 1;
SELECT * FROM order_credit.verify();

-- The audit: every change to on_hand, append-only.
SELECT sku, kind, delta, on_hand_after, buckets_after, order_ref, reason, created_by
  FROM order_credit.stock_audit WHERE sku IN ('rice', 'beans', 'hot', 'seat', 'pen', 'lamp') ORDER BY audit_id;
UPDATE order_credit.stock_audit SET delta = 0;
DELETE FROM order_credit.stock_audit;
SELECT * FROM order_credit.verify();
-- verify() notices a tampered bucket.
BEGIN;
UPDATE order_credit.stock_buckets SET reserved = reserved + 1 WHERE sku = 'beans';
SELECT check_name, subject, detail FROM order_credit.verify();
ROLLBACK;
-- Access tiers.
SELECT function, tier FROM order_credit.function_access
 WHERE function::text ~ '(stock|expire)' ORDER BY 1::text;
-- expire_due also expires credit holds (ledger kind expire).
SELECT account, available FROM order_credit.create_account('acme', 100);
SELECT amount, status FROM order_credit.reserve_credit('acme', 20, 'c2');
SELECT amount, status FROM order_credit.reserve_credit('acme', 30, 'c1', '1 millisecond');
SELECT pg_sleep(0.02);
SELECT order_credit.expire_due() AS expired_holds;
SELECT order_ref, status FROM order_credit.holds WHERE account = 'acme' ORDER BY order_ref;
SELECT kind, amount, order_ref, pending_after FROM order_credit.ledger WHERE account = 'acme' ORDER BY entry_id;
SELECT pending, available FROM order_credit.credit_status('acme');
SELECT * FROM order_credit.verify();

-- More than 64 claims of a SKU past expiry and not yet swept: the next
-- reservation expires them first (the slow path, every bucket locked in
-- order) instead of reading them all to count their units as available.
SELECT sku FROM order_credit.set_stock('due-many', 100, 2);
SELECT count(*) FROM (SELECT order_credit.reserve_stock('due-many', 1, 'dm-' || g, interval '1 millisecond')
                        FROM generate_series(1, 65) g) x;
SELECT sku FROM order_credit.set_stock('due-few', 100, 2);
SELECT count(*) FROM (SELECT order_credit.reserve_stock('due-few', 1, 'df-' || g, interval '1 millisecond')
                        FROM generate_series(1, 64) g) x;
SELECT pg_sleep(0.01);
SELECT sku, count(*) AS due_claims FROM order_credit.reservation_claims
 WHERE sku IN ('due-many', 'due-few') AND expires_at <= now() GROUP BY sku ORDER BY sku;
SELECT quantity, status, available FROM order_credit.reserve_stock('due-many', 1, 'dm-new');
SELECT quantity, status, available FROM order_credit.reserve_stock('due-few', 1, 'df-new');
-- due-many: only the new claim is left; due-few (64 due): left to expire_due
SELECT sku, count(*) AS claims, sum(quantity) AS units FROM order_credit.reservation_claims
 WHERE sku IN ('due-many', 'due-few') GROUP BY sku ORDER BY sku;
SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('due-many')
UNION ALL SELECT sku, on_hand, reserved, available FROM order_credit.stock_status('due-few');
-- the same through the SQL path (no direct table access)
SET order_credit.direct_access = off;
SELECT sku FROM order_credit.set_stock('due-sql', 100, 2);
SELECT count(*) FROM (SELECT order_credit.reserve_stock('due-sql', 1, 'ds-' || g, interval '1 millisecond')
                        FROM generate_series(1, 65) g) x;
SELECT pg_sleep(0.01);
SELECT quantity, status, available FROM order_credit.reserve_stock('due-sql', 1, 'ds-new');
SELECT count(*) AS claims, sum(quantity) AS units FROM order_credit.reservation_claims WHERE sku = 'due-sql';
RESET order_credit.direct_access;
SELECT * FROM order_credit.verify();
-- adjust_stock needs a reason: NULL is 22004, an empty or blank one 22023;
-- nothing changes
SELECT sku FROM order_credit.set_stock('why', 10);
SELECT order_credit.adjust_stock('why', 5, NULL);
SELECT order_credit.adjust_stock('why', 5, '');
SELECT order_credit.adjust_stock('why', 5, E' \t\n');
SELECT on_hand, (SELECT count(*) FROM order_credit.stock_audit WHERE sku = 'why') AS audit_rows
  FROM order_credit.stock_status('why');
-- reserve_stock(jsonb) refuses a key it does not know, as place_order does
-- (the smallest unknown key is named); nothing is reserved
SELECT * FROM order_credit.reserve_stock('[{"sku":"why","quantity":1,"x":1}]', 'why-1');
SELECT * FROM order_credit.reserve_stock('[{"sku":"why","quantity":1},{"quantity":1,"sku":"why2","zz":0,"b":{}}]', 'why-1');
SELECT * FROM order_credit.place_order('why-2', '[{"sku":"why","quantity":1,"unit_price":1,"x":1}]');
SELECT reserved FROM order_credit.stock_status('why');
