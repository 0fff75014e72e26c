-- Catalog fuzzing of order_credit (driven by test/fuzz/catalog_fuzz.sh).
-- Everything the fuzzer needs lives here, in schema fuzz of the test
-- database: the hostile values per type, the base (valid) argument values,
-- the fixture they refer to, the allowed SQLSTATEs, the call plan built from
-- pg_proc, the digest of the extension's tables and the per-call driver.
--
-- The file is sourced by psql into a fresh database that has the extension.

SET client_min_messages = warning;
CREATE SCHEMA fuzz;

-- ===================================================================
-- 1. Hostile values, per argument type. expr is an SQL expression of that
--    type; the call casts it again to the argument's exact type. Types not
--    listed get values generically: domains from their base type, arrays
--    from their element type, composite types column by column (below,
--    fuzz.values_for). A type with no values at all fails the run.
-- ===================================================================
CREATE TABLE fuzz.hostile (
    type   regtype NOT NULL,
    label  text NOT NULL,
    expr   text NOT NULL,
    PRIMARY KEY (type, label)
);

INSERT INTO fuzz.hostile (type, label, expr) VALUES
    -- text (also varchar, name, ...: every type of the string category)
    ('text', 'null',        'NULL'),
    ('text', 'empty',       $$''$$),
    ('text', 'space',       $$' '$$),
    ('text', 'len201',      $$repeat('x', 201)$$),
    ('text', 'len200_mb',   $$repeat(U&'\20AC', 200)$$),
    ('text', 'len201_mb',   $$repeat(U&'\20AC', 201)$$),
    ('text', '10MB',        $$fuzz.big_text('10MB')$$),
    ('text', 'control',     $$E'a\x01\x02\t\n\r\x1b\x7fz'$$),
    ('text', 'unicode',     $$U&'\00FC\20AC\+01F600\202E\200B\0301'$$),
    ('text', 'quotes',      $$E'x''; DROP TABLE t; --"\\'$$),
    ('text', 'format',      $$'%s %I %L $1 %%'$$),
    ('text', 'json_like',   $$'{"sku": "fz-sku"}'$$),
    ('text', 'padded',      $$' fz-sku '$$),
    ('text', 'minus_one',   $$'-1'$$),
    -- numeric
    ('numeric', 'null',      'NULL'),
    ('numeric', 'NaN',       $$'NaN'::numeric$$),
    ('numeric', 'Infinity',  $$'Infinity'::numeric$$),
    ('numeric', '-Infinity', $$'-Infinity'::numeric$$),
    ('numeric', '-0',        $$'-0'::numeric$$),
    ('numeric', 'zero',      '0::numeric'),
    ('numeric', 'minus_one', '-1::numeric'),
    ('numeric', '-0.0001',   '-0.0001'),
    ('numeric', '5dp',       '0.00001'),
    ('numeric', '1e-20',     $$'1e-20'::numeric$$),
    ('numeric', '1e-16383',  $$'1e-16383'::numeric$$),
    ('numeric', '1e29',      $$'1e29'::numeric$$),
    ('numeric', '1e1000',    $$'1e1000'::numeric$$),
    ('numeric', '9e131071',  $$'9e131071'::numeric$$),
    ('numeric', 'int8max+1', '9223372036854775808::numeric'),
    -- bigint, integer, smallint
    ('bigint', 'null',       'NULL'),
    ('bigint', 'zero',       '0::bigint'),
    ('bigint', 'minus_one',  '-1::bigint'),
    ('bigint', 'min',        '(-9223372036854775807 - 1)::bigint'),
    ('bigint', 'max',        '9223372036854775807::bigint'),
    ('bigint', 'int4max+1',  '2147483648::bigint'),
    ('integer', 'null',      'NULL'),
    ('integer', 'zero',      '0'),
    ('integer', 'minus_one', '-1'),
    ('integer', 'min',       '(-2147483647 - 1)'),
    ('integer', 'max',       '2147483647'),
    ('smallint', 'null',     'NULL'),
    ('smallint', 'zero',     '0::smallint'),
    ('smallint', 'minus_one', '-1::smallint'),
    ('smallint', 'min',      '(-32767 - 1)::smallint'),
    ('smallint', 'max',      '32767::smallint'),
    -- floating point
    ('double precision', 'null',      'NULL'),
    ('double precision', 'NaN',       $$'NaN'::float8$$),
    ('double precision', 'Infinity',  $$'Infinity'::float8$$),
    ('double precision', '-Infinity', $$'-Infinity'::float8$$),
    ('double precision', '-0',        $$'-0'::float8$$),
    ('double precision', '1e308',     $$'1e308'::float8$$),
    ('real', 'null',      'NULL'),
    ('real', 'NaN',       $$'NaN'::float4$$),
    ('real', 'Infinity',  $$'Infinity'::float4$$),
    ('real', '-0',        $$'-0'::float4$$),
    -- boolean
    ('boolean', 'null',  'NULL'),
    ('boolean', 'true',  'true'),
    ('boolean', 'false', 'false'),
    -- interval
    ('interval', 'null',          'NULL'),
    ('interval', 'zero',          $$'0'::interval$$),
    ('interval', '1us',           $$'1 microsecond'::interval$$),
    ('interval', '-1s',           $$'-1 second'::interval$$),
    ('interval', '-1000y',        $$'-1000 years'::interval$$),
    ('interval', '1000y',         $$'1000 years'::interval$$),
    ('interval', '178000000y',    $$'178000000 years'::interval$$),
    ('interval', '-178000000y',   $$'-178000000 years'::interval$$),
    ('interval', 'int_max_days',  $$'2147483647 days'::interval$$),
    ('interval', '1mon-30d',      $$'1 month -30 days'::interval$$),
    ('interval', '-1mon+31d',     $$'-1 month 31 days'::interval$$),
    ('interval', 'max_hours',     $$'2562047787 hours'::interval$$),
    -- date and time (columns of the row types)
    ('timestamp with time zone', 'null',      'NULL'),
    ('timestamp with time zone', 'infinity',  $$'infinity'::timestamptz$$),
    ('timestamp with time zone', '-infinity', $$'-infinity'::timestamptz$$),
    ('timestamp with time zone', 'min',       $$'4713-01-01 00:00:00+00 BC'::timestamptz$$),
    ('timestamp with time zone', 'max',       $$'294276-12-31 23:59:59+00'::timestamptz$$),
    ('timestamp with time zone', 'epoch',     $$'epoch'::timestamptz$$),
    ('timestamp without time zone', 'null',      'NULL'),
    ('timestamp without time zone', 'infinity',  $$'infinity'::timestamp$$),
    ('timestamp without time zone', '-infinity', $$'-infinity'::timestamp$$),
    ('timestamp without time zone', 'max',       $$'294276-12-31 23:59:59'::timestamp$$),
    ('date', 'null',      'NULL'),
    ('date', 'infinity',  $$'infinity'::date$$),
    ('date', '-infinity', $$'-infinity'::date$$),
    ('date', 'max',       $$'5874897-12-31'::date$$),
    -- jsonb (json gets the same values): shapes, items with bad fields,
    -- duplicate and unknown keys, big and deep documents, malformed text
    ('jsonb', 'null',            'NULL'),
    ('jsonb', 'json_null',       $$'null'::jsonb$$),
    ('jsonb', 'empty_object',    $$'{}'::jsonb$$),
    ('jsonb', 'empty_array',     $$'[]'::jsonb$$),
    ('jsonb', 'string',          $$'""'::jsonb$$),
    ('jsonb', 'number',          $$'0'::jsonb$$),
    ('jsonb', 'true',            $$'true'::jsonb$$),
    ('jsonb', 'array_of_null',   $$'[null]'::jsonb$$),
    ('jsonb', 'array_of_empty',  $$'[{}]'::jsonb$$),
    ('jsonb', 'array_of_array',  $$'[[]]'::jsonb$$),
    ('jsonb', 'array_of_number', $$'[1]'::jsonb$$),
    ('jsonb', 'item_not_array',  $$'{"sku": "fz-sku", "quantity": 1}'$$),
    ('jsonb', 'sku_null',        $$'[{"sku": null, "quantity": 1}]'$$),
    ('jsonb', 'sku_number',      $$'[{"sku": 1, "quantity": 1}]'$$),
    ('jsonb', 'sku_empty',       $$'[{"sku": "", "quantity": 1}]'$$),
    ('jsonb', 'sku_control',     $$'[{"sku": "a\u0001\n", "quantity": 1}]'$$),
    ('jsonb', 'sku_missing',     $$'[{"quantity": 1}]'$$),
    ('jsonb', 'qty_missing',     $$'[{"sku": "fz-sku"}]'$$),
    ('jsonb', 'qty_negative',    $$'[{"sku": "fz-sku", "quantity": -1}]'$$),
    ('jsonb', 'qty_zero',        $$'[{"sku": "fz-sku", "quantity": 0}]'$$),
    ('jsonb', 'qty_fraction',    $$'[{"sku": "fz-sku", "quantity": 1.5}]'$$),
    ('jsonb', 'qty_string',      $$'[{"sku": "fz-sku", "quantity": "1"}]'$$),
    ('jsonb', 'qty_1e30',        $$'[{"sku": "fz-sku", "quantity": 1e30}]'$$),
    ('jsonb', 'qty_int8max+1',   $$'[{"sku": "fz-sku", "quantity": 9223372036854775808}]'$$),
    ('jsonb', 'qty_null',        $$'[{"sku": "fz-sku", "quantity": null}]'$$),
    ('jsonb', 'price_negative',  $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": -1}]'$$),
    ('jsonb', 'price_string_nan', $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": "NaN"}]'$$),
    ('jsonb', 'price_5dp',       $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": 0.00001}]'$$),
    ('jsonb', 'price_1e300',     $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": 1e300}]'$$),
    ('jsonb', 'price_x_qty_overflow', $$'[{"sku": "fz-sku", "quantity": 9223372036854775807, "unit_price": 1e30}]'$$),
    ('jsonb', 'duplicate_key',   $$'[{"sku": "fz-sku", "sku": "fz-other", "quantity": 1, "quantity": 2, "unit_price": 1}]'$$),
    ('jsonb', 'duplicate_item',  $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": 1}, {"sku": "fz-sku", "quantity": 1, "unit_price": 1}]'$$),
    ('jsonb', 'unknown_key',     $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": 1, "bogus": true}]'$$),
    ('jsonb', 'unknown_sku',     $$'[{"sku": "fz-no-such-sku", "quantity": 1, "unit_price": 1}]'$$),
    ('jsonb', 'sku_10MB',        $$fuzz.big_jsonb('sku_10MB')$$),
    ('jsonb', 'deep_10k',        $$fuzz.big_jsonb('deep_10k')$$),
    ('jsonb', 'items_100k',      $$fuzz.big_jsonb('items_100k')$$),
    ('jsonb', 'same_sku_100k',   $$fuzz.big_jsonb('same_sku_100k')$$),
    ('jsonb', 'numbers_100k',    $$fuzz.big_jsonb('numbers_100k')$$),
    ('jsonb', 'keys_100k',       $$fuzz.big_jsonb('keys_100k')$$),
    ('jsonb', 'malformed',       $$'{"sku": '::jsonb$$),
    -- roles: no such OID, OID 0, a superuser, a predefined role, a role
    -- whose name needs quoting
    ('regrole', 'null',       'NULL'),
    ('regrole', 'oid0',       '0::oid::regrole'),
    ('regrole', 'no_such',    '4294967295::oid::regrole'),
    ('regrole', 'superuser',  $$'postgres'::regrole$$),
    ('regrole', 'predefined', $$'pg_read_all_data'::regrole$$),
    ('regrole', 'quoted',     $$'"oc fuzz ""quoted"" role"'::regrole$$),
    -- small extras so that new functions with these types are covered
    ('uuid', 'null', 'NULL'),
    ('uuid', 'zero', $$'00000000-0000-0000-0000-000000000000'::uuid$$),
    ('bytea', 'null',  'NULL'),
    ('bytea', 'empty', $$''::bytea$$),
    ('bytea', 'nul',   $$'\x00'::bytea$$),
    ('bytea', '10MB',  $$convert_to(fuzz.big_text('10MB'), 'UTF8')$$),
    ('oid', 'null', 'NULL'),
    ('oid', 'zero', '0::oid'),
    ('oid', 'max',  '4294967295::oid');

-- Big values are made once (a 100k-element document takes ~1 s to build)
-- and read by name.
CREATE TABLE fuzz.big (name text PRIMARY KEY, t text, j jsonb);
CREATE FUNCTION fuzz.big_text(n text) RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT t FROM fuzz.big WHERE name = n $$;
CREATE FUNCTION fuzz.big_jsonb(n text) RETURNS jsonb
    LANGUAGE sql STABLE AS $$ SELECT j FROM fuzz.big WHERE name = n $$;

INSERT INTO fuzz.big (name, t) VALUES ('10MB', repeat('x', 10 * 1024 * 1024));
INSERT INTO fuzz.big (name, j) VALUES
    ('sku_10MB', jsonb_build_array(jsonb_build_object('sku', repeat('x', 10 * 1024 * 1024),
                                                      'quantity', 1, 'unit_price', 1))),
    ('deep_10k', (repeat('[', 10000) || repeat(']', 10000))::jsonb),
    ('items_100k', (SELECT ('[' || string_agg(format('{"sku": "fz-u%s", "quantity": 1, "unit_price": 1}', g), ',')
                            || ']')::jsonb FROM generate_series(1, 100000) g)),
    ('same_sku_100k', (SELECT ('[' || string_agg('{"sku": "fz-sku", "quantity": 1, "unit_price": 1}', ',')
                               || ']')::jsonb FROM generate_series(1, 100000) g)),
    ('numbers_100k', (SELECT ('[' || string_agg(g::text, ',') || ']')::jsonb FROM generate_series(1, 100000) g)),
    ('keys_100k', (SELECT ('{' || string_agg(format('"k%s": %s', g, g), ',') || '}')::jsonb
                     FROM generate_series(1, 100000) g));

-- ===================================================================
-- 2. Base values: the valid argument every other position gets, so that a
--    hostile value in one position is not masked by another argument
--    failing first. Most specific match wins: (function, argument name),
--    then argument name (with type), then type. They name the fixture below.
-- ===================================================================
CREATE TABLE fuzz.base (
    func  text NOT NULL DEFAULT '*',   -- function name or '*'
    arg   text NOT NULL DEFAULT '*',   -- argument name or '*'
    type  regtype,                     -- NULL: any type
    expr  text NOT NULL
);

INSERT INTO fuzz.base (func, arg, type, expr) VALUES
    -- by type
    ('*', '*', 'text',     $$'fz-x'$$),
    ('*', '*', 'numeric',  '1'),
    ('*', '*', 'bigint',   '1'),
    ('*', '*', 'integer',  '1'),
    ('*', '*', 'smallint', '1'),
    ('*', '*', 'double precision', '1'),
    ('*', '*', 'real',     '1'),
    ('*', '*', 'boolean',  'false'),
    ('*', '*', 'interval', $$'10 minutes'$$),
    ('*', '*', 'jsonb',    $$'{"ok": true}'$$),
    ('*', '*', 'json',     $$'{"ok": true}'$$),
    ('*', '*', 'regrole',  $$'oc_fuzz_role'$$),
    ('*', '*', 'timestamp with time zone', 'statement_timestamp()'),
    ('*', '*', 'timestamp without time zone', 'localtimestamp'),
    ('*', '*', 'date',     'current_date'),
    ('*', '*', 'uuid',     $$'00000000-0000-0000-0000-000000000001'$$),
    ('*', '*', 'bytea',    $$'\x01'$$),
    ('*', '*', 'oid',      '1'),
    -- by argument name: the fixture's objects
    ('*', 'account',        NULL, $$'fz-acct'$$),
    ('*', 'sku',            NULL, $$'fz-sku'$$),
    ('*', 'order_ref',      NULL, $$'fz-order'$$),       -- a pending order (hold + reservation)
    ('*', 'payment_ref',    NULL, $$'fz-pay-new'$$),
    ('*', 'key',            NULL, $$'fz-key'$$),         -- idempotency key, lease and lock
    ('*', 'fingerprint',    NULL, $$'fz-fp'$$),
    ('*', 'owner',          NULL, $$'fz-owner'$$),
    ('*', 'token',          NULL, $$(SELECT value::bigint FROM fuzz.fixture WHERE name = 'lease_token')$$),
    ('*', 'source',         NULL, $$'fz-src'$$),
    ('*', 'event_id',       NULL, $$'fz-evt-new'$$),
    ('*', 'reason',         NULL, $$'fuzz'$$),
    ('*', 'currency',       NULL, $$'EUR'$$),
    ('*', 'credit_limit',   NULL, '1000'),
    ('*', 'amount',         NULL, '1'),
    ('*', 'quantity',       NULL, '1'),
    ('*', 'delta',          NULL, '1'),
    ('*', 'on_hand',        NULL, '100'),
    ('*', 'buckets',        NULL, '4'),
    ('*', 'max_rows',       NULL, '10'),
    ('*', 'expires_in',     NULL, $$'10 minutes'$$),
    ('*', 'lease',          NULL, $$'30 seconds'$$),
    ('*', 'ttl',            NULL, $$'30 seconds'$$),
    ('*', 'timeout',        NULL, $$'1 second'$$),
    ('*', 'wait',           NULL, 'false'),
    ('*', 'recovery_point', NULL, $$'step-1'$$),
    ('*', 'response',       NULL, $$'{"ok": true}'$$),
    ('*', 'response_code',  NULL, '200'),
    ('*', 'items',          NULL, $$'[{"sku": "fz-sku", "quantity": 1, "unit_price": 1}]'$$),
    ('*', 'kind',           NULL, $$'count'$$),
    ('*', 'role',           NULL, $$'oc_fuzz_role'$$),
    -- by function: the state each needs to succeed
    ('create_account',     'account',   NULL, $$'fz-acct-new'$$),
    ('reserve_credit',     'order_ref', NULL, $$'fz-new'$$),
    ('try_reserve_credit', 'order_ref', NULL, $$'fz-new'$$),
    ('capture_credit',     'order_ref', NULL, $$'fz-hold'$$),   -- a plain pending hold
    ('release_credit',     'order_ref', NULL, $$'fz-hold'$$),
    ('reserve_stock',      'order_ref', NULL, $$'fz-new'$$),
    ('try_reserve_stock',  'order_ref', NULL, $$'fz-new'$$),
    ('reserve_stock',      'items',     NULL, $$'[{"sku": "fz-sku", "quantity": 1}]'$$),
    ('commit_stock',       'order_ref', NULL, $$'fz-resv'$$),   -- a plain active reservation
    ('release_stock',      'order_ref', NULL, $$'fz-resv'$$),
    ('place_order',        'order_ref', NULL, $$'fz-new'$$),
    ('set_order_status',   'order_ref', NULL, $$'fz-paid'$$),   -- paid -> processing
    ('set_order_status',   'status',    NULL, $$'processing'$$),
    ('lock',               'key',       NULL, $$'fz-lock'$$),
    ('try_lock',           'key',       NULL, $$'fz-lock'$$),
    ('idempotency_begin',  'key',       NULL, $$'fz-key-new'$$);

-- ===================================================================
-- 3. The fixture: one object of every kind, committed before the calls.
-- ===================================================================
CREATE TABLE fuzz.fixture (name text PRIMARY KEY, value text);

CREATE FUNCTION fuzz.make_fixture() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_credit.create_account('fz-acct', 1000, 'EUR');
    PERFORM order_credit.set_stock('fz-sku', 100, 4);
    PERFORM order_credit.set_stock('fz-other', 10);
    PERFORM order_credit.adjust_stock('fz-sku', 5, 'receipt');
    PERFORM order_credit.reserve_credit('fz-acct', 5, 'fz-hold', '1 hour');
    PERFORM order_credit.reserve_stock('fz-sku', 2, 'fz-resv', '1 hour');
    PERFORM order_credit.place_order('fz-order', '[{"sku": "fz-sku", "quantity": 1, "unit_price": 3}]',
                                     'fz-acct', '1 hour');
    PERFORM order_credit.place_order('fz-paid', '[{"sku": "fz-sku", "quantity": 1, "unit_price": 3}]',
                                     'fz-acct', '1 hour');
    PERFORM order_credit.confirm_order('fz-paid', 'fz-pay-1');
    PERFORM order_credit.record_payment('fz-acct', 1, 'fz-pay-2');
    PERFORM order_credit.idempotency_begin('fz-key', 'fz-fp', '1 hour');
    INSERT INTO fuzz.fixture VALUES
        ('lease_token', order_credit.acquire_lease('fz-key', 'fz-owner', '1 hour')::text);
    PERFORM order_credit.process_once('fz-src', 'fz-evt');
END
$$;

-- ===================================================================
-- 4. Allowed SQLSTATEs of a failing call: the contract's (docs/reference.md), plus
--    22P02 for the one hostile value that is malformed text (refused by
--    jsonb's input function in the call's own statement) and 23514 for the
--    row checks, whose contract it is. Nothing else: a bad value the
--    functions do not check themselves surfaces as some other code
--    (22003, 22008, 54000, 42601, ...) and fails the run, as do every XX
--    (internal) code, 57014 (a call over 5 s) and a lost connection.
-- ===================================================================
CREATE TABLE fuzz.allowed (
    sqlstate text NOT NULL,
    func     text NOT NULL DEFAULT '*',   -- only for functions of this name
    why      text NOT NULL
);
INSERT INTO fuzz.allowed (sqlstate, why)
SELECT 'OC0' || lpad(n::text, 2, '0'), 'contract: domain error' FROM generate_series(1, 11) n;
INSERT INTO fuzz.allowed (sqlstate, func, why) VALUES
    ('55P03', '*', 'contract: lock_timeout'),
    ('22023', '*', 'contract: invalid_parameter_value'),
    ('22004', '*', 'contract: null_value_not_allowed'),
    ('22P02', '*', 'a malformed literal is refused by the type''s input function, before the call'),
    ('23514', '_row_valid', 'the row checks'' own contract: true, or 23514 naming the broken rule');

-- ===================================================================
-- 5. The plan, from pg_proc: one base call per function, then one call per (function,
--    argument position, hostile value) with base values elsewhere.
-- ===================================================================

-- Input arguments of a function: position, name (may be NULL), type.
CREATE FUNCTION fuzz.args(f regprocedure)
RETURNS TABLE (pos int, name text, type regtype) LANGUAGE sql STABLE AS $$
    SELECT a.n::int, NULLIF(p.proargnames[a.n], ''), a.t::regtype
      FROM pg_proc p,
           unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, n)
     WHERE p.oid = f
     -- proargnames lists every argument, OUT ones included; IN arguments come
     -- first in proargtypes but not always in proargnames, so map by mode.
       AND p.proargmodes IS NULL
    UNION ALL
    SELECT row_number() OVER (ORDER BY a.n)::int, NULLIF(p.proargnames[a.n], ''), a.t::regtype
      FROM pg_proc p,
           unnest(p.proallargtypes, p.proargmodes) WITH ORDINALITY AS a(t, m, n)
     WHERE p.oid = f AND p.proargmodes IS NOT NULL AND a.m IN ('i', 'b', 'v')
    ORDER BY 1
$$;

-- Hostile values of a type: (label, expr). Generic for domains, arrays and
-- composite types; empty for a type nobody listed.
CREATE FUNCTION fuzz.values_for(t regtype)
RETURNS TABLE (label text, expr text) LANGUAGE plpgsql STABLE AS $$
DECLARE
    ty pg_type;
    col record;
    base_row text;
    cols text[];
BEGIN
    SELECT * INTO ty FROM pg_type WHERE oid = t;
    IF EXISTS (SELECT 1 FROM fuzz.hostile h WHERE h.type = t) THEN
        RETURN QUERY SELECT h.label, h.expr FROM fuzz.hostile h WHERE h.type = t ORDER BY h.label;
    ELSIF t = 'json'::regtype THEN
        RETURN QUERY SELECT v.label, format('(%s)::json', v.expr) FROM fuzz.values_for('jsonb') v;
    ELSIF ty.typcategory = 'S' THEN
        RETURN QUERY SELECT v.label, v.expr FROM fuzz.values_for('text') v;
    ELSIF ty.typtype = 'd' THEN
        RETURN QUERY SELECT v.label, v.expr FROM fuzz.values_for(ty.typbasetype) v;
    ELSIF ty.typtype = 'e' THEN
        RETURN QUERY SELECT 'null', 'NULL'
                     UNION ALL
                     SELECT e.enumlabel, quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t;
    ELSIF ty.typelem <> 0 AND ty.typsubscript = 'array_subscript_handler'::regproc THEN
        RETURN QUERY
            SELECT 'null', 'NULL'
            UNION ALL SELECT 'empty', format('%L::%s', '{}', t)
            UNION ALL SELECT 'one_null', format('ARRAY[NULL]::%s', t)
            UNION ALL SELECT '100k', format('array_fill((%s)::%s, ARRAY[100000])', fuzz.base_for('*', '*', ty.typelem), ty.typelem::regtype)
            UNION ALL SELECT '2d', format('array_fill((%s)::%s, ARRAY[2, 2])', fuzz.base_for('*', '*', ty.typelem), ty.typelem::regtype)
            UNION ALL SELECT '[' || v.label || ']', format('ARRAY[(%s)::%s]', v.expr, ty.typelem::regtype)
                        FROM fuzz.values_for(ty.typelem) v WHERE v.expr <> 'NULL';
    ELSIF ty.typtype = 'c' THEN
        -- A row of the table (or of the base value) with one column replaced.
        base_row := fuzz.base_for('*', '*', t);
        SELECT array_agg(quote_ident(a.attname) ORDER BY a.attnum) INTO cols
          FROM pg_attribute a WHERE a.attrelid = ty.typrelid AND a.attnum > 0 AND NOT a.attisdropped;
        RETURN QUERY SELECT 'null', 'NULL'
                     UNION ALL SELECT 'all_null_fields', format('jsonb_populate_record(NULL::%s, ''{}'')', t);
        FOR col IN SELECT a.attnum, a.attname, a.atttypid::regtype AS atttype
                     FROM pg_attribute a
                    WHERE a.attrelid = ty.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                    ORDER BY a.attnum LOOP
            RETURN QUERY
                SELECT col.attname || '=' || v.label,
                       format('(SELECT ROW(%s)::%s FROM (SELECT (%s).*) b)',
                              (SELECT string_agg(CASE WHEN c = quote_ident(col.attname)
                                                      THEN format('(%s)::%s', v.expr, col.atttype)
                                                      ELSE 'b.' || c END, ', ' ORDER BY i)
                                 FROM unnest(cols) WITH ORDINALITY u(c, i)),
                              t, base_row)
                  FROM fuzz.values_for(col.atttype) v;
        END LOOP;
    END IF;
END
$$;

-- The base value of an argument (function name, argument name, type).
CREATE FUNCTION fuzz.base_for(fname text, aname text, t regtype) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    e text;
    ty pg_type;
BEGIN
    SELECT b.expr INTO e FROM fuzz.base b
     WHERE b.func IN (fname, '*') AND b.arg IN (coalesce(aname, '*'), '*')
       AND (b.type IS NULL OR b.type = t)
       AND NOT (b.func = '*' AND b.arg = '*' AND b.type IS NULL)
     ORDER BY b.func <> '*' DESC, b.arg <> '*' DESC, b.type IS NOT NULL DESC
     LIMIT 1;
    IF e IS NOT NULL THEN
        RETURN e;
    END IF;
    SELECT * INTO ty FROM pg_type WHERE oid = t;
    IF t = 'json'::regtype OR ty.typcategory = 'S' THEN
        RETURN fuzz.base_for(fname, aname, CASE WHEN t = 'json'::regtype THEN 'jsonb' ELSE 'text' END);
    ELSIF ty.typtype = 'd' THEN
        RETURN fuzz.base_for(fname, aname, ty.typbasetype);
    ELSIF ty.typtype = 'c' THEN
        -- a row of the fixture when the type is a table's, else all NULL
        IF EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = ty.typrelid AND c.relkind IN ('r', 'p')) THEN
            RETURN format('(SELECT t FROM %s t ORDER BY t::text LIMIT 1)', ty.typrelid::regclass);
        END IF;
        RETURN format('jsonb_populate_record(NULL::%s, ''{}'')', t);
    ELSIF ty.typtype = 'e' THEN
        RETURN (SELECT quote_literal(enumlabel) FROM pg_enum WHERE enumtypid = t ORDER BY enumsortorder LIMIT 1);
    ELSIF ty.typelem <> 0 AND ty.typsubscript = 'array_subscript_handler'::regproc THEN
        RETURN format('ARRAY[(%s)::%s]', fuzz.base_for(fname, aname, ty.typelem), ty.typelem::regtype);
    END IF;
    RETURN 'NULL';
END
$$;

CREATE TABLE fuzz.functions (
    func    regprocedure PRIMARY KEY,
    skipped text          -- why it is not called, or NULL
);

CREATE TABLE fuzz.calls (
    id     serial PRIMARY KEY,
    func   regprocedure NOT NULL,
    pos    int NOT NULL,            -- 0: the base call
    arg    text,
    label  text NOT NULL,
    sql    text NOT NULL
);

CREATE TABLE fuzz.results (
    id        int PRIMARY KEY,
    sqlstate  text NOT NULL,        -- 00000: accepted (then rolled back)
    message   text,
    ms        numeric,
    problem   text                  -- what the checks found, or NULL
);

-- Fills fuzz.functions and fuzz.calls from pg_proc.
CREATE FUNCTION fuzz.plan(ext text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    f record;
    a record;
    v record;
    n int;
    bases text[];
    args text[];
    stmt text;
    skip text;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS func, p.proname, p.prokind, p.prorettype, n.nspname
               FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               -- every function of the extension's schema (its own and any
               -- added there later)
               JOIN pg_extension e ON e.extnamespace = p.pronamespace AND e.extname = ext
              ORDER BY p.oid::regprocedure::text LOOP
        skip := CASE
            WHEN f.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype) THEN
                'trigger function: only the trigger manager can call it (a direct call is refused before its body runs)'
            WHEN f.prokind IN ('a', 'w') THEN
                'aggregate or window function: not callable with plain arguments'
            WHEN EXISTS (SELECT 1 FROM fuzz.args(f.func) x JOIN pg_type t ON t.oid = x.type
                          WHERE t.typtype = 'p') THEN
                'has a pseudo-type argument: no SQL value of that type exists'
        END;
        INSERT INTO fuzz.functions VALUES (f.func, skip);
        CONTINUE WHEN skip IS NOT NULL;

        SELECT coalesce(array_agg(format('(%s)::%s', fuzz.base_for(f.proname, x.name, x.type), x.type)
                                  ORDER BY x.pos), '{}')
          INTO bases FROM fuzz.args(f.func) x;
        stmt := CASE WHEN f.prokind = 'p' THEN 'CALL %I.%I(%s)' ELSE 'SELECT %I.%I(%s)' END;

        INSERT INTO fuzz.calls (func, pos, arg, label, sql)
        VALUES (f.func, 0, NULL, 'base', format(stmt, f.nspname, f.proname, array_to_string(bases, ', ')));

        FOR a IN SELECT * FROM fuzz.args(f.func) LOOP
            n := 0;
            FOR v IN SELECT * FROM fuzz.values_for(a.type) LOOP
                n := n + 1;
                args := bases;
                args[a.pos] := format('(%s)::%s', v.expr, a.type);
                INSERT INTO fuzz.calls (func, pos, arg, label, sql)
                VALUES (f.func, a.pos, coalesce(a.name, '$' || a.pos), v.label,
                        format(stmt, f.nspname, f.proname, array_to_string(args, ', ')));
            END LOOP;
            IF n = 0 THEN
                INSERT INTO fuzz.calls (func, pos, arg, label, sql)
                VALUES (f.func, a.pos, coalesce(a.name, '$' || a.pos), 'NO VALUES FOR TYPE ' || a.type, '');
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- ===================================================================
-- 6. Digest of every user table of the extension (pg_extension.extconfig,
--    sequences left out: a failed call may advance one), one md5 per table.
-- ===================================================================
CREATE TABLE fuzz.state (one boolean PRIMARY KEY DEFAULT true, digest_sql text, last_digest jsonb, last_id int);

CREATE FUNCTION fuzz.prepare_digest(ext text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fuzz.state (digest_sql)
    SELECT 'SELECT jsonb_build_object(' ||
           string_agg(format('%L, (SELECT md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %s t)',
                             c.oid::regclass, c.oid::regclass), ', ' ORDER BY c.oid::regclass::text) || ')'
      FROM pg_extension e, unnest(e.extconfig) AS x(rel)
      JOIN pg_class c ON c.oid = x.rel AND c.relkind IN ('r', 'p')
     WHERE e.extname = ext;
END
$$;

CREATE FUNCTION fuzz.digest() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
BEGIN
    EXECUTE (SELECT digest_sql FROM fuzz.state) INTO d;
    RETURN d;
END
$$;

-- The tables whose digests differ.
CREATE FUNCTION fuzz.diff(a jsonb, b jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(a) k WHERE a -> k IS DISTINCT FROM b -> k
$$;

-- ===================================================================
-- 7. One call: run by the shell as its own top-level statement (so its own
--    transaction, under statement_timeout). The call runs in a
--    subtransaction that is always rolled back (an accepted call too, after
--    verify()), so every call meets the same fixture; the checks after it:
--    the tables' digest is what it was before (nothing written outside the
--    transaction), and the committed state the previous call left is the
--    fixture's; no advisory lock outlives the call.
-- ===================================================================
CREATE FUNCTION fuzz.try(p_id int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c fuzz.calls;
    d0 jsonb;
    d1 jsonb;
    st text;
    msg text;
    problems text[] := '{}';
    t0 timestamptz;
    ms numeric;
    bad text;
    prev fuzz.state;
    locks int;
BEGIN
    SELECT * INTO c FROM fuzz.calls WHERE id = p_id;
    SELECT * INTO prev FROM fuzz.state;
    d0 := fuzz.digest();
    IF prev.last_digest IS DISTINCT FROM d0 THEN
        problems := problems || format('committed state changed after call %s: %s',
                                       prev.last_id, fuzz.diff(prev.last_digest, d0));
    END IF;
    SELECT count(*) INTO locks FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory';
    IF locks > 0 THEN
        problems := problems || format('%s advisory lock(s) held after call %s ended', locks, prev.last_id);
        PERFORM pg_advisory_unlock_all();
    END IF;

    t0 := clock_timestamp();
    BEGIN
        EXECUTE c.sql;
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
        -- Accepted: the invariants must still hold.
        BEGIN
            SELECT string_agg(v.check_name || ' ' || v.subject, '; ') INTO bad FROM order_credit.verify() v;
        EXCEPTION WHEN OTHERS THEN
            bad := 'verify() failed: ' || SQLSTATE || ' ' || SQLERRM;
        END;
        RAISE EXCEPTION 'fuzz: roll back' USING ERRCODE = 'FZ000';
    EXCEPTION
        WHEN query_canceled THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    END;
    IF st = 'FZ000' THEN
        st := '00000';
        msg := NULL;
        IF bad IS NOT NULL THEN
            problems := problems || ('accepted, then verify() reports: ' || bad);
        END IF;
    ELSE
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    END IF;

    SELECT count(*) INTO locks FROM pg_locks
     WHERE pid = pg_backend_pid() AND locktype = 'advisory';
    IF locks > 0 THEN
        -- Released here (session locks: the only kind a rolled-back
        -- subtransaction leaves), so that the next call is not blamed.
        problems := problems || format('%s advisory lock(s) still held after the rollback', locks);
        PERFORM pg_advisory_unlock_all();
    END IF;
    d1 := fuzz.digest();
    IF d1 IS DISTINCT FROM d0 THEN
        problems := problems || ('tables changed by a rolled-back call: ' || fuzz.diff(d0, d1));
    END IF;

    INSERT INTO fuzz.results VALUES (p_id, st, left(msg, 300), round(ms, 1),
                                     NULLIF(array_to_string(problems, '; '), ''));
    UPDATE fuzz.state SET last_digest = d1, last_id = p_id;
END
$$;

-- ===================================================================
-- 8. The verdict: calls that fail the run.
-- ===================================================================
CREATE VIEW fuzz.failures AS
SELECT c.id, c.func, c.arg, c.label, r.sqlstate, r.message, r.problem
  FROM fuzz.calls c LEFT JOIN fuzz.results r USING (id)
 WHERE c.sql = ''                                   -- a type without values
    OR r.sqlstate IS NULL                           -- never ran
    OR r.sqlstate LIKE 'XX%'                        -- internal error
    OR r.sqlstate IN ('57014', 'LOST')              -- over 5 s; connection lost
    OR r.problem IS NOT NULL                        -- left something changed
    OR (r.sqlstate <> '00000' AND NOT EXISTS (
            SELECT 1 FROM fuzz.allowed a, pg_proc p
             WHERE p.oid = c.func AND a.sqlstate = r.sqlstate AND a.func IN ('*', p.proname)));
