-- pgTAP: the shape of the contract's stock (section 2), orders (section 3)
-- and operations (section 6) parts. Argument names, order, defaults and
-- result columns are binding, so they are compared to the letter.
BEGIN;
SELECT plan(31);

-- Every function: its full argument list and its result, as \df shows them.
SELECT is(pg_get_function_arguments(f::regprocedure) || ' -> ' || pg_get_function_result(f::regprocedure),
          want, f)
  FROM (VALUES
    ('order_credit.set_stock(text, bigint, integer)',
     'sku text, on_hand bigint, buckets integer DEFAULT 1 -> order_credit.stock_status'),
    ('order_credit.adjust_stock(text, bigint, text)',
     'sku text, delta bigint, reason text -> order_credit.stock_status'),
    ('order_credit.stock_status(text)', 'sku text -> order_credit.stock_status'),
    ('order_credit.reserve_stock(text, bigint, text, interval)',
     'sku text, quantity bigint, order_ref text, expires_in interval DEFAULT order_credit.default_ttl() -> order_credit.stock_reservation'),
    ('order_credit.reserve_stock(jsonb, text, interval)',
     'items jsonb, order_ref text, expires_in interval DEFAULT order_credit.default_ttl() -> SETOF order_credit.stock_reservation'),
    ('order_credit.try_reserve_stock(text, bigint, text, interval)',
     'sku text, quantity bigint, order_ref text, expires_in interval DEFAULT order_credit.default_ttl() -> TABLE(ok boolean, code text, message text, reservation_id bigint, available bigint)'),
    ('order_credit.commit_stock(text)', 'order_ref text -> SETOF order_credit.stock_reservation'),
    ('order_credit.release_stock(text, text)',
     'order_ref text, reason text DEFAULT NULL::text -> SETOF order_credit.stock_reservation'),
    ('order_credit.place_order(text, jsonb, text, interval)',
     'order_ref text, items jsonb, account text DEFAULT NULL::text, expires_in interval DEFAULT order_credit.default_ttl() -> order_credit.order_status'),
    ('order_credit.confirm_order(text, text)',
     'order_ref text, payment_ref text DEFAULT NULL::text -> order_credit.order_status'),
    ('order_credit.set_order_status(text, text)', 'order_ref text, status text -> order_credit.order_status'),
    ('order_credit.cancel_order(text, text)',
     'order_ref text, reason text DEFAULT NULL::text -> order_credit.order_status'),
    ('order_credit.order_status(text)', 'order_ref text -> order_credit.order_status'),
    ('order_credit.expire_due(integer)', 'max_rows integer DEFAULT 10000 -> bigint'),
    ('order_credit.stats_reset()', ' -> void')) AS t(f, want);

-- Result types: columns, types and order.
SELECT results_eq(
    format($$SELECT attname::text COLLATE "default", format_type(atttypid, atttypmod) FROM pg_attribute
              WHERE attrelid = %L::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum$$, typ),
    want, typ || ' columns')
  FROM (VALUES
    ('order_credit.stock_status',
     $$VALUES ('sku', 'text'), ('on_hand', 'bigint'), ('reserved', 'bigint'), ('available', 'bigint'),
              ('buckets', 'integer'), ('updated_at', 'timestamp with time zone')$$),
    ('order_credit.stock_reservation',
     $$VALUES ('reservation_id', 'bigint'), ('sku', 'text'), ('order_ref', 'text'), ('quantity', 'bigint'),
              ('status', 'text'), ('expires_at', 'timestamp with time zone'), ('available', 'bigint')$$),
    ('order_credit.order_status',
     $$VALUES ('order_ref', 'text'), ('account', 'text'), ('status', 'text'), ('amount', 'numeric'),
              ('expires_at', 'timestamp with time zone'), ('updated_at', 'timestamp with time zone')$$),
    ('order_credit.stats',
     $$VALUES ('operation', 'text'), ('outcome', 'text'), ('calls', 'bigint'),
              ('total_ms', 'double precision'), ('max_ms', 'double precision'),
              ('lock_wait_ms', 'double precision'), ('p50_ms', 'double precision'),
              ('p95_ms', 'double precision'), ('p99_ms', 'double precision')$$),
    ('order_credit.stats_latency_buckets',
     $$VALUES ('operation', 'text'), ('outcome', 'text'), ('le', 'double precision'),
              ('calls', 'bigint')$$)) AS t(typ, want);

SELECT has_view('order_credit', 'active_reservations', 'view active_reservations exists');
SELECT has_view('order_credit', 'stats', 'view stats exists');
SELECT has_table('order_credit', 'order_history', 'table order_history exists');
SELECT has_table('order_credit', 'stock_audit', 'table stock_audit exists');

-- The sweeper's GUCs with the contract's defaults (calling a function of the
-- extension loads its library, which defines them).
SELECT ok(order_credit.default_ttl() IS NOT NULL, 'the library is loaded');
SELECT results_eq(
    $$SELECT name, setting, coalesce(unit, '') FROM pg_settings
       WHERE name IN ('order_credit.sweep_interval', 'order_credit.sweep_batch', 'order_credit.database')
       ORDER BY name$$,
    $$VALUES ('order_credit.database'::text, 'postgres'::text, ''::text),
             ('order_credit.sweep_batch', '1000', ''),
             ('order_credit.sweep_interval', '1000', 'ms')$$,
    'sweeper GUCs and their defaults');

-- Without shared_preload_libraries the stats view is empty, the functions
-- still work, and the view's comment says why.
SELECT is((SELECT count(*)::int FROM order_credit.stats), 0, 'stats is empty without preloading');
SELECT is((SELECT count(*)::int FROM order_credit.stats_latency_buckets), 0,
          'stats_latency_buckets is empty without preloading');
SELECT lives_ok('SELECT order_credit.stats_reset()', 'stats_reset works without preloading');
SELECT matches(obj_description('order_credit.stats'::regclass, 'pg_class'), 'shared_preload_libraries',
               'the stats view''s comment says it needs shared_preload_libraries');

-- Every contract function is listed in an access tier.
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'order_credit'::regnamespace AND p.proname !~ '^_'
         AND p.proname NOT IN ('default_ttl', 'append_only', 'grant_app', 'grant_admin', 'revoke_access')
         AND p.oid NOT IN (SELECT function FROM order_credit.function_access)$$,
    'every public function has an access tier');

SELECT * FROM finish();
ROLLBACK;
