#!/usr/bin/env bash
# The contract through the proxy. For a tenant T on shard 2:
#   - every function of order_credit.function_access (read from a shard's
#     catalog) exists on the proxy with the same name, arguments, defaults
#     and result columns, and so do the result types and the stats view;
#   - one script of calls (a hand-written run of every operation, then calls
#     generated from the catalog for every function: all arguments NULL, and
#     keys nobody created) gives the same rows, SQLSTATEs, messages, DETAILs
#     and HINTs through the proxy as on a database with order_credit and
#     shard 2's id range, called directly; timestamps aside;
#   - lock() and try_lock() are refused (0A000), verify() is empty.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/shard/lib/shards.sh

OC_TMP=$(mktemp -d /tmp/oc_shard_contract.XXXXXX)
trap oc_cleanup EXIT
SYS=oc_shc
PROXY=${SYS}_proxy DIRECT=${SYS}_direct

sh_system $SYS || oc_die "cannot set up the sharded system"
oc_fresh_db $DIRECT >/dev/null || oc_die "cannot create $DIRECT"
oc_value $DIRECT "SELECT count(pg_catalog.setval(format('order_credit.%I', sequencename)::regclass, 2::bigint << 48))
                    FROM pg_catalog.pg_sequences WHERE schemaname = 'order_credit'" >/dev/null ||
    oc_die "cannot move $DIRECT's ids to shard 2's range"
T=$(sh_tenants $PROXY 2 1)
[ -n "$T" ] || oc_die "no tenant routed to shard 2"
oc_log "tenant $T routes to shard 2"

# --- The catalog: signatures, defaults, results, types, the stats view.
catalog() { # DB SIGNATURES-SQL
    oc_value "$1" "SELECT sig || ' | ' || coalesce(pg_get_function_arguments(to_regprocedure(sig)), 'MISSING')
                          || ' | ' || coalesce(pg_get_function_result(to_regprocedure(sig)), 'MISSING')
                     FROM ($2) s(sig) ORDER BY 1"
    oc_value "$1" "SELECT t.typname || '(' || string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                          ORDER BY a.attnum) || ')'
                     FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind IN ('c', 'v')
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                    WHERE t.typnamespace = 'order_credit'::regnamespace
                      AND t.typname IN ('account_status', 'credit_hold', 'stock_status', 'stock_reservation',
                                        'order_status', 'stats')
                    GROUP BY t.typname ORDER BY 1"
}
sigs=$(oc_value $DIRECT "SELECT string_agg(quote_literal(function::text), ', ' ORDER BY function::text)
                           FROM order_credit.function_access")
nfun=$(oc_value $DIRECT "SELECT count(*) FROM order_credit.function_access")
catalog $DIRECT "SELECT unnest(ARRAY[$sigs])" >"$OC_TMP/catalog_direct.txt"
catalog $PROXY "SELECT unnest(ARRAY[$sigs])" >"$OC_TMP/catalog_proxy.txt"
oc_check "functions of the contract on a shard" "$nfun" "$(grep -c ' | ' "$OC_TMP/catalog_direct.txt")"
oc_check "the same $nfun functions (arguments, defaults, results) and 6 result types on the proxy" "" \
    "$(diff "$OC_TMP/catalog_direct.txt" "$OC_TMP/catalog_proxy.txt")"

# --- The calls. psql variables: T (tenant).
cat >"$OC_TMP/calls.sql" <<'SQL'
\set VERBOSITY verbose
\set SHOW_CONTEXT never
SELECT * FROM order_credit.create_account(:'T' || ':a1', 1000);
SELECT * FROM order_credit.create_account(:'T' || ':a1', 1000);
SELECT * FROM order_credit.create_account(:'T' || ':a1', 2000);
SELECT * FROM order_credit.create_account(:'T' || ':a2', 50, 'EUR');
SELECT * FROM order_credit.set_credit_limit(:'T' || ':a1', 1500);
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 100, :'T' || ':o1', '1 hour');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 100, :'T' || ':o1', '1 hour');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 101, :'T' || ':o1', '1 hour');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 5000, :'T' || ':o2');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', -1, :'T' || ':o2');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 1.00001, :'T' || ':o2');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 1, :'T' || ':o2', '-1 hour');
SELECT * FROM order_credit.try_reserve_credit(:'T' || ':a1', 5000, :'T' || ':o2');
SELECT * FROM order_credit.try_reserve_credit(:'T' || ':a1', 10, :'T' || ':o3', '1 hour');
SELECT * FROM order_credit.try_reserve_credit(:'T' || ':a1', 10, :'T' || ':o4', NULL);
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 5, :'T' || ':o6', '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT * FROM order_credit.capture_credit(:'T' || ':o6');
SELECT * FROM order_credit.capture_credit(:'T' || ':o1', 60);
SELECT * FROM order_credit.capture_credit(:'T' || ':o1');
SELECT * FROM order_credit.release_credit(:'T' || ':o3', 'not needed');
SELECT * FROM order_credit.capture_credit(:'T' || ':o3');
SELECT * FROM order_credit.release_credit(:'T' || ':o1');
SELECT * FROM order_credit.record_payment(:'T' || ':a1', 30, 'pay-1');
SELECT * FROM order_credit.record_payment(:'T' || ':a1', 30, 'pay-1');
SELECT * FROM order_credit.record_payment(:'T' || ':a1', 31, 'pay-1');
SELECT * FROM order_credit.block_account(:'T' || ':a1', 'audit');
SELECT * FROM order_credit.reserve_credit(:'T' || ':a1', 1, :'T' || ':o5');
SELECT * FROM order_credit.try_reserve_credit(:'T' || ':a1', 1, :'T' || ':o5');
SELECT * FROM order_credit.unblock_account(:'T' || ':a1');
SELECT * FROM order_credit.credit_status(:'T' || ':a1');
SELECT * FROM order_credit.set_stock(:'T' || ':s1', 10);
SELECT * FROM order_credit.set_stock(:'T' || ':s2', 8, 4);
SELECT * FROM order_credit.set_stock(:'T' || ':s3', -1);
SELECT * FROM order_credit.adjust_stock(:'T' || ':s1', 5, 'receipt');
SELECT * FROM order_credit.adjust_stock(:'T' || ':s1', -100, 'loss');
SELECT * FROM order_credit.reserve_stock(:'T' || ':s1', 3, :'T' || ':r1', '1 hour');
SELECT * FROM order_credit.reserve_stock(:'T' || ':s1', 3, :'T' || ':r1', '1 hour');
SELECT * FROM order_credit.reserve_stock(:'T' || ':s1', 100, :'T' || ':r2');
SELECT * FROM order_credit.try_reserve_stock(:'T' || ':s1', 100, :'T' || ':r3');
SELECT * FROM order_credit.try_reserve_stock(:'T' || ':s2', 2, :'T' || ':r3', '1 hour');
SELECT * FROM order_credit.reserve_stock(('[{"sku": "' || :'T' || ':s1", "quantity": 1}, {"sku": "' || :'T' || ':s2", "quantity": 2}]')::jsonb, :'T' || ':r4', '1 hour');
SELECT * FROM order_credit.reserve_stock(('[{"sku": "' || :'T' || ':s1", "quantity": 1000}]')::jsonb, :'T' || ':r5');
SELECT * FROM order_credit.reserve_stock('{"sku": 1}'::jsonb, :'T' || ':r5');
SELECT * FROM order_credit.commit_stock(:'T' || ':r1');
SELECT * FROM order_credit.commit_stock(:'T' || ':r1');
SELECT * FROM order_credit.release_stock(:'T' || ':r4', 'changed');
SELECT * FROM order_credit.release_stock(:'T' || ':r3');
SELECT * FROM order_credit.stock_status(:'T' || ':s1');
SELECT * FROM order_credit.stock_status(:'T' || ':s2');
SELECT * FROM order_credit.place_order(:'T' || ':p1', ('[{"sku": "' || :'T' || ':s1", "quantity": 2, "unit_price": 10}]')::jsonb, :'T' || ':a1', '1 hour');
SELECT * FROM order_credit.place_order(:'T' || ':p2', ('[{"sku": "' || :'T' || ':s1", "quantity": 1000, "unit_price": 1}]')::jsonb);
SELECT * FROM order_credit.place_order(:'T' || ':p2', ('[{"sku": "' || :'T' || ':s2", "quantity": 1, "unit_price": 100000}]')::jsonb, :'T' || ':a1');
SELECT * FROM order_credit.place_order(:'T' || ':p3', ('[{"sku": "' || :'T' || ':s2", "quantity": 1, "unit_price": 5}]')::jsonb, :'T' || ':a2', '1 hour');
SELECT * FROM order_credit.confirm_order(:'T' || ':p1', 'pay-p1');
SELECT * FROM order_credit.set_order_status(:'T' || ':p1', 'processing');
SELECT * FROM order_credit.set_order_status(:'T' || ':p1', 'delivered');
SELECT * FROM order_credit.set_order_status(:'T' || ':p3', 'shipped');
SELECT * FROM order_credit.cancel_order(:'T' || ':p1', 'changed mind');
SELECT * FROM order_credit.order_status(:'T' || ':p1');
SELECT * FROM order_credit.cancel_order(:'T' || ':p3');
SELECT * FROM order_credit.order_status(:'T' || ':p3');
SELECT * FROM order_credit.order_status(:'T' || ':p9');
SELECT * FROM order_credit.idempotency_begin(:'T' || ':k1', 'fp');
SELECT * FROM order_credit.idempotency_begin(:'T' || ':k1', 'fp');
SELECT * FROM order_credit.idempotency_checkpoint(:'T' || ':k1', 'step-1');
SELECT * FROM order_credit.idempotency_complete(:'T' || ':k1', '{"ok": true}', 201);
SELECT * FROM order_credit.idempotency_begin(:'T' || ':k1', 'fp');
SELECT * FROM order_credit.idempotency_begin(:'T' || ':k1', 'other');
SELECT * FROM order_credit.idempotency_begin(:'T' || ':k2', 'fp', '-1 minute');
SELECT order_credit.acquire_lease(:'T' || ':l1', 'me', '1 minute') AS tok \gset
SELECT :tok AS token;
SELECT * FROM order_credit.acquire_lease(:'T' || ':l1', 'you', '1 minute');
SELECT * FROM order_credit.renew_lease(:'T' || ':l1', 'me', :tok, '2 minutes');
SELECT * FROM order_credit.renew_lease(:'T' || ':l1', 'you', :tok, '2 minutes');
SELECT * FROM order_credit.check_fence(:'T' || ':l1', :tok);
SELECT * FROM order_credit.check_fence(:'T' || ':l1', :tok - 1);
SELECT * FROM order_credit.release_lease(:'T' || ':l1', 'me', :tok);
SELECT * FROM order_credit.acquire_lease(:'T' || ':l1', 'you', '1 minute');
SELECT * FROM order_credit.break_lease(:'T' || ':l1');
SELECT * FROM order_credit.break_lease(:'T' || ':l9');
SELECT * FROM order_credit.process_once(:'T' || ':src', 'e1');
SELECT * FROM order_credit.process_once(:'T' || ':src', 'e1');
SELECT * FROM order_credit.process_once(:'T' || ':src', '');
SELECT * FROM order_credit.expire_due();
SELECT * FROM order_credit.expire_due(0);
SELECT * FROM order_credit.stats_reset();
SQL
# Generated from the catalog: every function of the contract called with all
# arguments NULL, then with keys nobody created ('T:nope') and small values.
oc_value $DIRECT "
    SELECT format('SELECT * FROM order_credit.%I(%s);', p.proname,
                  coalesce(string_agg(format('NULL::%s', format_type(a.t, NULL)), ', ' ORDER BY a.n), '')) || E'\n' ||
           format('SELECT * FROM order_credit.%I(%s);', p.proname,
                  coalesce(string_agg(CASE format_type(a.t, NULL)
                      WHEN 'text' THEN format('%L', 'TENANT:nope')
                      WHEN 'jsonb' THEN format('%L::jsonb', '[{\"sku\": \"TENANT:nope\", \"quantity\": 1, \"unit_price\": 1}]')
                      WHEN 'interval' THEN '''1 minute''::interval'
                      WHEN 'boolean' THEN 'false'
                      ELSE format('1::%s', format_type(a.t, NULL)) END, ', ' ORDER BY a.n), ''))
      FROM order_credit.function_access f
      JOIN pg_proc p ON p.oid = f.function
      LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY a(t, n) ON true
     WHERE p.proname NOT IN ('lock', 'try_lock', 'verify', '_stats_latency', '_stats_latency_buckets')
     GROUP BY p.oid, p.proname ORDER BY p.oid::regprocedure::text" | sed "s/TENANT/$T/g" >>"$OC_TMP/calls.sql"
ncalls=$(grep -c '^SELECT' "$OC_TMP/calls.sql")
oc_log "$ncalls calls, $(grep -c 'NULL::' "$OC_TMP/calls.sql") of them generated with NULL arguments"

# run DB: the calls, one output; errors in place (stderr to the same
# stream), timestamps and psql's file:line prefix and LOCATION lines out.
# (Notices are left out: after a call that failed on a shard, PL/Proxy says
# "dropping stale conn" as it reconnects.)
run() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -A -v T="$T" -d "$1" -f "$OC_TMP/calls.sql" 2>&1 |
        sed -E -e 's/^psql:[^:]*:[0-9]+: //' -e '/^LOCATION:/d' \
               -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?\+00/<ts>/g'
}
run $DIRECT >"$OC_TMP/direct.out"
run $PROXY >"$OC_TMP/proxy.out"
for code in OC001 OC002 OC003 OC004 OC005 OC006 OC007 OC008 OC009 OC011 22004 22023; do
    oc_check "direct calls raise $code (with DETAIL lines beside)" yes \
        "$(grep -q "^ERROR:  $code:" "$OC_TMP/direct.out" && echo yes || echo no)"
done
oc_check "errors through the proxy" "$(grep -c '^ERROR:' "$OC_TMP/direct.out")" "$(grep -c '^ERROR:' "$OC_TMP/proxy.out")"
if diff -u "$OC_TMP/direct.out" "$OC_TMP/proxy.out" >"$OC_TMP/calls.diff"; then
    oc_log "ok:   $ncalls calls: the same rows, SQLSTATEs, messages, DETAILs and HINTs through the proxy" \
        "($(wc -l <"$OC_TMP/direct.out") lines, $(grep -c '^ERROR:' "$OC_TMP/direct.out") errors," \
        "$(grep -c '^DETAIL:' "$OC_TMP/direct.out") DETAILs, $(grep -c '^HINT:' "$OC_TMP/direct.out") HINTs)"
else
    oc_log "FAIL: the calls differ (- direct, + proxy):"
    head -n 80 "$OC_TMP/calls.diff"
    OC_FAILURES=$((OC_FAILURES + 1))
fi

# Everything ran on shard 2, under its ids.
oc_check "tenant's accounts on shard 2" "$(oc_value $DIRECT "SELECT count(*) FROM order_credit.accounts")" \
    "$(oc_value ${SYS}_s2 "SELECT count(*) FROM order_credit.accounts WHERE account LIKE '$T:%'")"
oc_check "accounts on shards 0, 1, 3" 0 "$(for i in 0 1 3; do
    oc_value ${SYS}_s$i "SELECT count(*) FROM order_credit.accounts"; done | awk "{ s += \$1 } END { print s }")"
oc_check "hold ids of shard 2 are in its range" 0 \
    "$(oc_value ${SYS}_s2 "SELECT count(*) FROM order_credit.holds WHERE hold_id >> 48 <> 2")"

for f in lock try_lock; do
    oc_check "$f() through the proxy" 0A000 \
        "$(psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY -c "SELECT order_credit.$f('$T:x')" 2>&1 | grep -oE '[0-9A-Z]{5}$')"
done
oc_check "verify() on the proxy" 0 "$(oc_value $PROXY "SELECT count(*) FROM order_credit.verify()")"
oc_check "a call that needs two tenants" 22023 \
    "$(psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY \
        -c "SELECT order_credit.place_order('$T:x', '[{\"sku\": \"other:s\", \"quantity\": 1}]')" 2>&1 | grep -oE '[0-9A-Z]{5}$')"
oc_check "a key without a tenant" 22023 \
    "$(psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY -c "SELECT order_credit.credit_status('plain')" 2>&1 |
       grep -oE '[0-9A-Z]{5}$')"

# Privileges: a role of the proxy acts on the shards as the shard role of its
# user mapping, with that role's grants there.
oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS oc_shc_app" \
    -c "CREATE ROLE oc_shc_app LOGIN" >/dev/null
for i in 0 1 2 3; do oc_value ${SYS}_s$i "SELECT order_credit.grant_app('oc_shc_app')" >/dev/null; done
oc_psql -d $PROXY -c "SELECT order_credit_proxy.grant_proxy('oc_shc_app')" \
    -c "CREATE USER MAPPING FOR oc_shc_app SERVER order_credit_shards OPTIONS (user 'oc_shc_app')" >/dev/null
as_app() { psql -X -q -At -v VERBOSITY=sqlstate -U oc_shc_app -d $PROXY -c "$1" 2>&1 | tail -n 1; }
oc_check "an app role through the proxy: reserve_credit" pending \
    "$(as_app "SELECT status FROM order_credit.reserve_credit('$T:a1', 1, '$T:app-1')")"
oc_check "an app role through the proxy: set_credit_limit (admin on the shard)" "ERROR:  42501" \
    "$(as_app "SELECT order_credit.set_credit_limit('$T:a1', 5)")"
oc_check "a role without grants on the proxy" "ERROR:  42501" \
    "$(oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS oc_shc_none" \
           -c "CREATE ROLE oc_shc_none LOGIN" >/dev/null;
       psql -X -q -At -v VERBOSITY=sqlstate -U oc_shc_none -d $PROXY \
           -c "SELECT order_credit.credit_status('$T:a1')" 2>&1 | tail -n 1)"

oc_psql -d postgres -c "DROP DATABASE $DIRECT" >/dev/null
sh_drop $SYS
oc_psql -d postgres -c "DROP ROLE oc_shc_app" -c "DROP ROLE oc_shc_none" >/dev/null
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
