-- A deterministic workload that leaves a row in every state of every
-- user table: accounts active and blocked; holds pending, captured (whole and
-- part), voided, reversed, expired (swept) and due but unswept; payments;
-- items of 1, 4 and 8 buckets; reservations active, committed, released and
-- expired, single and multi-item; orders pending, paid, processing, shipped,
-- delivered, cancelled and expired; idempotency keys completed and in
-- progress under a lease; leases held and released; processed events.
-- Used by the operations scenarios (test/ops/*.sh) before they back up,
-- upgrade or replicate a database. Runs in one psql session, stops at the
-- first error.
\set ON_ERROR_STOP 1
\set QUIET 1
SELECT order_credit.create_account('wl-a' || i, 100000, 'EUR') FROM generate_series(1, 20) i;
SELECT order_credit.create_account('wl-blocked', 5000);
SELECT order_credit.block_account('wl-blocked', 'overdue invoices');
SELECT order_credit.set_credit_limit('wl-a1', 150000);
SELECT order_credit.set_stock('wl-one', 1000);
SELECT order_credit.set_stock('wl-four', 2000, 4);
SELECT order_credit.set_stock('wl-eight', 5000, 8);
SELECT order_credit.adjust_stock('wl-one', 50, 'receipt 17');

-- Credit: one hold per state.
SELECT order_credit.reserve_credit('wl-a2', 100, 'wl-h-pending');
SELECT order_credit.reserve_credit('wl-a2', 200, 'wl-h-captured');
SELECT order_credit.capture_credit('wl-h-captured');
SELECT order_credit.reserve_credit('wl-a2', 300, 'wl-h-part');
SELECT order_credit.capture_credit('wl-h-part', 120.5);
SELECT order_credit.reserve_credit('wl-a3', 400, 'wl-h-voided');
SELECT order_credit.release_credit('wl-h-voided', 'customer cancelled');
SELECT order_credit.reserve_credit('wl-a3', 500, 'wl-h-reversed');
SELECT order_credit.capture_credit('wl-h-reversed');
SELECT order_credit.release_credit('wl-h-reversed', 'returned');
SELECT order_credit.reserve_credit('wl-a4', 600, 'wl-h-expired', '10 milliseconds');
SELECT order_credit.reserve_credit('wl-a4', 700, 'wl-h-forever', NULL);
SELECT order_credit.record_payment('wl-a2', 200, 'wl-pay-1');
SELECT order_credit.record_payment('wl-a2', 20.5, 'wl-pay-2');

-- Stock: single and multi-item reservations in every state.
SELECT order_credit.reserve_stock('wl-one', 5, 'wl-r-active');
SELECT order_credit.reserve_stock('[{"sku":"wl-four","quantity":7},{"sku":"wl-eight","quantity":3}]', 'wl-r-multi');
SELECT order_credit.reserve_stock('wl-four', 9, 'wl-r-committed');
SELECT order_credit.commit_stock('wl-r-committed');
SELECT order_credit.reserve_stock('wl-eight', 11, 'wl-r-released');
SELECT order_credit.release_stock('wl-r-released', 'changed mind');
SELECT order_credit.reserve_stock('wl-eight', 13, 'wl-r-expired', '10 milliseconds');

-- Orders: every status.
SELECT order_credit.place_order('wl-o-' || s,
         '[{"sku":"wl-one","quantity":2,"unit_price":10},{"sku":"wl-eight","quantity":1,"unit_price":25.25}]',
         'wl-a5')
  FROM unnest(ARRAY['pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded']) s;
SELECT order_credit.place_order('wl-o-expired', '[{"sku":"wl-four","quantity":4,"unit_price":3}]',
                                'wl-a6', '10 milliseconds');
SELECT order_credit.place_order('wl-o-nocredit', '[{"sku":"wl-four","quantity":1,"unit_price":1}]');
SELECT order_credit.confirm_order('wl-o-' || s, 'wl-pay-' || s)
  FROM unnest(ARRAY['paid', 'processing', 'shipped', 'delivered', 'refunded']) s;
SELECT order_credit.set_order_status('wl-o-' || s, 'processing')
  FROM unnest(ARRAY['processing', 'shipped', 'delivered']) s;
SELECT order_credit.set_order_status('wl-o-' || s, 'shipped') FROM unnest(ARRAY['shipped', 'delivered']) s;
SELECT order_credit.set_order_status('wl-o-delivered', 'delivered');
SELECT order_credit.cancel_order('wl-o-cancelled', 'out of budget');
SELECT order_credit.cancel_order('wl-o-refunded', 'refund');

-- Coordination.
SELECT * FROM order_credit.idempotency_begin('wl-k-done', 'fp-1');
SELECT order_credit.idempotency_complete('wl-k-done', '{"order":"wl-o-paid"}', 201);
SELECT * FROM order_credit.idempotency_begin('wl-k-leased', 'fp-2', '1 hour');
SELECT order_credit.idempotency_checkpoint('wl-k-leased', 'charged');
SELECT order_credit.acquire_lease('wl-lease-held', 'worker-1', '1 hour');
SELECT order_credit.acquire_lease('wl-lease-free', 'worker-2', '1 hour');
SELECT order_credit.release_lease('wl-lease-free', 'worker-2',
                                  (SELECT token FROM order_credit.leases WHERE key = 'wl-lease-free'));
SELECT order_credit.process_once('wl-psp', 'evt-' || i) FROM generate_series(1, 5) i;

-- Let the short expiries pass and sweep them; then leave a hold, a
-- reservation and an order due but unswept (readers must see them expired).
SELECT pg_sleep(0.05);
SELECT order_credit.expire_due();
SELECT order_credit.reserve_credit('wl-a7', 800, 'wl-h-due', '10 milliseconds');
SELECT order_credit.reserve_stock('wl-four', 2, 'wl-r-due', '10 milliseconds');
SELECT order_credit.place_order('wl-o-due', '[{"sku":"wl-eight","quantity":2,"unit_price":4}]',
                                'wl-a7', '10 milliseconds');
SELECT pg_sleep(0.05);
