-- pgTAP: the shape of the credit-line contract (docs/reference.md, "Credit
-- lines", plus verify(), the active_holds view and the GUCs).
-- Names, argument names and order, defaults and result columns are binding,
-- so they are compared exactly.
BEGIN;
SELECT plan(68);

-- ------------------------------------------------------------ functions
-- For each function: it exists with exactly these argument types, returns
-- the contract's type, and its full argument list (names, order, defaults)
-- is as written in the contract.
SELECT has_function('order_credit', 'create_account', ARRAY['text', 'numeric', 'text']);
SELECT function_returns('order_credit', 'create_account', ARRAY['text', 'numeric', 'text'],
                        'order_credit.account_status');
SELECT is(pg_get_function_arguments('order_credit.create_account(text, numeric, text)'::regprocedure),
          'account text, credit_limit numeric, currency text DEFAULT NULL::text',
          'create_account arguments');

SELECT has_function('order_credit', 'set_credit_limit', ARRAY['text', 'numeric']);
SELECT function_returns('order_credit', 'set_credit_limit', ARRAY['text', 'numeric'],
                        'order_credit.account_status');
SELECT is(pg_get_function_arguments('order_credit.set_credit_limit(text, numeric)'::regprocedure),
          'account text, credit_limit numeric', 'set_credit_limit arguments');

SELECT has_function('order_credit', 'block_account', ARRAY['text', 'text']);
SELECT function_returns('order_credit', 'block_account', ARRAY['text', 'text'],
                        'order_credit.account_status');
SELECT is(pg_get_function_arguments('order_credit.block_account(text, text)'::regprocedure),
          'account text, reason text', 'block_account arguments');

SELECT has_function('order_credit', 'unblock_account', ARRAY['text']);
SELECT function_returns('order_credit', 'unblock_account', ARRAY['text'],
                        'order_credit.account_status');
SELECT is(pg_get_function_arguments('order_credit.unblock_account(text)'::regprocedure),
          'account text', 'unblock_account arguments');

SELECT has_function('order_credit', 'credit_status', ARRAY['text']);
SELECT function_returns('order_credit', 'credit_status', ARRAY['text'],
                        'order_credit.account_status');
SELECT is(pg_get_function_arguments('order_credit.credit_status(text)'::regprocedure),
          'account text', 'credit_status arguments');

SELECT has_function('order_credit', 'reserve_credit', ARRAY['text', 'numeric', 'text', 'interval']);
SELECT function_returns('order_credit', 'reserve_credit', ARRAY['text', 'numeric', 'text', 'interval'],
                        'order_credit.credit_hold');
SELECT is(pg_get_function_arguments('order_credit.reserve_credit(text, numeric, text, interval)'::regprocedure),
          'account text, amount numeric, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()',
          'reserve_credit arguments (expires_in defaults to order_credit.default_ttl)');

SELECT has_function('order_credit', 'try_reserve_credit', ARRAY['text', 'numeric', 'text', 'interval']);
SELECT function_returns('order_credit', 'try_reserve_credit', ARRAY['text', 'numeric', 'text', 'interval'],
                        'setof record');
SELECT is(pg_get_function_arguments('order_credit.try_reserve_credit(text, numeric, text, interval)'::regprocedure),
          'account text, amount numeric, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()',
          'try_reserve_credit arguments: the same as reserve_credit');

SELECT has_function('order_credit', 'capture_credit', ARRAY['text', 'numeric']);
SELECT function_returns('order_credit', 'capture_credit', ARRAY['text', 'numeric'],
                        'order_credit.credit_hold');
SELECT is(pg_get_function_arguments('order_credit.capture_credit(text, numeric)'::regprocedure),
          'order_ref text, amount numeric DEFAULT NULL::numeric', 'capture_credit arguments');

SELECT has_function('order_credit', 'release_credit', ARRAY['text', 'text']);
SELECT function_returns('order_credit', 'release_credit', ARRAY['text', 'text'],
                        'order_credit.credit_hold');
SELECT is(pg_get_function_arguments('order_credit.release_credit(text, text)'::regprocedure),
          'order_ref text, reason text DEFAULT NULL::text', 'release_credit arguments');

SELECT has_function('order_credit', 'record_payment', ARRAY['text', 'numeric', 'text']);
SELECT function_returns('order_credit', 'record_payment', ARRAY['text', 'numeric', 'text'],
                        'order_credit.account_status');
SELECT is(pg_get_function_arguments('order_credit.record_payment(text, numeric, text)'::regprocedure),
          'account text, amount numeric, payment_ref text', 'record_payment arguments');

-- Only one overload of each name: a second signature would make calls with
-- defaulted or untyped arguments ambiguous.
SELECT results_eq(
    $$SELECT p.proname::text COLLATE "default", count(*)::int FROM pg_proc p
       WHERE p.pronamespace = 'order_credit'::regnamespace
         AND p.proname IN ('create_account', 'set_credit_limit', 'block_account', 'unblock_account',
                           'credit_status', 'reserve_credit', 'try_reserve_credit', 'capture_credit',
                           'release_credit', 'record_payment', 'verify')
       GROUP BY p.proname ORDER BY p.proname$$,
    $$VALUES ('block_account', 1), ('capture_credit', 1), ('create_account', 1), ('credit_status', 1),
             ('record_payment', 1), ('release_credit', 1), ('reserve_credit', 1),
             ('set_credit_limit', 1), ('try_reserve_credit', 1), ('unblock_account', 1),
             ('verify', 1)$$,
    'exactly one signature per contract function');

-- try_reserve_credit's TABLE columns, in order.
SELECT is(pg_get_function_result('order_credit.try_reserve_credit(text, numeric, text, interval)'::regprocedure),
          'TABLE(ok boolean, code text, message text, hold_id bigint, available numeric, credit_limit numeric)',
          'try_reserve_credit result columns');

-- The functions that write run as the extension owner (tables are not
-- writable by callers).
SELECT is_definer('order_credit', f, a, format('%s is SECURITY DEFINER', f))
  FROM (VALUES ('create_account', ARRAY['text', 'numeric', 'text']::name[]),
               ('set_credit_limit', ARRAY['text', 'numeric']::name[]),
               ('block_account', ARRAY['text', 'text']::name[]),
               ('unblock_account', ARRAY['text']::name[]),
               ('reserve_credit', ARRAY['text', 'numeric', 'text', 'interval']::name[]),
               ('try_reserve_credit', ARRAY['text', 'numeric', 'text', 'interval']::name[]),
               ('capture_credit', ARRAY['text', 'numeric']::name[]),
               ('release_credit', ARRAY['text', 'text']::name[]),
               ('record_payment', ARRAY['text', 'numeric', 'text']::name[])) AS t(f, a);

-- ------------------------------------------------------------ composite types
SELECT has_type('order_credit', 'account_status', 'type account_status exists');
SELECT results_eq(
    $$SELECT attname::text COLLATE "default", format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'order_credit.account_status'::regclass AND attnum > 0 AND NOT attisdropped
       ORDER BY attnum$$,
    $$VALUES ('account', 'text'), ('currency', 'text'), ('credit_limit', 'numeric'),
             ('posted', 'numeric'), ('pending', 'numeric'), ('available', 'numeric'),
             ('status', 'text'), ('blocked_reason', 'text'),
             ('updated_at', 'timestamp with time zone')$$,
    'account_status columns, types and order');

SELECT has_type('order_credit', 'credit_hold', 'type credit_hold exists');
SELECT results_eq(
    $$SELECT attname::text COLLATE "default", format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'order_credit.credit_hold'::regclass AND attnum > 0 AND NOT attisdropped
       ORDER BY attnum$$,
    $$VALUES ('hold_id', 'bigint'), ('account', 'text'), ('order_ref', 'text'), ('amount', 'numeric'),
             ('captured', 'numeric'), ('status', 'text'),
             ('expires_at', 'timestamp with time zone'), ('available', 'numeric')$$,
    'credit_hold columns, types and order');
-- col_type_is spot checks (pgTAP reads composite types like tables).
SELECT col_type_is('order_credit', 'credit_hold', 'hold_id', 'bigint', 'credit_hold.hold_id is bigint');
SELECT col_type_is('order_credit', 'account_status', 'updated_at', 'timestamp with time zone',
                   'account_status.updated_at is timestamptz');

-- ------------------------------------------------------------ ledger
SELECT has_table('order_credit', 'ledger', 'table ledger exists');
SELECT results_eq(
    $$SELECT attname::text COLLATE "default", format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'order_credit.ledger'::regclass AND attnum > 0 AND NOT attisdropped
       ORDER BY attnum$$,
    $$VALUES ('entry_id', 'bigint'), ('account', 'text'), ('kind', 'text'), ('amount', 'numeric'),
             ('order_ref', 'text'), ('ref', 'text'), ('reason', 'text'),
             ('posted_after', 'numeric'), ('pending_after', 'numeric'),
             ('created_at', 'timestamp with time zone'), ('created_by', 'text')$$,
    'ledger columns, types and order');
SELECT col_is_pk('order_credit', 'ledger', 'entry_id', 'ledger.entry_id is the primary key');
-- The kinds of the contract are accepted and nothing else (rows written on
-- the real ledger inside a savepoint that is rolled back: the append-only
-- ledger keeps nothing of it; its row check cannot be copied with LIKE).
SAVEPOINT ledger_kinds;
SELECT lives_ok(
    $$INSERT INTO order_credit.ledger (account, kind, posted_after, pending_after, created_by)
      SELECT 'a', k, 0, 0, 'u' FROM unnest(ARRAY['hold', 'capture', 'void', 'expire', 'reverse',
                                               'payment', 'limit', 'block', 'unblock']) k$$,
    'ledger accepts every kind of the contract');
SELECT throws_ok(
    $$INSERT INTO order_credit.ledger (account, kind, posted_after, pending_after, created_by)
      VALUES ('a', 'refund', 0, 0, 'u')$$,
    '23514', NULL, 'ledger refuses a kind outside the contract');
ROLLBACK TO SAVEPOINT ledger_kinds;
SELECT has_trigger('order_credit', 'ledger', 'ledger_append_only', 'ledger has the append-only row trigger');
SELECT has_trigger('order_credit', 'ledger', 'ledger_append_only_truncate',
                   'ledger has the append-only TRUNCATE trigger');

-- ------------------------------------------------------------ views, verify
SELECT has_view('order_credit', 'active_holds', 'view active_holds exists');
SELECT has_function('order_credit', 'verify', ARRAY[]::name[]);
SELECT function_returns('order_credit', 'verify', ARRAY[]::name[], 'setof record');
SELECT is(pg_get_function_result('order_credit.verify()'::regprocedure),
          'TABLE(check_name text, subject text, detail text)', 'verify() result columns');

-- ------------------------------------------------------------ GUCs
-- default_ttl() is a C function: calling it loads the module, which defines
-- the GUCs in this session.
SELECT is(order_credit.default_ttl(), interval '15 minutes', 'default_ttl() is 15 minutes by default');
SELECT is(current_setting('order_credit.lock_timeout', true), '2s', 'order_credit.lock_timeout defaults to 2s');
SELECT is(current_setting('order_credit.default_ttl', true), '15min', 'order_credit.default_ttl defaults to 15min');
SELECT results_eq(
    $$SELECT name, boot_val, unit, context FROM pg_settings
       WHERE name IN ('order_credit.lock_timeout', 'order_credit.default_ttl') ORDER BY name$$,
    $$VALUES ('order_credit.default_ttl'::text, '900'::text, 's'::text, 'user'::text),
             ('order_credit.lock_timeout', '2000', 'ms', 'user')$$,
    'GUC built-in defaults, units, settable per session');
SET LOCAL order_credit.default_ttl = '1h';
SELECT is(order_credit.default_ttl(), interval '1 hour', 'default_ttl() follows order_credit.default_ttl');

-- ------------------------------------------------------------ SQL object rules
SELECT cmp_ok((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'order_credit'::regnamespace),
              '>=', 17, 'the schema has the functions the checks below look at');
-- SQL and PL/pgSQL functions pin search_path in their definition; C functions
-- run every statement under a search path pinned in code (with_spi in
-- src/pg/settings.hpp: pg_catalog, then pg_temp), which test/pgtap/credit_privileges.sql
-- proves under a hostile search_path.
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'order_credit'::regnamespace
         AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
         AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
       ORDER BY 1$$,
    'every SQL and PL/pgSQL function in order_credit pins search_path = pg_catalog, pg_temp');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'order_credit'::regnamespace AND p.proname NOT LIKE '\_%'
         AND obj_description(p.oid, 'pg_proc') IS NULL
       ORDER BY 1$$,
    'every public function in order_credit has a comment');
-- The access tiers list every contract function of this area, at its tier.
SELECT results_eq(
    $$SELECT function::text, tier FROM order_credit.function_access
       WHERE function::text IN (
           'order_credit.create_account(text,numeric,text)', 'order_credit.set_credit_limit(text,numeric)',
           'order_credit.block_account(text,text)', 'order_credit.unblock_account(text)',
           'order_credit.credit_status(text)', 'order_credit.reserve_credit(text,numeric,text,interval)',
           'order_credit.try_reserve_credit(text,numeric,text,interval)',
           'order_credit.capture_credit(text,numeric)', 'order_credit.release_credit(text,text)',
           'order_credit.record_payment(text,numeric,text)', 'order_credit.verify()')
       ORDER BY 1$$,
    $$VALUES ('order_credit.block_account(text,text)', 'admin'),
             ('order_credit.capture_credit(text,numeric)', 'app'),
             ('order_credit.create_account(text,numeric,text)', 'admin'),
             ('order_credit.credit_status(text)', 'app'),
             ('order_credit.record_payment(text,numeric,text)', 'app'),
             ('order_credit.release_credit(text,text)', 'app'),
             ('order_credit.reserve_credit(text,numeric,text,interval)', 'app'),
             ('order_credit.set_credit_limit(text,numeric)', 'admin'),
             ('order_credit.try_reserve_credit(text,numeric,text,interval)', 'app'),
             ('order_credit.unblock_account(text)', 'admin'),
             ('order_credit.verify()', 'admin')$$,
    'function_access lists every credit function at its tier');
-- Nothing but default_ttl() is executable by PUBLIC.
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'order_credit'::regnamespace
         AND p.proname <> 'default_ttl'
         AND has_function_privilege('public', p.oid, 'EXECUTE')
       ORDER BY 1$$,
    'no order_credit function but default_ttl() is executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
