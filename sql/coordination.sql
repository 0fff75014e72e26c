-- Coordination (docs/reference.md): idempotency keys, named locks,
-- leases with fencing tokens, exactly-once events, and their purge.
-- Errors are shown as "SQLSTATE: message [detail]" (sql/include/err.sql).
\i sql/include/err.sql

-- ================================================================ idempotency
-- First time: new. Inside the same transaction the key and the writes
-- commit or vanish together: roll back, and the key is new again.
BEGIN;
SELECT * FROM order_credit.idempotency_begin('pay-1', 'fp-A');
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM order_credit.idempotency_keys WHERE key = 'pay-1';
BEGIN;
SELECT * FROM order_credit.idempotency_begin('pay-1', 'fp-A');
SELECT order_credit.idempotency_complete('pay-1', '{"charge": "ch_1", "amount": 10.50, "z": [1, 2]}', 201);
COMMIT;
-- Completed: replay with the stored response and code, the same bytes every time.
SELECT state, response::text, response_code, recovery_point, retry_after
  FROM order_credit.idempotency_begin('pay-1', 'fp-A');
SELECT (SELECT response::text FROM order_credit.idempotency_begin('pay-1', 'fp-A'))
     = (SELECT response::text FROM order_credit.idempotency_keys WHERE key = 'pay-1') AS same_bytes;
-- wait => true on a completed key answers at once.
SELECT state, response_code FROM order_credit.idempotency_begin('pay-1', 'fp-A', NULL, true);
-- Same key, other fingerprint: OC009, whether completed or not.
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('pay-1', 'fp-B')$$);
-- Completing again with the same response is a no-op; another response or code is OC009.
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('pay-1', '{"z": [1, 2], "amount": 10.50, "charge": "ch_1"}', 201)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('pay-1', '{"charge": "ch_2"}', 201)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('pay-1', '{"charge": "ch_1", "amount": 10.50, "z": [1, 2]}', 200)$$);
SELECT response->>'charge' AS charge, response_code FROM order_credit.idempotency_keys WHERE key = 'pay-1';

-- Complete or checkpoint without begin: OC006.
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('never-begun', '{}')$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_checkpoint('never-begun', 'step-1')$$);
-- Checkpoint of a completed key: OC007.
SELECT pg_temp.err($$SELECT order_credit.idempotency_checkpoint('pay-1', 'step-1')$$);

-- Default response_code is 200.
SELECT state FROM order_credit.idempotency_begin('pay-2', 'fp');
SELECT order_credit.idempotency_complete('pay-2', '"ok"');
SELECT state, response, response_code FROM order_credit.idempotency_begin('pay-2', 'fp');

-- Committed without completing and without a lease: nothing protects it
-- any more, the next begin resumes it with the recovery point.
SELECT state FROM order_credit.idempotency_begin('pay-3', 'fp');
SELECT order_credit.idempotency_checkpoint('pay-3', 'charged');
SELECT state, recovery_point, retry_after FROM order_credit.idempotency_begin('pay-3', 'fp');

-- With a lease: committed begin, live lease -> in_progress with retry_after.
SELECT state FROM order_credit.idempotency_begin('pay-4', 'fp', '1 hour');
SELECT state, retry_after > '59 minutes' AND retry_after <= '1 hour' AS retry_after_is_lease
  FROM order_credit.idempotency_begin('pay-4', 'fp', '1 hour');
-- A lapsed lease -> resume with the recovery point, under a new lease.
SELECT state FROM order_credit.idempotency_begin('pay-5', 'fp', '20 ms');
SELECT order_credit.idempotency_checkpoint('pay-5', 'reserved stock');
SELECT pg_sleep(0.1);
SELECT state, recovery_point FROM order_credit.idempotency_begin('pay-5', 'fp', '1 hour');
SELECT resumed, lease, lease_expires_at > statement_timestamp() + interval '59 minutes' AS new_lease
  FROM order_credit.idempotency_keys WHERE key = 'pay-5';
SELECT state, retry_after IS NOT NULL AS has_retry_after
  FROM order_credit.idempotency_begin('pay-5', 'fp', '1 hour');
-- A checkpoint renews the lease by the lease given to begin.
UPDATE order_credit.idempotency_keys SET lease_expires_at = statement_timestamp() + interval '1 s'
 WHERE key = 'pay-5';
SELECT order_credit.idempotency_checkpoint('pay-5', 'charged');
SELECT recovery_point, lease_expires_at > statement_timestamp() + interval '59 minutes' AS renewed
  FROM order_credit.idempotency_keys WHERE key = 'pay-5';
-- Completing ends the lease; the key replays.
SELECT order_credit.idempotency_complete('pay-5', '{"done": true}');
SELECT state, response, recovery_point FROM order_credit.idempotency_begin('pay-5', 'fp');
SELECT lease_expires_at IS NULL AS lease_ended, completed_at IS NOT NULL AS completed
  FROM order_credit.idempotency_keys WHERE key = 'pay-5';

-- Arguments
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('', 'fp')$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin(repeat('k', 201), 'fp')$$);
SELECT state FROM order_credit.idempotency_begin(repeat('k', 200), 'fp');
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin(NULL, 'fp')$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('args', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('args', '')$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('args', repeat('f', 1001))$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('args', 'fp', '0 s')$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('args', 'fp', '-5 minutes')$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_begin('args', 'fp', NULL, NULL)$$);
SELECT count(*) AS args_rows FROM order_credit.idempotency_keys WHERE key = 'args';
SELECT state FROM order_credit.idempotency_begin('args', 'fp');
-- response must be JSON: the jsonb type refuses other text (22P02).
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('args', 'not json', 200)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('args', NULL, 200)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('args', '{}', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('args', '{}', 99)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_complete('args', '{}', 600)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_checkpoint('args', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.idempotency_checkpoint('args', '')$$);
SELECT state FROM order_credit.idempotency_keys WHERE key = 'args';
SELECT order_credit.idempotency_complete('args', 'null', 599);
SELECT state, response, response_code FROM order_credit.idempotency_begin('args', 'fp');

-- ================================================================ named locks
BEGIN;
SELECT order_credit.lock('orders:42');
SELECT order_credit.try_lock('orders:42') AS reentrant;
SELECT order_credit.lock('orders:42', '10 ms') AS again;
-- The documented key: hashtextextended(key, 20291); pg_locks shows its high
-- 32 bits as classid, its low 32 bits as objid, and 20291 as objsubid.
SELECT l.locktype, l.mode, l.granted, l.objsubid,
       l.classid::bigint = (hashtextextended('orders:42', 20291) >> 32) & 4294967295 AS classid_ok,
       l.objid::bigint = hashtextextended('orders:42', 20291) & 4294967295 AS objid_ok
  FROM pg_locks l
 WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 20291;
-- Any text, multibyte too: the hash is over the key's bytes.
SELECT order_credit.lock('ключ-€');
SELECT count(*) AS multibyte_held FROM pg_locks l
 WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 20291
   AND l.classid::bigint = (hashtextextended('ключ-€', 20291) >> 32) & 4294967295
   AND l.objid::bigint = hashtextextended('ключ-€', 20291) & 4294967295;
COMMIT;
-- Transaction-scoped: gone after commit.
SELECT count(*) AS locks_after_commit FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid();
-- try_lock takes it as well.
BEGIN;
SELECT order_credit.try_lock('orders:43');
SELECT count(*) AS held FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 20291
   AND objid::bigint = hashtextextended('orders:43', 20291) & 4294967295;
COMMIT;
SELECT pg_temp.err($$SELECT order_credit.lock('')$$);
SELECT pg_temp.err($$SELECT order_credit.lock(repeat('x', 201))$$);
SELECT pg_temp.err($$SELECT order_credit.lock(NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.lock('t', '0 s')$$);
SELECT pg_temp.err($$SELECT order_credit.lock('t', '-1 s')$$);
SELECT pg_temp.err($$SELECT order_credit.try_lock('')$$);
SELECT pg_temp.err($$SELECT order_credit.try_lock(NULL)$$);
-- lock restores lock_timeout after the call.
SET lock_timeout = '7s';
SELECT order_credit.lock('t', '1 ms');
SHOW lock_timeout;
RESET lock_timeout;

-- ================================================================ leases
-- Tokens come from one sequence: shown here relative to the first one.
SELECT order_credit.acquire_lease('job', 'w1', '1 hour') AS t1 \gset
SELECT :t1 > 0 AS w1_token;
-- The same owner again: its current token, unchanged.
SELECT order_credit.acquire_lease('job', 'w1', '1 hour') = :t1 AS w1_again_same_token;
-- Another owner while it is live: NULL.
SELECT order_credit.acquire_lease('job', 'w2', '1 hour') AS w2_token;
-- Renewing someone else's lease, or with a wrong token: false.
SELECT order_credit.renew_lease('job', 'w2', :t1, '1 hour') AS w2_renews;
SELECT order_credit.renew_lease('job', 'w1', :t1 + 1, '1 hour') AS w1_wrong_token;
SELECT order_credit.renew_lease('job', 'w1', :t1, '2 hours') AS w1_renews;
SELECT expires_at > statement_timestamp() + interval '119 minutes' AS extended
  FROM order_credit.leases WHERE key = 'job';
SELECT order_credit.check_fence('job', :t1);
-- Releasing someone else's lease: false; the holder's: true; again: false.
SELECT order_credit.release_lease('job', 'w2', :t1) AS w2_releases;
SELECT order_credit.release_lease('job', 'w1', :t1) AS w1_releases;
SELECT order_credit.release_lease('job', 'w1', :t1) AS w1_releases_again;
SELECT order_credit.renew_lease('job', 'w1', :t1, '1 hour') AS renew_released;
-- Re-acquired after release: a larger token; the old one is stale.
SELECT order_credit.acquire_lease('job', 'w2', '20 ms') AS t2 \gset
SELECT :t2 > :t1 AS w2_token_larger;
SELECT pg_temp.err(format('SELECT order_credit.check_fence(%L, %s)', 'job', :t1)) ~ '^OC011: ' AS old_token_stale;
SELECT order_credit.check_fence('job', :t2);
-- Expiry by the database clock: after the lapse anyone may take it, and the
-- token grows again.
SELECT pg_sleep(0.1);
SELECT order_credit.acquire_lease('job', 'w3', '1 hour') AS t3 \gset
SELECT :t3 > :t2 AS w3_token_larger;
SELECT order_credit.renew_lease('job', 'w2', :t2, '1 hour') AS stale_renews;
SELECT order_credit.release_lease('job', 'w2', :t2) AS stale_releases;
SELECT pg_temp.err(format('SELECT order_credit.check_fence(%L, %s)', 'job', :t2)) ~ '^OC011: ' AS t2_stale;
SELECT pg_temp.err(format('SELECT order_credit.check_fence(%L, %s)', 'job', :t3 + 1)) ~ '^OC011: ' AS future_token_stale;
-- A lapsed lease nobody took since may still be renewed by its holder (its
-- token is still the newest).
SELECT order_credit.acquire_lease('solo', 'w1', '20 ms') AS ts \gset
SELECT pg_sleep(0.1);
SELECT order_credit.renew_lease('solo', 'w1', :ts, '1 hour') AS renew_lapsed;
SELECT order_credit.acquire_lease('solo', 'w2', '1 hour') AS w2_blocked;
SELECT key, owner, token = :t3 AS token_t3, token = :ts AS token_ts FROM order_credit.leases ORDER BY key;
-- Arguments
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('job2', 'w1', '0 s')$$);
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('job2', 'w1', '-1 minute')$$);
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('job2', 'w1', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('job2', '', '1 s')$$);
SELECT pg_temp.err($$SELECT order_credit.acquire_lease(repeat('j', 201), 'w1', '1 s')$$);
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('job2', NULL, '1 s')$$);
SELECT pg_temp.err($$SELECT order_credit.renew_lease('job', 'w3', 3, '0 s')$$);
SELECT pg_temp.err($$SELECT order_credit.renew_lease('job', 'w3', NULL, '1 s')$$);
SELECT pg_temp.err($$SELECT order_credit.renew_lease('job', 'w3', 0, '1 s')$$);
SELECT pg_temp.err($$SELECT order_credit.release_lease('job', 'w3', -1)$$);
SELECT pg_temp.err($$SELECT order_credit.check_fence('job', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.check_fence('no-such-lease', 1)$$);
SELECT count(*) AS job2_rows FROM order_credit.leases WHERE key = 'job2';

-- ================================================================ process_once
SELECT order_credit.process_once('stripe', 'evt_1') AS first, order_credit.process_once('stripe', 'evt_1') AS second;
SELECT order_credit.process_once('paypal', 'evt_1') AS other_source;
-- Atomic with the caller's writes: a rollback leaves the event unprocessed.
BEGIN;
SELECT order_credit.process_once('stripe', 'evt_2') AS in_rolled_back_tx;
ROLLBACK;
SELECT order_credit.process_once('stripe', 'evt_2') AS after_rollback;
SELECT pg_temp.err($$SELECT order_credit.process_once(NULL, 'e')$$);
SELECT pg_temp.err($$SELECT order_credit.process_once('s', NULL)$$);
SELECT pg_temp.err($$SELECT order_credit.process_once('', 'e')$$);
SELECT pg_temp.err($$SELECT order_credit.process_once('s', repeat('e', 201))$$);
SELECT order_credit.process_once('s', repeat('e', 200)) AS max_length;

-- ================================================================ purge
-- GUC defaults (the library is loaded by now)
SHOW order_credit.idempotency_ttl;
SHOW order_credit.event_retention;
SELECT pg_temp.err($$SELECT order_credit._purge_coordination(0)$$);
SELECT pg_temp.err($$SELECT order_credit._purge_coordination(NULL)$$);
-- Nothing is old enough yet.
SELECT order_credit._purge_coordination(1000) AS purged_nothing;
-- Age some rows past the retention periods.
UPDATE order_credit.idempotency_keys SET created_at = created_at - interval '25 hours'
 WHERE key IN ('pay-1', 'pay-2', 'pay-3', 'pay-4');
UPDATE order_credit.processed_events SET processed_at = processed_at - interval '8 days'
 WHERE event_id IN ('evt_1', 'evt_2');
SELECT count(*) AS keys_before FROM order_credit.idempotency_keys;
SELECT count(*) AS events_before FROM order_credit.processed_events;
-- pay-4 has a live lease: kept. At most max_rows per call, keys first.
SELECT order_credit._purge_coordination(2) AS purged;
SELECT order_credit._purge_coordination(2) AS purged;
SELECT order_credit._purge_coordination(1000) AS purged;
SELECT order_credit._purge_coordination(1000) AS purged;
SELECT key FROM order_credit.idempotency_keys WHERE key LIKE 'pay-%' ORDER BY key;
SELECT source, event_id FROM order_credit.processed_events WHERE event_id LIKE 'evt%' ORDER BY 1, 2;
-- A purged key is new again; a purged event is processed again.
SELECT state FROM order_credit.idempotency_begin('pay-1', 'fp-B');
SELECT order_credit.process_once('stripe', 'evt_1') AS after_purge;
-- The retention follows the GUCs.
SET order_credit.event_retention = '1h';
UPDATE order_credit.processed_events SET processed_at = processed_at - interval '2 hours'
 WHERE source = 's';
SELECT order_credit._purge_coordination(1000) AS purged_with_1h;
RESET order_credit.event_retention;
SELECT source, event_id FROM order_credit.processed_events ORDER BY 1, 2;
-- Leases are never purged (tokens only grow).
SELECT count(*) AS leases_kept FROM order_credit.leases;

-- ================================================================ access
SELECT function, tier FROM order_credit.function_access
 WHERE function::text ~ '^order_credit\.(idempotency_|lock\(|try_lock|acquire_lease|renew_lease|release_lease|check_fence|process_once)'
 ORDER BY function::text;
SELECT p.proname, p.prosecdef, p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'order_credit'::regnamespace
   AND p.proname ~ '^(idempotency_|lock$|try_lock$|acquire_lease|renew_lease|release_lease|check_fence|process_once|_purge_coordination)'
 ORDER BY 1;
SELECT count(*) AS uncommented FROM pg_proc p
 WHERE p.pronamespace = 'order_credit'::regnamespace
   AND p.proname ~ '^(idempotency_|lock$|try_lock$|acquire_lease|renew_lease|release_lease|check_fence|process_once|_purge_coordination)'
   AND obj_description(p.oid, 'pg_proc') IS NULL;

-- ================================================================ named lock bound
-- A transaction holds at most order_credit.max_named_locks named locks: one
-- more raises OC012 (lock() and try_lock() alike) before the server's lock
-- table is at risk; a key taken again does not count twice; the count starts
-- again with the next transaction.
SET order_credit.max_named_locks = 3;
BEGIN;
SELECT count(*) FROM (SELECT order_credit.lock('nl-' || g) FROM generate_series(1, 3) g) x;
SELECT order_credit.lock('nl-2') AS again, order_credit.try_lock('nl-3') AS again_try;
SELECT pg_temp.err($$SELECT order_credit.try_lock('nl-4')$$);
SELECT pg_temp.err($$SELECT order_credit.lock('nl-4')$$);
SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND objsubid = x'4F43'::int AND pid = pg_backend_pid();
ROLLBACK;
BEGIN;
SELECT count(*) FROM (SELECT order_credit.try_lock('nl-' || g) FROM generate_series(4, 6) g) x;
SELECT pg_temp.err($$SELECT order_credit.lock('nl-7')$$);
COMMIT;
SELECT order_credit.try_lock('nl-7') AS next_transaction;
RESET order_credit.max_named_locks;
-- only a superuser may set it: an application role cannot raise its own bound
SELECT setting, context FROM pg_settings WHERE name = 'order_credit.max_named_locks';

-- ================================================================ lease bounds, break, purge
-- A lease longer than order_credit.max_lease (acquire, renew) or
-- order_credit.max_idempotency_lease (idempotency_begin) is refused: 22023,
-- nothing written.
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('forever', 'w1', '1000 years')$$);
SELECT pg_temp.err($$SELECT order_credit.acquire_lease('forever', 'w1', '1 day 1 second')$$);
SELECT order_credit.acquire_lease('forever', 'w1', '1 day') > 0 AS one_day_is_fine;
SELECT pg_temp.err(format('SELECT order_credit.renew_lease(%L, %L, %s, %L)', 'forever', 'w1',
       (SELECT token FROM order_credit.leases WHERE key = 'forever'), '2 days'));
SELECT pg_temp.err($$SELECT * FROM order_credit.idempotency_begin('forever-key', 'fp', '1000 years')$$);
SELECT count(*) AS forever_keys FROM order_credit.idempotency_keys WHERE key = 'forever-key';
SET order_credit.max_lease = '2d';
SELECT order_credit.renew_lease('forever', 'w1', (SELECT token FROM order_credit.leases WHERE key = 'forever'), '2 days') AS renewed_under_raised_bound;
RESET order_credit.max_lease;
SELECT name, setting, unit, context FROM pg_settings
 WHERE name IN ('order_credit.max_lease', 'order_credit.max_idempotency_lease', 'order_credit.lease_retention')
 ORDER BY name;
-- break_lease: an administrator frees a lease whoever holds it; the token
-- advances, so the holder's token is stale and its renew fails; the next
-- owner gets a larger token still.
SELECT token AS tf FROM order_credit.leases WHERE key = 'forever' \gset
SELECT order_credit.break_lease('forever') AS tb \gset
SELECT :tb > :tf AS token_advanced;
SELECT owner, expires_at FROM order_credit.leases WHERE key = 'forever';
SELECT pg_temp.err(format('SELECT order_credit.check_fence(%L, %s)', 'forever', :tf)) ~ '^OC011: ' AS holder_stale;
SELECT order_credit.renew_lease('forever', 'w1', :tf, '1 hour') AS holder_renews;
SELECT order_credit.acquire_lease('forever', 'w2', '1 hour') > :tb AS next_owner_larger;
SELECT pg_temp.err($$SELECT order_credit.break_lease('no-such-lease')$$);
SELECT function, tier FROM order_credit.function_access WHERE function = 'order_credit.break_lease(text)'::regprocedure;
-- Purge: leases released or lapsed more than order_credit.lease_retention
-- ago are deleted by expire_due; live ones stay; a purged key acquired
-- again still gets a larger token than it ever had.
SELECT order_credit.acquire_lease('gone', 'w1', '10 ms') AS tg \gset
SELECT order_credit.release_lease('forever', 'w2', (SELECT token FROM order_credit.leases WHERE key = 'forever')) AS released;
SET order_credit.lease_retention = '1 s';
SELECT pg_sleep(1.1);
SELECT order_credit.expire_due() >= 2 AS purged_some;
SELECT key FROM order_credit.leases WHERE key IN ('gone', 'forever', 'job') ORDER BY key;
RESET order_credit.lease_retention;
SELECT order_credit.acquire_lease('gone', 'w9', '1 hour') > :tg AS regrown_token_larger;
