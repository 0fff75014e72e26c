-- Helpers of test/differential/paths.sh, installed into each test database
-- (schema oc_diff, not part of the extension).
--
--   oc_diff.gen(seed, n)  the call sequence: setup calls, then n random calls
--                         over a small key space so that calls collide
--   oc_diff.m(jsonb)      a result row as text, time-dependent values masked
--   oc_diff.dump()        every user table of the extension (pg_extension.extconfig)
--                         and its sequences, rows sorted, timestamps masked
--
-- Every write path of the extension must be reachable from gen(): a new
-- function, a new argument form or a new branch (buckets, expiry, replay)
-- is covered by adding it here. Not generated: grant_app, grant_admin and
-- revoke_access (roles and privileges, no user table), stats_reset (shared
-- memory), default_ttl (a setting).
CREATE SCHEMA oc_diff;

-- Deterministic PRNG (31-bit LCG, high bits used), state in a custom GUC so
-- that the helpers below can share it. Same seed, same sequence, on any
-- PostgreSQL version.
CREATE FUNCTION oc_diff.rnd(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE s bigint := current_setting('oc_diff.rng')::bigint;
BEGIN
    s := (s * 1103515245 + 12345) % 2147483648;
    PERFORM set_config('oc_diff.rng', s::text, false);
    RETURN ((s >> 8) % n)::int;
END $$;

-- One element of a (SQL text; a NULL element is the literal NULL).
CREATE FUNCTION oc_diff.pick(a text[]) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(a[1 + oc_diff.rnd(cardinality(a))], 'NULL') $$;

-- true with probability pct %
CREATE FUNCTION oc_diff.chance(pct int) RETURNS boolean LANGUAGE sql AS $$
    SELECT oc_diff.rnd(100) < pct $$;

CREATE FUNCTION oc_diff.q(t text) RETURNS text LANGUAGE sql AS $$
    SELECT quote_nullable(t) $$;

-- Handles (order_ref, payment_ref): a window of n from the pool that moves
-- on as the sequence goes (oc_diff.base, set by gen()), so that new handles
-- keep coming and recent ones get follow-up calls. Sometimes another pool's,
-- unknown or invalid.
CREATE FUNCTION oc_diff.ref(prefix text, n int) RETURNS text LANGUAGE sql AS $$
    SELECT CASE
        WHEN oc_diff.chance(6) THEN quote_literal(oc_diff.pick('{c,r,o}')
                                    || (current_setting('oc_diff.base')::int + oc_diff.rnd(n)))
        WHEN oc_diff.chance(2) THEN oc_diff.pick('{'''',NULL,''zz'',''x-unknown''}')
        ELSE quote_literal(prefix || (current_setting('oc_diff.base')::int + oc_diff.rnd(n))) END $$;

-- Arguments that follow from a handle: after fork(handle) the PRNG is seeded
-- from it until join(), so that most calls for one handle repeat the same
-- arguments (replays) and a few differ (OC009).
CREATE FUNCTION oc_diff.fork(handle text) RETURNS void LANGUAGE sql AS $$
    SELECT set_config('oc_diff.saved', current_setting('oc_diff.rng'), false),
           set_config('oc_diff.rng', ('x' || substr(md5(handle), 1, 7))::bit(28)::int::text, false) $$;

CREATE FUNCTION oc_diff.join() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('oc_diff.saved') <> '' THEN
        PERFORM set_config('oc_diff.rng', current_setting('oc_diff.saved'), false),
                set_config('oc_diff.saved', '', false);
    END IF;
END $$;

-- A follow-up's handle: mostly one of the last 5 handles of the creating
-- calls (a), otherwise any from the window.
CREATE FUNCTION oc_diff.recent(a text[], prefix text, n int) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN cardinality(a) > 0 AND oc_diff.chance(80)
                THEN a[cardinality(a) - oc_diff.rnd(least(5, cardinality(a)))]
                ELSE oc_diff.ref(prefix, n) END $$;

CREATE FUNCTION oc_diff.account() RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN oc_diff.chance(4) THEN oc_diff.pick('{''ax'',NULL,''''}')
                ELSE quote_literal('a' || (1 + oc_diff.rnd(4))) END $$;

CREATE FUNCTION oc_diff.sku() RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN oc_diff.chance(4) THEN oc_diff.pick('{''sx'',NULL}')
                ELSE quote_literal(oc_diff.pick('{s1,s4,s8,sr}')) END $$;

CREATE FUNCTION oc_diff.amount() RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN oc_diff.chance(5)
                THEN oc_diff.pick('{0,-1,0.00001,''NaN'',NULL,''Infinity''}')
                ELSE oc_diff.pick('{1,2.5,10,10,33.3333,60,100,250,1000}') END $$;

CREATE FUNCTION oc_diff.qty() RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN oc_diff.chance(4) THEN oc_diff.pick('{0,-1,NULL}')
                WHEN oc_diff.chance(8) THEN oc_diff.pick('{30,200}')
                ELSE (1 + oc_diff.rnd(5))::text END $$;

-- An expiry: omitted (the default TTL), NULL (never), far in the future, or
-- 1 ms (the caller then sleeps, so it has passed for every later call), or
-- invalid. Returns ('' | ', <interval>', short?).
CREATE FUNCTION oc_diff.expiry(OUT arg text, OUT short boolean) LANGUAGE plpgsql AS $$
DECLARE r int := oc_diff.rnd(100);
BEGIN
    short := false;
    IF r < 25 THEN arg := '';
    ELSIF r < 45 THEN arg := ', NULL';
    ELSIF r < 87 THEN arg := ', ''1 day''';
    ELSIF r < 96 THEN arg := ', ''1 ms'''; short := true;
    ELSE arg := ', ' || oc_diff.pick('{''0 s'',''-1 min''}');
    END IF;
END $$;

CREATE FUNCTION oc_diff.items(with_price boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    skus text[] := '{s1,s4,s8,sr}';
    n int := 1 + oc_diff.rnd(3);
    k int;
    out text[] := '{}';
    sku text;
    el text;
BEGIN
    IF oc_diff.chance(5) THEN  -- malformed
        RETURN quote_literal(oc_diff.pick(ARRAY[
            '[]', '{}', '[{"sku": "s1"}]', '[{"sku": "s1", "quantity": 0, "unit_price": 1}]',
            '[{"sku": "s1", "quantity": 1, "unit_price": 1, "extra": 1}]',
            '[{"sku": "s1", "quantity": 1, "unit_price": 1}, {"sku": "s1", "quantity": 2, "unit_price": 1}]',
            '[{"sku": "s4", "quantity": 1.5, "unit_price": 1}]',
            '[{"sku": "s4", "quantity": 1, "unit_price": -1}]']));
    END IF;
    FOR k IN 1..n LOOP
        sku := CASE WHEN oc_diff.chance(3) THEN 'sx' ELSE skus[1 + oc_diff.rnd(4)] END;
        CONTINUE WHEN array_to_string(out, ' ') LIKE '%"' || sku || '"%';
        el := format('{"sku": "%s", "quantity": %s', sku,
                     CASE WHEN oc_diff.chance(8) THEN '25' ELSE (1 + oc_diff.rnd(4))::text END);
        IF with_price THEN
            el := el || ', "unit_price": ' || oc_diff.pick('{0,1,2.5,10,10}');
        END IF;
        out := out || (el || '}');
    END LOOP;
    RETURN quote_literal('[' || array_to_string(out, ', ') || ']');
END $$;

CREATE FUNCTION oc_diff.gen(seed bigint, n int)
RETURNS TABLE(i int, op text, stmt text) LANGUAGE plpgsql AS $$
DECLARE
    hist text[] := '{}';   -- earlier calls, for verbatim replays
    hop text[] := '{}';
    f text;
    a text;
    e record;
    r int;
    short boolean;
    h text;
    made_c text[] := '{}';  -- handles of the creating calls, for follow-ups
    made_r text[] := '{}';
    made_o text[] := '{}';
    todo text[] := '{}';    -- queued follow-ups: an order's way to delivered
    draws int := 0;         -- lease calls so far: fencing tokens are about that high
BEGIN
    PERFORM set_config('oc_diff.rng', (abs(seed) % 2147483648)::text, false);
    PERFORM set_config('oc_diff.saved', '', false);
    i := 0;
    -- Setup: accounts and items with 1, 4 and 8 buckets (sr is re-striped).
    FOREACH stmt IN ARRAY ARRAY[
        'create_account|''a1'', 500',
        'create_account|''a2'', 1000, ''EUR''',
        'create_account|''a3'', 100',
        'create_account|''a4'', 0, ''USD''',
        'set_stock|''s1'', 20',
        'set_stock|''s4'', 40, 4',
        'set_stock|''s8'', 80, 8',
        'set_stock|''sr'', 30, 2'] LOOP
        i := i + 1;
        op := split_part(stmt, '|', 1);
        stmt := format('SELECT oc_diff.m(to_jsonb(r)) FROM order_credit.%s(%s) r;', op, split_part(stmt, '|', 2));
        RETURN NEXT;
    END LOOP;

    WHILE i < n + 8 LOOP
        short := false;
        PERFORM set_config('oc_diff.base', (1 + i / 30)::text, false);
        IF cardinality(todo) > 0 AND oc_diff.chance(30) THEN
            i := i + 1;
            op := 'set_order_status';
            stmt := todo[1];
            todo := todo[2:];
            hist := hist || stmt;
            hop := hop || op;
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF cardinality(hist) > 0 AND oc_diff.chance(12) THEN
            -- the same call again (replay)
            r := 1 + oc_diff.rnd(least(cardinality(hist), 60));
            i := i + 1;
            op := hop[cardinality(hop) - r + 1];
            stmt := hist[cardinality(hist) - r + 1];
            RETURN NEXT;
            CONTINUE;
        END IF;
        r := oc_diff.rnd(1000);
        -- credit lines ------------------------------------------------------
        IF r < 20 THEN
            f := 'create_account';
            a := format('%s, %s%s', oc_diff.account(),
                        oc_diff.pick('{0,100,500,1000,2000,-5}'),
                        oc_diff.pick('{"",", ''EUR''",", ''USD''",", NULL"}'));
        ELSIF r < 40 THEN
            f := 'set_credit_limit';
            a := format('%s, %s', oc_diff.account(), oc_diff.pick('{0,50,300,500,1000,3000,-1,NULL}'));
        ELSIF r < 50 THEN
            f := 'block_account';
            a := format('%s, %s', oc_diff.account(), oc_diff.pick('{''fraud'',''late'',NULL}'));
        ELSIF r < 70 THEN
            f := 'unblock_account'; a := oc_diff.account();
        ELSIF r < 80 THEN
            f := 'credit_status'; a := oc_diff.account();
        ELSIF r < 150 THEN
            f := 'reserve_credit';
            h := oc_diff.ref('c', 8);
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h); END IF;
            SELECT * INTO e FROM oc_diff.expiry();
            short := e.short;
            a := format('%s, %s, %s%s', oc_diff.account(), oc_diff.amount(), h, e.arg);
            PERFORM oc_diff.join();
            made_c := made_c || h;
        ELSIF r < 180 THEN
            f := 'try_reserve_credit';
            h := oc_diff.ref('c', 8);
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h); END IF;
            SELECT * INTO e FROM oc_diff.expiry();
            short := e.short;
            a := format('%s, %s, %s%s', oc_diff.account(), oc_diff.amount(), h, e.arg);
            PERFORM oc_diff.join();
            made_c := made_c || h;
        ELSIF r < 225 THEN
            f := 'capture_credit';
            a := oc_diff.recent(made_c, 'c', 8) || oc_diff.pick('{"",", NULL",", 1",", 2.5",", 10",", 1000",", 0",", -2"}');
        ELSIF r < 260 THEN
            f := 'release_credit';
            a := oc_diff.recent(made_c, 'c', 8) || oc_diff.pick('{"",", ''changed mind''",", NULL"}');
        ELSIF r < 290 THEN
            f := 'record_payment';
            h := CASE WHEN oc_diff.chance(3) THEN 'NULL' ELSE oc_diff.ref('p', 8) END;
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h); END IF;
            a := format('%s, %s, %s', oc_diff.account(), oc_diff.pick('{1,2.5,5,10,10,33.3333,0,-1,NULL}'), h);
            PERFORM oc_diff.join();
        -- stock ---------------------------------------------------------------
        ELSIF r < 310 THEN
            f := 'set_stock';
            a := oc_diff.sku();
            a := a || ', ' || oc_diff.pick('{0,10,40,100,200,200,-1}')
                   || CASE a WHEN '''s4''' THEN ', 4' WHEN '''s8''' THEN ', 8'
                             WHEN '''sr''' THEN ', ' || oc_diff.pick('{1,2,4,8,8}')
                             ELSE oc_diff.pick('{"",", 1",", 0"}') END;
        ELSIF r < 345 THEN
            f := 'adjust_stock';
            a := format('%s, %s, %s', oc_diff.sku(), oc_diff.pick('{-100,-3,-1,0,2,5,20,50,50,NULL}'),
                        oc_diff.pick('{''receipt'',''shrinkage'',NULL}'));
        ELSIF r < 355 THEN
            f := 'stock_status'; a := oc_diff.sku();
        ELSIF r < 425 THEN
            f := 'reserve_stock';
            h := oc_diff.ref('r', 8);
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h); END IF;
            SELECT * INTO e FROM oc_diff.expiry();
            short := e.short;
            a := format('%s, %s::bigint, %s%s', oc_diff.sku(), oc_diff.qty(), h, e.arg);
            PERFORM oc_diff.join();
            made_r := made_r || h;
        ELSIF r < 475 THEN
            f := 'reserve_stock';   -- several items, all or nothing
            h := oc_diff.ref('r', 8);
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h || '*'); END IF;
            SELECT * INTO e FROM oc_diff.expiry();
            short := e.short;
            a := format('%s::jsonb, %s%s', oc_diff.items(false), h, e.arg);
            PERFORM oc_diff.join();
            made_r := made_r || h;
        ELSIF r < 500 THEN
            f := 'try_reserve_stock';
            h := oc_diff.ref('r', 8);
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h); END IF;
            SELECT * INTO e FROM oc_diff.expiry();
            short := e.short;
            a := format('%s, %s, %s%s', oc_diff.sku(), oc_diff.qty(), h, e.arg);
            PERFORM oc_diff.join();
            made_r := made_r || h;
        ELSIF r < 540 THEN
            f := 'commit_stock'; a := oc_diff.recent(made_r, 'r', 8);
        ELSIF r < 575 THEN
            f := 'release_stock';
            a := oc_diff.recent(made_r, 'r', 8) || oc_diff.pick('{"",", ''cart abandoned''"}');
        -- orders ----------------------------------------------------------------
        ELSIF r < 665 THEN
            f := 'place_order';
            h := oc_diff.ref('o', 6);
            IF oc_diff.chance(85) THEN PERFORM oc_diff.fork(h); END IF;
            SELECT * INTO e FROM oc_diff.expiry();
            short := e.short;
            a := format('%s, %s', h, oc_diff.items(true));
            IF e.arg <> '' OR oc_diff.chance(80) THEN
                a := a || ', ' || CASE WHEN oc_diff.chance(15) THEN 'NULL' ELSE oc_diff.account() END;
            END IF;
            a := a || e.arg;
            PERFORM oc_diff.join();
            made_o := made_o || h;
        ELSIF r < 725 THEN
            f := 'confirm_order';
            h := oc_diff.recent(made_o, 'o', 6);
            IF oc_diff.chance(60) THEN
                todo := todo || ARRAY(SELECT format('SELECT oc_diff.m(to_jsonb(r)) FROM order_credit.set_order_status(%s, %L) r;', h, st)
                                        FROM unnest('{processing,shipped,delivered}'::text[]) st);
            END IF;
            a := h || oc_diff.pick('{"",", NULL",", ''pay-1''",", ''pay-2''"}');
        ELSIF r < 785 THEN
            f := 'set_order_status';
            a := format('%s, %s', oc_diff.recent(made_o, 'o', 6), quote_literal(oc_diff.pick(
                        '{processing,processing,processing,shipped,shipped,shipped,delivered,delivered,paid,pending,cancelled,bogus}')));
        ELSIF r < 815 THEN
            f := 'cancel_order';
            a := oc_diff.recent(made_o, 'o', 6) || oc_diff.pick('{"",", ''customer''"}');
        ELSIF r < 825 THEN
            f := 'order_status'; a := oc_diff.recent(made_o, 'o', 6);
        -- coordination ------------------------------------------------------------
        ELSIF r < 855 THEN
            f := 'idempotency_begin';
            a := format('%s, %s', quote_literal('k' || (1 + oc_diff.rnd(10))), oc_diff.pick('{''f1'',''f1'',''f2'',NULL,''''}'));
            CASE oc_diff.rnd(6)
                WHEN 0 THEN a := a || ', NULL, true';
                WHEN 1 THEN a := a || ', ''1 hour''';
                WHEN 2 THEN a := a || ', ''1 ms'''; short := true;
                WHEN 3 THEN a := a || ', ''-1 s''';
                ELSE NULL;
            END CASE;
        ELSIF r < 865 THEN
            f := 'idempotency_checkpoint';
            a := format('%s, %s', quote_literal('k' || (1 + oc_diff.rnd(10))), oc_diff.pick('{''step1'',''step2'',NULL}'));
        ELSIF r < 885 THEN
            f := 'idempotency_complete';
            a := format('%s, %s%s', quote_literal('k' || (1 + oc_diff.rnd(10))),
                        oc_diff.pick(ARRAY['''{"id": 1}''', '''{"id": 1}''', '''{"id": 2, "x": [1, 2]}''', 'NULL']),
                        oc_diff.pick('{"",", 201",", 99"}'));
        ELSIF r < 905 THEN
            f := 'acquire_lease';
            draws := draws + 1;
            a := format('%s, %s', quote_literal('l' || (1 + oc_diff.rnd(4))), oc_diff.pick('{''w1'',''w2'',NULL}'));
            IF oc_diff.chance(25) THEN a := a || ', ''1 ms'''; short := true;
            ELSE a := a || ', ' || oc_diff.pick('{''1 hour'',''1 hour'',''0 s'',NULL}');
            END IF;
        ELSIF r < 915 THEN
            f := 'renew_lease';
            a := format('%s, %s, %s, ''1 hour''', quote_literal('l' || (1 + oc_diff.rnd(4))),
                        oc_diff.pick('{''w1'',''w2''}'), CASE WHEN oc_diff.chance(5) THEN 0
                             ELSE greatest(1, draws - oc_diff.rnd(3)) END);
        ELSIF r < 925 THEN
            f := 'release_lease';
            a := format('%s, %s, %s', quote_literal('l' || (1 + oc_diff.rnd(4))),
                        oc_diff.pick('{''w1'',''w2''}'), greatest(1, draws - oc_diff.rnd(3)));
        ELSIF r < 930 THEN
            f := 'break_lease';
            draws := draws + 1;
            a := quote_literal('l' || (1 + oc_diff.rnd(5)));
        ELSIF r < 935 THEN
            f := 'check_fence';
            a := format('%s, %s', quote_literal('l' || (1 + oc_diff.rnd(5))),
                        CASE WHEN oc_diff.chance(5) THEN -1 ELSE greatest(1, draws - oc_diff.rnd(3)) END);
        ELSIF r < 960 THEN
            f := 'process_once';
            a := format('%s, %s', oc_diff.pick('{''src1'',''src2'',NULL}'), quote_literal('e' || (1 + oc_diff.rnd(30))));
        ELSIF r < 970 THEN
            f := oc_diff.pick('{lock,try_lock}');
            a := quote_literal('n' || (1 + oc_diff.rnd(3)))
                 || CASE WHEN f = 'lock' THEN oc_diff.pick('{"",", NULL",", ''1 s''",", ''0 s''"}') ELSE '' END;
        -- operations ----------------------------------------------------------------
        ELSIF r < 995 THEN
            f := 'expire_due'; a := oc_diff.pick('{"",1000,2,0}');
        ELSE
            f := 'verify'; a := '';
        END IF;
        i := i + 1;
        op := f;
        stmt := format('SELECT oc_diff.m(to_jsonb(r)) FROM order_credit.%s(%s) r;', f, a);
        hist := hist || stmt;
        hop := hop || op;
        RETURN NEXT;
        IF short THEN
            -- the 1 ms expiry has passed for every later call
            i := i + 1;
            op := 'pg_sleep';
            stmt := 'SELECT pg_sleep(0.003);';
            RETURN NEXT;
        END IF;
    END LOOP;
END $$;

-- A result as text: timestamps (every *_at key, next_expiry) and retry_after
-- replaced by "<t>" unless NULL, so that runs at other times compare equal.
CREATE FUNCTION oc_diff.m(j jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN jsonb_typeof(j) = 'object' THEN
        (SELECT jsonb_object_agg(k, CASE WHEN (k LIKE '%\_at' OR k IN ('next_expiry', 'retry_after'))
                                          AND v <> 'null' THEN '"<t>"'::jsonb ELSE v END)
           FROM jsonb_each(j) AS x(k, v))::text
    ELSE j::text END $$;

-- Every table and sequence the extension dumps as user data, in extconfig
-- order: table rows sorted (masked), sequences as last_value/is_called.
CREATE FUNCTION oc_diff.dump() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE rel regclass;
BEGIN
    FOR rel IN SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'order_credit' LOOP
        RETURN NEXT '== ' || rel::text;
        IF (SELECT relkind FROM pg_class WHERE oid = rel) = 'S' THEN
            RETURN QUERY EXECUTE format('SELECT last_value || '' '' || is_called FROM %s', rel);
        ELSIF rel = 'order_credit.stock_buckets'::regclass THEN
            -- Which bucket serves a reservation depends on the backend's
            -- process ID (direct.cpp, next_spread()): by design, so not
            -- compared. Per SKU: the number of buckets and their sums.
            RETURN QUERY SELECT jsonb_build_object('sku', sku, 'buckets', count(*), 'on_hand', sum(on_hand),
                                                   'reserved', sum(reserved))::text
                           FROM order_credit.stock_buckets GROUP BY sku ORDER BY 1;
        ELSIF rel IN ('order_credit.reservations'::regclass, 'order_credit.reservation_claims'::regclass) THEN
            -- The same for a reservation's parts (NULL: all in bucket 0):
            -- only their sum is compared.
            RETURN QUERY EXECUTE format(
                'SELECT oc_diff.m(to_jsonb(t) || jsonb_build_object(''part_buckets'', ''<spread>'',
                     ''part_qty'', coalesce((SELECT sum(q) FROM unnest(part_qty) q), quantity)))
                   FROM %s t ORDER BY 1', rel);
        ELSE
            RETURN QUERY EXECUTE format('SELECT oc_diff.m(to_jsonb(t)) FROM %s t ORDER BY 1', rel);
        END IF;
    END LOOP;
    RETURN NEXT '== verify()';
    RETURN QUERY SELECT concat_ws(' | ', check_name, subject, detail) FROM order_credit.verify() ORDER BY 1;
END $$;
