-- pgTAP: the SQL contract of the coordination functions (names, argument
-- order and defaults, result columns, SQLSTATEs).
BEGIN;
SELECT plan(38);

-- Signatures
SELECT has_function('order_credit', 'idempotency_begin', ARRAY['text', 'text', 'interval', 'boolean']);
SELECT has_function('order_credit', 'idempotency_checkpoint', ARRAY['text', 'text']);
SELECT has_function('order_credit', 'idempotency_complete', ARRAY['text', 'jsonb', 'integer']);
SELECT has_function('order_credit', 'lock', ARRAY['text', 'interval']);
SELECT has_function('order_credit', 'try_lock', ARRAY['text']);
SELECT has_function('order_credit', 'acquire_lease', ARRAY['text', 'text', 'interval']);
SELECT has_function('order_credit', 'renew_lease', ARRAY['text', 'text', 'bigint', 'interval']);
SELECT has_function('order_credit', 'release_lease', ARRAY['text', 'text', 'bigint']);
SELECT has_function('order_credit', 'check_fence', ARRAY['text', 'bigint']);
SELECT has_function('order_credit', 'process_once', ARRAY['text', 'text']);

-- Argument names, order and defaults; result types
SELECT is(pg_get_function_arguments('order_credit.idempotency_begin(text, text, interval, boolean)'::regprocedure),
          'key text, fingerprint text, lease interval DEFAULT NULL::interval, wait boolean DEFAULT false',
          'idempotency_begin arguments');
SELECT is(pg_get_function_result('order_credit.idempotency_begin(text, text, interval, boolean)'::regprocedure),
          'TABLE(state text, response jsonb, response_code integer, recovery_point text, retry_after interval)',
          'idempotency_begin result columns');
SELECT is(pg_get_function_arguments('order_credit.idempotency_checkpoint(text, text)'::regprocedure),
          'key text, recovery_point text', 'idempotency_checkpoint arguments');
SELECT function_returns('order_credit', 'idempotency_checkpoint', ARRAY['text', 'text'], 'void');
SELECT is(pg_get_function_arguments('order_credit.idempotency_complete(text, jsonb, integer)'::regprocedure),
          'key text, response jsonb, response_code integer DEFAULT 200', 'idempotency_complete arguments');
SELECT function_returns('order_credit', 'idempotency_complete', ARRAY['text', 'jsonb', 'integer'], 'void');
SELECT is(pg_get_function_arguments('order_credit.lock(text, interval)'::regprocedure),
          'key text, timeout interval DEFAULT NULL::interval', 'lock arguments');
SELECT function_returns('order_credit', 'lock', ARRAY['text', 'interval'], 'void');
SELECT function_returns('order_credit', 'try_lock', ARRAY['text'], 'boolean');
SELECT is(pg_get_function_arguments('order_credit.acquire_lease(text, text, interval)'::regprocedure),
          'key text, owner text, ttl interval', 'acquire_lease arguments');
SELECT function_returns('order_credit', 'acquire_lease', ARRAY['text', 'text', 'interval'], 'bigint');
SELECT is(pg_get_function_arguments('order_credit.renew_lease(text, text, bigint, interval)'::regprocedure),
          'key text, owner text, token bigint, ttl interval', 'renew_lease arguments');
SELECT function_returns('order_credit', 'renew_lease', ARRAY['text', 'text', 'bigint', 'interval'], 'boolean');
SELECT is(pg_get_function_arguments('order_credit.release_lease(text, text, bigint)'::regprocedure),
          'key text, owner text, token bigint', 'release_lease arguments');
SELECT function_returns('order_credit', 'release_lease', ARRAY['text', 'text', 'bigint'], 'boolean');
SELECT is(pg_get_function_arguments('order_credit.check_fence(text, bigint)'::regprocedure),
          'key text, token bigint', 'check_fence arguments');
SELECT function_returns('order_credit', 'check_fence', ARRAY['text', 'bigint'], 'void');
SELECT is(pg_get_function_arguments('order_credit.process_once(text, text)'::regprocedure),
          'source text, event_id text', 'process_once arguments');
SELECT function_returns('order_credit', 'process_once', ARRAY['text', 'text'], 'boolean');

-- Behaviour and SQLSTATEs named by the contract
SELECT is((SELECT state FROM order_credit.idempotency_begin('tap-k', 'fp')), 'new', 'begin: new');
SELECT throws_ok($$SELECT * FROM order_credit.idempotency_begin('tap-k', 'other')$$, 'OC009',
                 NULL, 'begin with another fingerprint: OC009');
SELECT throws_ok($$SELECT order_credit.idempotency_complete('tap-none', '{}')$$, 'OC006',
                 NULL, 'complete without begin: OC006');
SELECT is(order_credit.acquire_lease('tap-l', 'a', '1 hour'), 1::bigint, 'first fencing token is 1');
SELECT ok(order_credit.release_lease('tap-l', 'a', 1), 'release');
SELECT is(order_credit.acquire_lease('tap-l', 'b', '1 hour'), 2::bigint, 'tokens only grow');
SELECT throws_ok($$SELECT order_credit.check_fence('tap-l', 1)$$, 'OC011', NULL, 'stale token: OC011');
SELECT throws_ok($$SELECT order_credit.lock('tap', '0 s')$$, '22023', NULL, 'timeout must be positive: 22023');
SELECT is(order_credit.process_once('tap', 'e1') AND NOT order_credit.process_once('tap', 'e1'), true,
          'process_once: true once, then false');

SELECT * FROM finish();
ROLLBACK;
