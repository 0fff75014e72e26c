-- The concurrent workload of test/ops/logical.sh, installed on the
-- publisher only, in its own schema `wl` (not published, not part of the
-- extension).
--
-- wl.step(tag) makes one random application step in one transaction, with
-- order_refs and keys prefixed by `tag`: 'd' for sessions on the direct
-- table-access path, 's' for sessions with order_credit.direct_access = off
-- (the step refuses to run on the other path). The expected refusals of a
-- busy shop (insufficient credit or stock, expired or unknown handles, lock
-- timeouts, a payment above a debt that another session just paid) end the
-- step early, as a rolled-back subtransaction; any other error fails the
-- pgbench client, and with it the scenario.
--
-- wl.setup() creates the accounts and items.
\set ON_ERROR_STOP 1
\set QUIET 1
CREATE SCHEMA wl;
CREATE SEQUENCE wl.n;

CREATE FUNCTION wl.setup() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_credit.create_account('acct-' || i, 100000, 'EUR') FROM generate_series(1, 30) i;
    -- For the path probes of test/ops/logical.sh only (no step uses them, so
    -- no lock wait sends a probe to the SQL path).
    PERFORM order_credit.create_account('probe-' || p, 1000) FROM unnest(ARRAY['d1', 'd2', 's1']) p;
    PERFORM order_credit.set_stock('sku-probe', 1000, 4);
    -- Two items of each bucket count: 1, 3, 4 and 8.
    PERFORM order_credit.set_stock('sku-' || b || '-' || v, 1000000, b)
       FROM unnest(ARRAY[1, 3, 4, 8]) b, unnest(ARRAY['a', 'b']) v;
END
$$;

-- A random SKU of the eight.
CREATE FUNCTION wl.sku() RETURNS text LANGUAGE sql AS $$
    SELECT 'sku-' || (ARRAY[1, 3, 4, 8])[1 + floor(random() * 4)::int]
                  || '-' || (ARRAY['a', 'b'])[1 + floor(random() * 2)::int]
$$;

CREATE FUNCTION wl.step(tag text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n bigint := nextval('wl.n');
    r int := floor(random() * 100)::int;
    x float8 := random();
    acct text := 'acct-' || (1 + floor(random() * 30)::int);
    ref text := tag || '-' || n;
    old text := tag || '-' || greatest(1, n - 1 - floor(random() * 40)::bigint);
    ttl interval := CASE WHEN random() < 0.3 THEN interval '300 milliseconds' ELSE interval '1 hour' END;
    s1 text := wl.sku();
    s2 text;
    tok bigint;
    posted numeric;
    k text;
    st text;
    op text;
BEGIN
    IF (tag = 's') <> (current_setting('order_credit.direct_access') = 'off') THEN
        RAISE EXCEPTION 'a "%" session runs with order_credit.direct_access = %', tag,
            current_setting('order_credit.direct_access');
    END IF;
    LOOP
        s2 := wl.sku();
        EXIT WHEN s2 <> s1;
    END LOOP;
    BEGIN
        CASE
        WHEN r < 15 THEN        -- a credit hold; captured (whole or part), reversed, voided or left
            op := 'hold';
            PERFORM order_credit.reserve_credit(acct, 1 + floor(random() * 50)::int, ref, ttl);
            IF x < 0.3 THEN PERFORM order_credit.capture_credit(ref);
            ELSIF x < 0.4 THEN PERFORM order_credit.capture_credit(ref, 0.5);
            ELSIF x < 0.5 THEN
                PERFORM order_credit.capture_credit(ref);
                PERFORM order_credit.release_credit(ref, 'returned');
            ELSIF x < 0.65 THEN PERFORM order_credit.release_credit(ref, 'changed mind');
            END IF;
            RETURN 'hold';
        WHEN r < 24 THEN        -- a follow-up on an earlier step of this path
            op := 'follow-up';
            IF x < 0.2 THEN PERFORM order_credit.capture_credit(old);
            ELSIF x < 0.35 THEN PERFORM order_credit.release_credit(old, 'refund');
            ELSIF x < 0.55 THEN PERFORM order_credit.confirm_order(old, 'pay-' || old);
            ELSIF x < 0.7 THEN PERFORM order_credit.cancel_order(old, 'customer');
            ELSIF x < 0.85 THEN PERFORM order_credit.commit_stock(old);
            ELSE PERFORM order_credit.release_stock(old, 'changed mind');
            END IF;
            RETURN 'follow-up';
        WHEN r < 28 THEN        -- a payment of (part of) the account's debt
            op := 'payment';
            SELECT a.posted INTO posted FROM order_credit.accounts a WHERE a.account = acct;
            IF posted > 0 THEN
                BEGIN
                    PERFORM order_credit.record_payment(acct, least(posted, 1 + floor(random() * 20)::int),
                                                        'pay-' || ref);
                EXCEPTION WHEN invalid_parameter_value THEN
                    RETURN 'payment above the debt (paid meanwhile)';
                END;
            END IF;
            RETURN 'payment';
        WHEN r < 40 THEN        -- one SKU reserved; committed, released or left
            op := 'reserve one';
            PERFORM order_credit.reserve_stock(s1, 1 + floor(random() * 3)::int, ref, ttl);
            IF x < 0.4 THEN PERFORM order_credit.commit_stock(ref);
            ELSIF x < 0.6 THEN PERFORM order_credit.release_stock(ref);
            END IF;
            RETURN 'reserve one';
        WHEN r < 48 THEN        -- two SKUs in one call (jsonb)
            op := 'reserve many';
            PERFORM order_credit.reserve_stock(
                jsonb_build_array(jsonb_build_object('sku', s1, 'quantity', 1 + floor(random() * 3)::int),
                                  jsonb_build_object('sku', s2, 'quantity', 1)), ref, ttl);
            IF x < 0.4 THEN PERFORM order_credit.commit_stock(ref);
            ELSIF x < 0.6 THEN PERFORM order_credit.release_stock(ref, 'timeout');
            END IF;
            RETURN 'reserve many';
        WHEN r < 64 THEN        -- an order (on credit or not); confirmed, shipped, cancelled or left
            op := 'order';
            PERFORM order_credit.place_order(ref,
                CASE WHEN random() < 0.5
                     THEN jsonb_build_array(jsonb_build_object('sku', s1, 'quantity', 1, 'unit_price', 12.5))
                     ELSE jsonb_build_array(jsonb_build_object('sku', s1, 'quantity', 2, 'unit_price', 3),
                                            jsonb_build_object('sku', s2, 'quantity', 1, 'unit_price', 7.25))
                END,
                CASE WHEN random() < 0.8 THEN acct END, ttl);
            IF x < 0.45 THEN
                PERFORM order_credit.confirm_order(ref, 'pay-' || ref);
                IF random() < 0.5 THEN PERFORM order_credit.set_order_status(ref, 'processing'); END IF;
            ELSIF x < 0.6 THEN PERFORM order_credit.cancel_order(ref, 'customer');
            END IF;
            RETURN 'order';
        WHEN r < 71 THEN        -- an idempotency key: new (completed or leased), or a replay
            op := 'idempotency';
            IF x < 0.3 THEN
                k := tag || '-key-' || floor(random() * 30)::int;
                SELECT b.state INTO st FROM order_credit.idempotency_begin(k, 'fp') b;
                IF st = 'new' THEN
                    PERFORM order_credit.idempotency_complete(k, '{"ok": true}', 201);
                END IF;
            ELSIF x < 0.5 THEN
                PERFORM order_credit.idempotency_begin('key-' || ref, 'fp', '200 milliseconds');
                PERFORM order_credit.idempotency_checkpoint('key-' || ref, 'charged');
            ELSE
                PERFORM order_credit.idempotency_begin('key-' || ref, 'fp');
                PERFORM order_credit.idempotency_complete('key-' || ref, jsonb_build_object('order', ref));
            END IF;
            RETURN 'idempotency';
        WHEN r < 77 THEN        -- an event, often a duplicate
            op := 'event';
            PERFORM order_credit.process_once('psp-' || tag, 'evt-' || floor(random() * 400)::int);
            RETURN 'event';
        WHEN r < 83 THEN        -- a short lease, sometimes given back
            op := 'lease';
            tok := order_credit.acquire_lease('lease-' || floor(random() * 8)::int, ref, '200 milliseconds');
            IF tok IS NOT NULL AND x < 0.5 THEN
                PERFORM order_credit.release_lease('lease-' || floor(random() * 8)::int, ref, tok);
            END IF;
            RETURN 'lease';
        WHEN r < 87 THEN
            op := 'expire_due';
            PERFORM order_credit.expire_due(50);
            RETURN 'expire_due';
        WHEN r < 88 THEN        -- restock (bucket count kept, so a striped item stays striped)
            op := 'set_stock';
            PERFORM order_credit.set_stock(s1, 1000000 + n,
                                           (SELECT i.buckets FROM order_credit.items i WHERE i.sku = s1));
            RETURN 'set_stock';
        WHEN r < 93 THEN
            op := 'adjust_stock';
            PERFORM order_credit.adjust_stock(s1, 5, 'receipt ' || ref);
            RETURN 'adjust_stock';
        WHEN r < 95 THEN
            op := 'create_account';
            PERFORM order_credit.create_account('acct-' || ref, 500);
            RETURN 'create_account';
        WHEN r < 97 THEN
            op := 'set_credit_limit';
            PERFORM order_credit.set_credit_limit(acct, 100000 + floor(random() * 1000)::int);
            RETURN 'set_credit_limit';
        ELSE                    -- blocked and unblocked in one transaction
            op := 'block';
            PERFORM order_credit.block_account(acct, 'review');
            PERFORM order_credit.unblock_account(acct);
            RETURN 'block';
        END CASE;
    EXCEPTION
        WHEN SQLSTATE 'OC001' OR SQLSTATE 'OC002' OR SQLSTATE 'OC004' OR SQLSTATE 'OC006'
          OR SQLSTATE 'OC007' OR SQLSTATE 'OC008' OR SQLSTATE 'OC009' OR SQLSTATE 'OC010' OR SQLSTATE 'OC011'
          OR lock_not_available OR deadlock_detected THEN
            RETURN op || ' refused: ' || SQLSTATE;
    END;
END
$$;
