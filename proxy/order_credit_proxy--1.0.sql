-- order_credit_proxy 1.0: the contract of order_credit (docs/reference.md) on
-- a proxy database. Every call runs on one shard, a database with the
-- order_credit extension, chosen by the tenant of its key ("tenant:name");
-- the whole-system functions (verify, stats, stats_reset, expire_due) run on
-- every shard at once. Shards are the partitions of the PL/Proxy cluster
-- order_credit_shards (a SQL/MED server of the plproxy wrapper). See
-- docs/scaling-out.md.
\echo Use "CREATE EXTENSION order_credit_proxy" to load this file. \quit

CREATE SCHEMA order_credit_proxy;
COMMENT ON SCHEMA order_credit_proxy IS
    'Routing of order_credit_proxy: tenants, shard placement, shard setup.';

-- ===================================================================
-- Routing. A key's tenant is the text before its first ':'. A tenant
-- listed in tenants runs on the shard given there (a tenant moved by a
-- resharding); every other tenant on hashtext(tenant) & (shards - 1),
-- PL/Proxy's mapping of a hash to a partition.
-- ===================================================================

CREATE TABLE order_credit_proxy.tenants (
    tenant  text PRIMARY KEY CHECK (tenant <> '' AND strpos(tenant, ':') = 0),
    shard   integer NOT NULL CHECK (shard >= 0),
    moving  boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE order_credit_proxy.tenants IS
    'Tenants placed on a shard other than their hash''s (after a move). moving = true: calls for the tenant are refused (55000) while its rows are copied.';
SELECT pg_catalog.pg_extension_config_dump('order_credit_proxy.tenants', '');

CREATE FUNCTION order_credit_proxy.tenant_of(key text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN strpos(key, ':') > 1 THEN substr(key, 1, strpos(key, ':') - 1) END;
COMMENT ON FUNCTION order_credit_proxy.tenant_of(text) IS
    'The tenant of a key: the text before its first colon; NULL when there is none.';

CREATE FUNCTION order_credit_proxy.tenant_or_raise(key text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    t text := order_credit_proxy.tenant_of(key);
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'key "%" names no tenant', key USING ERRCODE = '22023',
            DETAIL = 'Through order_credit_proxy, accounts, skus, order_refs, keys and sources are written tenant:name.',
            HINT = 'The tenant chooses the shard; everything one call touches belongs to one tenant.';
    END IF;
    RETURN t;
END
$$;

CREATE FUNCTION order_credit_proxy.shard_of_tenant(tenant text) RETURNS integer
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    placed record;
BEGIN
    SELECT t.shard, t.moving INTO placed FROM order_credit_proxy.tenants t WHERE t.tenant = shard_of_tenant.tenant;
    IF NOT FOUND THEN
        RETURN hashtext(tenant);
    END IF;
    IF placed.moving THEN
        RAISE EXCEPTION 'tenant "%" is being moved to another shard', tenant USING ERRCODE = '55000',
            HINT = 'Retry once the move is done.';
    END IF;
    RETURN placed.shard;
END
$$;
COMMENT ON FUNCTION order_credit_proxy.shard_of_tenant(text) IS
    'The hash PL/Proxy maps to a shard for a tenant: its row in tenants, else hashtext(tenant). 55000 while the tenant is being moved.';

-- refuse(key, items, other): the checks of route() one by one, in the
-- order a caller meets them (key, each "sku" of items, other, a tenant
-- being moved), raising the first that fails. route() calls it only when
-- one fails; if none does any more, the shard of key's tenant.
CREATE FUNCTION order_credit_proxy.refuse(key text, items jsonb, other text) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    t text := order_credit_proxy.tenant_or_raise(key);
    k text;
BEGIN
    FOR k IN SELECT e ->> 'sku' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(items) = 'array' THEN items END)
                                     WITH ORDINALITY AS x(e, n)
              WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'sku') = 'string' ORDER BY n LOOP
        IF order_credit_proxy.tenant_or_raise(k) <> t THEN
            RAISE EXCEPTION '"%" and "%" belong to different tenants', key, k USING ERRCODE = '22023',
                DETAIL = format('tenants %s and %s', t, order_credit_proxy.tenant_of(k)),
                HINT = 'A call through order_credit_proxy runs on one shard: everything it touches belongs to one tenant.';
        END IF;
    END LOOP;
    IF other IS NOT NULL AND order_credit_proxy.tenant_or_raise(other) <> t THEN
        RAISE EXCEPTION '"%" and "%" belong to different tenants', key, other USING ERRCODE = '22023',
            DETAIL = format('tenants %s and %s', t, order_credit_proxy.tenant_of(other)),
            HINT = 'A call through order_credit_proxy runs on one shard: everything it touches belongs to one tenant.';
    END IF;
    RETURN order_credit_proxy.shard_of_tenant(t);
END
$$;

-- route(key, items, other): the shard of key's tenant, as PL/Proxy's RUN ON
-- asks it ("SELECT * FROM route($1, $2, $3)"). other (when not NULL) and
-- every "sku" of items (an array of objects, as reserve_stock and
-- place_order take; items of another shape are left to the shard to
-- refuse) must have key's tenant, else the call would need two shards and
-- is refused (22023). A NULL key goes to shard 0, whose order_credit raises
-- 22004 exactly as it does when called directly. One SQL query, which the
-- planner inlines into PL/Proxy's: a set-returning SQL function is inlined
-- whole (a scalar one with a subquery is not, and would be planned again
-- on every call); refuse() raises, on the rare path only.
CREATE FUNCTION order_credit_proxy.route(key text, items jsonb, other text) RETURNS SETOF integer
    LANGUAGE sql STABLE
AS $$
    SELECT CASE
             WHEN key IS NULL THEN 0
             WHEN k.tenant IS NULL
               OR (other IS NOT NULL AND order_credit_proxy.tenant_of(other) IS DISTINCT FROM k.tenant)
               OR EXISTS (SELECT FROM jsonb_array_elements(CASE WHEN jsonb_typeof(items) = 'array' THEN items END) e
                           WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'sku') = 'string'
                             AND order_credit_proxy.tenant_of(e ->> 'sku') IS DISTINCT FROM k.tenant)
               THEN order_credit_proxy.refuse(key, items, other)
             ELSE coalesce((SELECT CASE WHEN p.moving THEN order_credit_proxy.refuse(key, items, other) ELSE p.shard END
                              FROM order_credit_proxy.tenants p WHERE p.tenant = k.tenant),
                           hashtext(k.tenant))
           END
      FROM (SELECT order_credit_proxy.tenant_of(key) AS tenant) k
$$;
COMMENT ON FUNCTION order_credit_proxy.route(text, jsonb, text) IS
    'The shard (as PL/Proxy''s hash) of a call by key, with items and other of the same tenant: 22023 for a key without a tenant or keys of two tenants, 55000 for a tenant being moved; 0 for a NULL key.';

-- route(key), route(key, other): route(key, NULL, NULL) and
-- route(key, NULL, other), inlined as well.
CREATE FUNCTION order_credit_proxy.route(key text) RETURNS SETOF integer
    LANGUAGE sql STABLE
AS $$
    SELECT * FROM order_credit_proxy.route(key, NULL::jsonb, NULL::text)
$$;
CREATE FUNCTION order_credit_proxy.route(key text, other text) RETURNS SETOF integer
    LANGUAGE sql STABLE
AS $$
    SELECT * FROM order_credit_proxy.route(key, NULL::jsonb, other)
$$;

-- ===================================================================
-- The cluster and its shards.
-- ===================================================================

CREATE FUNCTION order_credit_proxy.shard_count() RETURNS integer
    LANGUAGE sql STABLE
    RETURN (SELECT count(*) FROM pg_catalog.pg_foreign_server s, unnest(s.srvoptions) o
             WHERE s.srvname = 'order_credit_shards' AND o ~ '^p[0-9]+=');
COMMENT ON FUNCTION order_credit_proxy.shard_count() IS
    'Number of partitions (p0, p1, ...) of the server order_credit_shards.';

-- The id sequences of shard n issue ids from n << 48 on, so a hold id,
-- reservation id, ledger or audit entry id or fencing token names one shard
-- (ids >> 48 = shard). The sequences' positions are part of a pg_dump of the
-- shard, so a restored shard keeps its range.
CREATE FUNCTION order_credit_proxy.shard_ids(shard integer)
    RETURNS TABLE (sequence text, last_value bigint)
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON shard;
    SELECT s.sequencename::text AS sequence, s.last_value
      FROM pg_catalog.pg_sequences s WHERE s.schemaname = 'order_credit';
$$;
COMMENT ON FUNCTION order_credit_proxy.shard_ids(integer) IS
    'The id sequences of shard n (partition n of order_credit_shards) and where they stand.';

CREATE FUNCTION order_credit_proxy.set_shard_ids(shard integer, start bigint)
    RETURNS TABLE (sequence text, last_value bigint)
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON shard;
    SELECT s.sequencename::text AS sequence,
           pg_catalog.setval(format('order_credit.%I', s.sequencename)::regclass, start) AS last_value
      FROM pg_catalog.pg_sequences s
     WHERE s.schemaname = 'order_credit' AND coalesce(s.last_value, 0) < start;
$$;

CREATE FUNCTION order_credit_proxy.setup_shards()
    RETURNS TABLE (shard integer, sequences_moved integer)
    LANGUAGE plpgsql
AS $$
DECLARE
    n integer;
    i integer;
    r record;
BEGIN
    n := order_credit_proxy.shard_count();
    IF n = 0 OR n & (n - 1) <> 0 THEN
        RAISE EXCEPTION 'server order_credit_shards has % partitions', n USING ERRCODE = '22023',
            HINT = 'PL/Proxy wants a power of two: p0 .. p3 for four shards.';
    END IF;
    FOR i IN 0 .. n - 1 LOOP
        FOR r IN SELECT * FROM order_credit_proxy.shard_ids(i) d
                  WHERE coalesce(d.last_value, 0) >> 48 NOT IN (0, i) LOOP
            RAISE EXCEPTION 'partition % already issued ids of shard %', i, r.last_value >> 48
                USING ERRCODE = '55000', DETAIL = format('sequence %s at %s', r.sequence, r.last_value),
                      HINT = 'Partitions p0, p1, ... of order_credit_shards must stay in their order.';
        END LOOP;
        shard := i;
        SELECT count(*) INTO sequences_moved FROM order_credit_proxy.set_shard_ids(i, i::bigint << 48);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION order_credit_proxy.setup_shards() IS
    'Moves the id sequences of every shard n to n << 48 (forward only), so ids seen by users are unique across shards. Run once after CREATE SERVER order_credit_shards, and after adding shards.';

-- Fan-outs: each SELECT below runs on every shard at once (RUN ON ALL); the
-- shard a row came from is computed there from its ids (largest id >> 48).

CREATE FUNCTION order_credit_proxy.verify_shards()
    RETURNS TABLE (shard integer, check_name text, subject text, detail text)
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON ALL;
    SELECT (SELECT coalesce(max(s.last_value), 0) >> 48 FROM pg_catalog.pg_sequences s
             WHERE s.schemaname = 'order_credit')::integer AS shard,
           v.check_name, v.subject, v.detail
      FROM order_credit.verify() v;
$$;

-- A server's counters are in its shared memory: every shard database of
-- one server (shards may share one while they are small) reports the same
-- ones. Each row says which server it came from (its system identifier),
-- and the merges count each server once.
CREATE FUNCTION order_credit_proxy.stats_shards()
    RETURNS TABLE (shard integer, server bigint, operation text, outcome text, calls bigint,
                   total_ms double precision, max_ms double precision, lock_wait_ms double precision)
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON ALL;
    SELECT (SELECT coalesce(max(s.last_value), 0) >> 48 FROM pg_catalog.pg_sequences s
             WHERE s.schemaname = 'order_credit')::integer AS shard,
           (SELECT c.system_identifier FROM pg_catalog.pg_control_system() c) AS server,
           t.operation, t.outcome, t.calls, t.total_ms, t.max_ms, t.lock_wait_ms
      FROM order_credit._stats_latency() t;
$$;
COMMENT ON FUNCTION order_credit_proxy.stats_shards() IS
    'order_credit.stats of every shard (the counters), with the shard and the server (system identifier) it came from; shards of one server report the server''s counters each.';

CREATE FUNCTION order_credit_proxy.stats_buckets_shards()
    RETURNS TABLE (shard integer, server bigint, operation text, outcome text, le double precision, calls bigint)
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON ALL;
    SELECT (SELECT coalesce(max(s.last_value), 0) >> 48 FROM pg_catalog.pg_sequences s
             WHERE s.schemaname = 'order_credit')::integer AS shard,
           (SELECT c.system_identifier FROM pg_catalog.pg_control_system() c) AS server,
           b.operation, b.outcome, b.le, b.calls
      FROM order_credit._stats_latency_buckets() b;
$$;
COMMENT ON FUNCTION order_credit_proxy.stats_buckets_shards() IS
    'order_credit.stats_latency_buckets of every shard, with the shard and the server (system identifier) it came from.';

CREATE FUNCTION order_credit_proxy.stats_reset_shards() RETURNS SETOF integer
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON ALL;
    SELECT 1 FROM order_credit.stats_reset();
$$;

CREATE FUNCTION order_credit_proxy.expire_due_shards(max_rows integer) RETURNS SETOF bigint
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON ALL;
    TARGET order_credit.expire_due;
$$;

CREATE FUNCTION order_credit_proxy.purge_shards(max_rows integer) RETURNS SETOF bigint
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON ALL;
    TARGET order_credit.purge;
$$;

-- ===================================================================
-- The contract's result types, as order_credit defines them.
-- ===================================================================

CREATE TYPE order_credit.account_status AS (
    account text, currency text, credit_limit numeric, posted numeric, pending numeric,
    available numeric, status text, blocked_reason text, updated_at timestamptz);
CREATE TYPE order_credit.credit_hold AS (
    hold_id bigint, account text, order_ref text, amount numeric, captured numeric,
    status text, expires_at timestamptz, available numeric);
CREATE TYPE order_credit.stock_status AS (
    sku text, on_hand bigint, reserved bigint, available bigint, buckets integer, updated_at timestamptz);
CREATE TYPE order_credit.stock_alert AS (
    sku text, threshold bigint, buckets integer, available bigint, low_buckets integer);
CREATE TYPE order_credit.stock_reservation AS (
    reservation_id bigint, sku text, order_ref text, quantity bigint, status text,
    expires_at timestamptz, available bigint);
CREATE TYPE order_credit.order_status AS (
    order_ref text, account text, status text, amount numeric, expires_at timestamptz,
    updated_at timestamptz);

-- The default expiry is the proxy's own order_credit.default_ttl (a
-- placeholder setting here, 15min when unset): a DEFAULT is evaluated where
-- the call is made, and PL/Proxy sends every argument.
CREATE FUNCTION order_credit.default_ttl() RETURNS interval
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(nullif(current_setting('order_credit.default_ttl', true), ''), '15min')::interval;
COMMENT ON FUNCTION order_credit.default_ttl() IS
    'order_credit.default_ttl as set on the proxy (15min when unset): the default expiry of holds, reservations and orders placed through it.';

-- ===================================================================
-- The contract's functions. Each is a PL/Proxy function in
-- order_credit_proxy (routed, calling the function of the same name on the
-- shard) behind a PL/pgSQL one in order_credit that gives errors back as the
-- shard raised them: PL/Proxy keeps the SQLSTATE but writes the shard's
-- message as "f(n): [db] REMOTE ERROR: ...", its DETAIL as "Remote detail:
-- ..." and its HINT as "Remote hint: ...". A shard it cannot reach is
-- reported as 08006 (connection_failure), naming the shard's database.
-- ===================================================================

CREATE FUNCTION order_credit_proxy.reraise(sqlstate text, message text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF message ~ '^\S+\(\d+\): \[[^]]*\] REMOTE [A-Z]+: ' THEN
        message := regexp_replace(message, '^\S+\(\d+\): \[[^]]*\] REMOTE [A-Z]+: ', '');
        detail := regexp_replace(detail, '^Remote detail: ', '');
        hint := regexp_replace(hint, '^Remote hint: ', '');
    ELSIF sqlstate = 'XX000' AND message ~ '^PL/Proxy function \S+: \[[^]]*\] ' THEN
        -- PL/Proxy could not connect to a shard, or lost the connection: it
        -- says so as an internal error (XX000) naming the shard's database.
        detail := message;
        message := format('shard database "%s" is not reachable',
                          substring(message FROM '^PL/Proxy function \S+: \[([^]]*)\] '));
        hint := 'Calls for the tenants of this shard fail until it is back; a call that failed wrote nothing there: retry it with the same handles.';
        sqlstate := '08006';
    END IF;
    -- RAISE takes no NULL option, and GET STACKED DIAGNOSTICS gives '' for
    -- an absent DETAIL or HINT.
    IF detail <> '' AND hint <> '' THEN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, DETAIL = detail, HINT = hint;
    ELSIF detail <> '' THEN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, DETAIL = detail;
    ELSIF hint <> '' THEN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, HINT = hint;
    ELSE
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
    END IF;
END
$$;
COMMENT ON FUNCTION order_credit_proxy.reraise(text, text, text, text) IS
    'Raises an error caught from a PL/Proxy call again with the shard''s own MESSAGE, DETAIL and HINT (and its SQLSTATE); a shard that cannot be reached as 08006.';

-- ===================================================================
-- Credit lines.
-- ===================================================================

-- Each function of the contract is made by two generators, dropped at the
-- end of this script:
--
-- define_guarded(NAME, PARAMS, RETURNS, BODY): order_credit.NAME (PARAMS,
-- with the contract's defaults), which applications call: BODY in
-- PL/pgSQL, an error raised in it given back as the shard raised it, with
-- its own message, DETAIL and HINT (reraise). Its exception block is the
-- one subtransaction a call through the proxy opens.
CREATE FUNCTION order_credit_proxy.define_guarded(name text, params text, returns text, body text)
    RETURNS void
    LANGUAGE plpgsql
AS $def$
BEGIN
    EXECUTE format($f$CREATE FUNCTION order_credit.%1$s(%2$s)
    RETURNS %3$s
    LANGUAGE plpgsql
AS $$
DECLARE
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
BEGIN
    %4$s
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT,
                            e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
    PERFORM order_credit_proxy.reraise(e_state, e_message, e_detail, e_hint);
END
$$$f$, name, params, returns, body);
END
$def$;

-- define_call(NAME, PARAMS, RETURNS, ROUTE): order_credit_proxy.NAME, the
-- PL/Proxy call that runs order_credit.NAME on the shard ROUTE chooses, and
-- the guarded order_credit.NAME that calls it.
CREATE FUNCTION order_credit_proxy.define_call(name text, params text, returns text, route text)
    RETURNS void
    LANGUAGE plpgsql
AS $def$
DECLARE
    plain text := regexp_replace(params, '\s+DEFAULT\s+[^,]+', '', 'g');
    args text := coalesce((SELECT string_agg(split_part(btrim(a.p), ' ', 1), ', ' ORDER BY a.n)
                             FROM unnest(string_to_array(plain, ',')) WITH ORDINALITY AS a(p, n)), '');
    call text := CASE WHEN returns ~ '^(TABLE|SETOF) ' THEN 'RETURN QUERY SELECT * FROM '
                      WHEN returns = 'void' THEN 'PERFORM '
                      ELSE 'RETURN ' END;
BEGIN
    EXECUTE format($f$CREATE FUNCTION order_credit_proxy.%1$s(%2$s)
    RETURNS %3$s
    LANGUAGE plproxy
AS $$
    CLUSTER 'order_credit_shards';
    RUN ON %4$s;
    TARGET order_credit.%1$s;
$$$f$, name, plain, returns, route);
    PERFORM order_credit_proxy.define_guarded(name, params, returns,
                                              format('%sorder_credit_proxy.%s(%s);', call, name, args));
END
$def$;

SELECT order_credit_proxy.define_call('create_account', 'account text, credit_limit numeric, currency text DEFAULT NULL', 'order_credit.account_status', 'order_credit_proxy.route(account)');

SELECT order_credit_proxy.define_call('set_credit_limit', 'account text, credit_limit numeric', 'order_credit.account_status', 'order_credit_proxy.route(account)');

SELECT order_credit_proxy.define_call('block_account', 'account text, reason text', 'order_credit.account_status', 'order_credit_proxy.route(account)');

SELECT order_credit_proxy.define_call('unblock_account', 'account text', 'order_credit.account_status', 'order_credit_proxy.route(account)');

SELECT order_credit_proxy.define_call('credit_status', 'account text', 'order_credit.account_status', 'order_credit_proxy.route(account)');

SELECT order_credit_proxy.define_call('reserve_credit', 'account text, amount numeric, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()', 'order_credit.credit_hold', 'order_credit_proxy.route(account, order_ref)');

SELECT order_credit_proxy.define_call('try_reserve_credit', 'account text, amount numeric, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()', 'TABLE (ok boolean, code text, message text, hold_id bigint, available numeric, credit_limit numeric)', 'order_credit_proxy.route(account, order_ref)');

SELECT order_credit_proxy.define_call('capture_credit', 'order_ref text, amount numeric DEFAULT NULL', 'order_credit.credit_hold', 'order_credit_proxy.route(order_ref)');

SELECT order_credit_proxy.define_call('release_credit', 'order_ref text, reason text DEFAULT NULL', 'order_credit.credit_hold', 'order_credit_proxy.route(order_ref)');

SELECT order_credit_proxy.define_call('record_payment', 'account text, amount numeric, payment_ref text', 'order_credit.account_status', 'order_credit_proxy.route(account)');

-- ===================================================================
-- Stock.
-- ===================================================================

SELECT order_credit_proxy.define_call('set_stock', 'sku text, on_hand bigint, buckets integer DEFAULT 1', 'order_credit.stock_status', 'order_credit_proxy.route(sku)');

SELECT order_credit_proxy.define_call('adjust_stock', 'sku text, delta bigint, reason text', 'order_credit.stock_status', 'order_credit_proxy.route(sku)');

SELECT order_credit_proxy.define_call('stock_status', 'sku text', 'order_credit.stock_status', 'order_credit_proxy.route(sku)');

SELECT order_credit_proxy.define_call('set_stock_alert', 'sku text, threshold bigint', 'order_credit.stock_alert', 'order_credit_proxy.route(sku)');

SELECT order_credit_proxy.define_call('reserve_stock', 'sku text, quantity bigint, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()', 'order_credit.stock_reservation', 'order_credit_proxy.route(sku, order_ref)');

SELECT order_credit_proxy.define_call('reserve_stock', 'items jsonb, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()', 'SETOF order_credit.stock_reservation', 'order_credit_proxy.route(order_ref, items, NULL)');

SELECT order_credit_proxy.define_call('try_reserve_stock', 'sku text, quantity bigint, order_ref text, expires_in interval DEFAULT order_credit.default_ttl()', 'TABLE (ok boolean, code text, message text, reservation_id bigint, available bigint)', 'order_credit_proxy.route(sku, order_ref)');

SELECT order_credit_proxy.define_call('commit_stock', 'order_ref text', 'SETOF order_credit.stock_reservation', 'order_credit_proxy.route(order_ref)');

SELECT order_credit_proxy.define_call('release_stock', 'order_ref text, reason text DEFAULT NULL', 'SETOF order_credit.stock_reservation', 'order_credit_proxy.route(order_ref)');

-- ===================================================================
-- Orders.
-- ===================================================================

SELECT order_credit_proxy.define_call('place_order', 'order_ref text, items jsonb, account text DEFAULT NULL, expires_in interval DEFAULT order_credit.default_ttl()', 'order_credit.order_status', 'order_credit_proxy.route(order_ref, items, account)');

SELECT order_credit_proxy.define_call('confirm_order', 'order_ref text, payment_ref text DEFAULT NULL', 'order_credit.order_status', 'order_credit_proxy.route(order_ref)');

SELECT order_credit_proxy.define_call('set_order_status', 'order_ref text, status text', 'order_credit.order_status', 'order_credit_proxy.route(order_ref)');

SELECT order_credit_proxy.define_call('cancel_order', 'order_ref text, reason text DEFAULT NULL', 'order_credit.order_status', 'order_credit_proxy.route(order_ref)');

SELECT order_credit_proxy.define_call('order_status', 'order_ref text', 'order_credit.order_status', 'order_credit_proxy.route(order_ref)');

-- ===================================================================
-- Idempotency keys, leases, exactly-once events. Each call commits on its
-- shard by itself: a key or an event is not atomic with the caller's other
-- writes, as it is on a shard (docs/scaling-out.md).
-- ===================================================================

SELECT order_credit_proxy.define_call('idempotency_begin', 'key text, fingerprint text, lease interval DEFAULT NULL, wait boolean DEFAULT false', 'TABLE (state text, response jsonb, response_code integer, recovery_point text, retry_after interval)', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('idempotency_checkpoint', 'key text, recovery_point text', 'void', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('idempotency_complete', 'key text, response jsonb, response_code integer DEFAULT 200', 'void', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('acquire_lease', 'key text, owner text, ttl interval', 'bigint', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('renew_lease', 'key text, owner text, token bigint, ttl interval', 'boolean', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('release_lease', 'key text, owner text, token bigint', 'boolean', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('break_lease', 'key text', 'bigint', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('check_fence', 'key text, token bigint', 'void', 'order_credit_proxy.route(key)');

SELECT order_credit_proxy.define_call('process_once', 'source text, event_id text', 'boolean', 'order_credit_proxy.route(source)');


-- lock() and try_lock() hold a lock until the caller's transaction ends.
-- Through the proxy that transaction is the shard's, which ends with the
-- call, so the lock would protect nothing: both are refused.
CREATE FUNCTION order_credit.lock(key text, timeout interval DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'lock() is not available through order_credit_proxy' USING ERRCODE = '0A000',
        DETAIL = 'A call through the proxy commits on its shard at once, so a transaction-scoped lock would be released before the caller''s next statement.',
        HINT = 'Use acquire_lease() with a fencing token, or call lock() on the shard in the transaction it protects.';
END
$$;
CREATE FUNCTION order_credit.try_lock(key text) RETURNS boolean
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'try_lock() is not available through order_credit_proxy' USING ERRCODE = '0A000',
        DETAIL = 'A call through the proxy commits on its shard at once, so a transaction-scoped lock would be released before the caller''s next statement.',
        HINT = 'Use acquire_lease() with a fencing token, or call try_lock() on the shard in the transaction it protects.';
END
$$;

-- ===================================================================
-- Operations: every shard.
-- ===================================================================

SELECT order_credit_proxy.define_guarded('expire_due', 'max_rows integer DEFAULT 10000', 'bigint',
    'RETURN (SELECT sum(n)::bigint FROM order_credit_proxy.expire_due_shards(max_rows) n);');
COMMENT ON FUNCTION order_credit.expire_due(integer) IS
    'expire_due(max_rows) on every shard at once; the sum of what they expired and purged.';

-- The rows of every shard's verify(); subject names the shard ("shard 2:
-- ..."). A partition whose ids are not in its range (setup_shards() not run,
-- or partitions listed out of order) is a row too.
SELECT order_credit_proxy.define_guarded('verify', '', 'TABLE (check_name text, subject text, detail text)', $body$
    DECLARE
        n integer;
        issued bigint;
    BEGIN
        FOR n IN 0 .. order_credit_proxy.shard_count() - 1 LOOP
            SELECT max(i.last_value) INTO issued FROM order_credit_proxy.shard_ids(n) i;
            IF n > 0 AND coalesce(issued, 0) >> 48 <> n THEN
                check_name := 'shard_ids';
                subject := format('shard %s', n);
                detail := format('ids up to %s, not in [%s, %s): run order_credit_proxy.setup_shards()',
                                 issued, n::bigint << 48, (n + 1)::bigint << 48);
                RETURN NEXT;
            END IF;
        END LOOP;
        RETURN QUERY SELECT v.check_name, format('shard %s: %s', v.shard, v.subject), v.detail
                       FROM order_credit_proxy.verify_shards() v
                      ORDER BY v.shard, v.check_name, v.subject;
    END;$body$);
COMMENT ON FUNCTION order_credit.verify() IS
    'verify() of every shard (subject "shard N: ..."), and a shard_ids row for a shard whose ids are out of its range. No rows: every invariant holds on every shard.';

-- The counters summed over every shard, and the percentiles of the merged
-- histograms, estimated as each shard estimates its own (the bucket that
-- holds the call of rank q * calls, interpolated between its bounds, the
-- upper one capped by the slowest call): a percentile of the whole system,
-- which no combination of the shards' percentiles gives.
CREATE FUNCTION order_credit._stats_latency_buckets()
    RETURNS TABLE (operation text, outcome text, le double precision, calls bigint)
    LANGUAGE sql
AS $$
    WITH b AS (SELECT * FROM order_credit_proxy.stats_buckets_shards())
    SELECT b.operation, b.outcome, b.le, sum(b.calls)::bigint
      FROM b
     WHERE (b.server, b.shard) IN (SELECT f.server, min(f.shard) FROM b f GROUP BY f.server)
     GROUP BY b.operation, b.outcome, b.le
$$;
CREATE FUNCTION order_credit._stats_latency()
    RETURNS TABLE (operation text, outcome text, calls bigint, total_ms double precision,
                   max_ms double precision, lock_wait_ms double precision,
                   p50_ms double precision, p95_ms double precision, p99_ms double precision)
    LANGUAGE sql
AS $$
    WITH t AS (SELECT * FROM order_credit_proxy.stats_shards()),
    s AS (
        SELECT t.operation, t.outcome, sum(t.calls)::bigint AS calls, sum(t.total_ms) AS total_ms,
               max(t.max_ms) AS max_ms, sum(t.lock_wait_ms) AS lock_wait_ms
          FROM t
         WHERE (t.server, t.shard) IN (SELECT f.server, min(f.shard) FROM t f GROUP BY f.server)
         GROUP BY t.operation, t.outcome),
    b AS (
        SELECT m.operation, m.outcome, m.le, m.calls,
               lag(m.le, 1, 0::float8) OVER w AS lo, lag(m.calls, 1, 0::bigint) OVER w AS below,
               max(m.calls) OVER (PARTITION BY m.operation, m.outcome) AS total
          FROM order_credit._stats_latency_buckets() m
        WINDOW w AS (PARTITION BY m.operation, m.outcome ORDER BY m.le))
    SELECT s.operation, s.outcome, s.calls, s.total_ms, s.max_ms, s.lock_wait_ms,
           q.p[1], q.p[2], q.p[3]
      FROM s CROSS JOIN LATERAL (
        SELECT array_agg((
                   SELECT 1000 * (least(b.lo, b.le, s.max_ms / 1000)
                                  + (least(b.le, s.max_ms / 1000) - least(b.lo, b.le, s.max_ms / 1000))
                                    * (r.q * b.total - b.below) / (b.calls - b.below))
                     FROM b
                    WHERE (b.operation, b.outcome) = (s.operation, s.outcome)
                      AND b.calls > b.below AND b.calls >= r.q * b.total
                    ORDER BY b.le LIMIT 1) ORDER BY r.q) AS p
          FROM (VALUES (0.5::float8), (0.95), (0.99)) r(q)) q
$$;
CREATE VIEW order_credit.stats AS
    SELECT operation, outcome, calls, total_ms, max_ms, lock_wait_ms, p50_ms, p95_ms, p99_ms
      FROM order_credit._stats_latency();
COMMENT ON VIEW order_credit.stats IS
    'order_credit.stats summed over every shard, with the percentiles of the merged histograms; order_credit_proxy.stats_shards() has the counters per shard.';
CREATE VIEW order_credit.stats_latency_buckets AS
    SELECT operation, outcome, le, calls FROM order_credit._stats_latency_buckets();
COMMENT ON VIEW order_credit.stats_latency_buckets IS
    'order_credit.stats_latency_buckets summed over every shard.';

SELECT order_credit_proxy.define_guarded('purge', 'max_rows integer DEFAULT 10000', 'bigint',
    'RETURN (SELECT sum(n)::bigint FROM order_credit_proxy.purge_shards(max_rows) n);');
COMMENT ON FUNCTION order_credit.purge(integer) IS
    'purge(max_rows) on every shard at once; the sum of the rows they deleted.';

-- One account's or SKU's checks run on its tenant's shard.
SELECT order_credit_proxy.define_call('verify_account', 'account text',
    'TABLE (check_name text, subject text, detail text)', 'order_credit_proxy.route(account)');
SELECT order_credit_proxy.define_call('verify_sku', 'sku text',
    'TABLE (check_name text, subject text, detail text)', 'order_credit_proxy.route(sku)');

CREATE FUNCTION order_credit.stats_reset() RETURNS void
    LANGUAGE sql
AS $$
    SELECT count(*) FROM order_credit_proxy.stats_reset_shards();
$$;

-- ===================================================================
-- Privileges: nothing for PUBLIC but default_ttl(), as on a shard. The
-- proxy connects to the shards as the user mapping of the caller says,
-- and the shard's grants (grant_app, grant_admin) apply there.
-- ===================================================================

REVOKE ALL ON ALL TABLES IN SCHEMA order_credit, order_credit_proxy FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA order_credit, order_credit_proxy FROM PUBLIC;
GRANT EXECUTE ON FUNCTION order_credit.default_ttl() TO PUBLIC;

CREATE FUNCTION order_credit_proxy.grant_proxy(role regrole) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = '22004';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA order_credit, order_credit_proxy TO %s', role);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA order_credit, order_credit_proxy TO %s', role);
    EXECUTE format('GRANT SELECT ON order_credit.stats, order_credit.stats_latency_buckets, order_credit_proxy.tenants TO %s', role);
    EXECUTE format('GRANT USAGE ON FOREIGN SERVER order_credit_shards TO %s', role);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION order_credit_proxy.setup_shards(), order_credit_proxy.set_shard_ids(integer, bigint), order_credit_proxy.grant_proxy(regrole) FROM %s', role);
END
$$;
COMMENT ON FUNCTION order_credit_proxy.grant_proxy(regrole) IS
    'Lets a role call the functions of the proxy (the server order_credit_shards must exist). What it may do on the shards is what the shard role of its user mapping may do there (grant_app, grant_admin on each shard).';

DROP FUNCTION order_credit_proxy.define_call(text, text, text, text);
DROP FUNCTION order_credit_proxy.define_guarded(text, text, text, text);
