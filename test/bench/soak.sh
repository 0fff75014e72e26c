#!/usr/bin/env bash
# Soak: a steady mix of every lifecycle (credit held and captured then paid,
# held and voided, held and left to expire; stock reserved and committed, or
# left to expire; orders placed, confirmed and delivered, or left to expire;
# idempotency keys and processed events with each delivered order) at a
# fixed rate, with expire_due() called every second as a scheduler would
# (it expires due rows and purges finished ones past their retention). Every
# interval it prints each table's size (heap + indexes, kB) and live rows;
# at the end it says, per table, whether the size levelled off: it grew by
# at most 10% over the second half of the run (✓/✗). The ledger, stock_audit
# and payments are append-only and kept; they grow with the operations by
# design (reported, no target). verify() must be empty at the end.
#
#   test/bench/soak.sh                  10 minutes, a line a minute
#   OC_SOAK_SHORT=1 test/bench/soak.sh  2 minutes, a line every 15 s
#
# Retention in the run: finished rows, idempotency keys, events and leases
# are kept OC_SOAK_RETENTION (default 60 s; 20 s short) instead of days, so
# the steady state is reached within the run. OC_SOAK_RATE: transactions
# per second (default 100), OC_SOAK_CLIENTS (default 4).
# Alone: own throwaway cluster, holds /tmp/order_credit.lock for the whole
# run (installs the extension); under run_all.sh, the shared cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${OC_SOAK_SHORT:-0}" = 1 ]; then
    MINUTES_DEFAULT=2 STEP_DEFAULT=15 RET_DEFAULT=20 NAP=5s
else
    MINUTES_DEFAULT=10 STEP_DEFAULT=60 RET_DEFAULT=60 NAP=15s
fi
SECS=$(( ${OC_SOAK_MINUTES:-$MINUTES_DEFAULT} * 60 ))
STEP=${OC_SOAK_STEP:-$STEP_DEFAULT}
RET=${OC_SOAK_RETENTION:-$RET_DEFAULT}
RATE=${OC_SOAK_RATE:-100}
CLIENTS=${OC_SOAK_CLIENTS:-4}
. test/bench/lib.sh
bench_cluster soak 55509 "autovacuum_naptime = $NAP"
if [ "${OC_BENCH_SHARED:-0}" = 1 ]; then
    psql -c "ALTER SYSTEM SET autovacuum_naptime = '$NAP'" -c "SELECT pg_reload_conf()" >/dev/null
    trap 'psql -d postgres -c "ALTER SYSTEM RESET autovacuum_naptime" -c "SELECT pg_reload_conf()" >/dev/null' EXIT
fi
psql <<SQL
CREATE EXTENSION order_credit;
ALTER DATABASE oc_bench_soak SET order_credit.finished_retention = '${RET}s';
ALTER DATABASE oc_bench_soak SET order_credit.idempotency_ttl = '${RET}s';
ALTER DATABASE oc_bench_soak SET order_credit.event_retention = '${RET}s';
ALTER DATABASE oc_bench_soak SET order_credit.lease_retention = '${RET}s';
SELECT count(order_credit.create_account('soak-' || i, 1000000000)) FROM generate_series(1, 1000) i;
SELECT count(order_credit.set_stock('sku-' || i, 1000000000)) FROM generate_series(1, 1000) i;
SQL
echo "settings: ${RATE} tx/s over ${CLIENTS} clients, $((SECS / 60)) min, retention ${RET}s, autovacuum_naptime $NAP"

O=$BENCH_OUT
# Unique order_refs: client id and a random number (a rare repeat is a replay).
HEAD='\set a random(1, 1000)
\set s random(1, 1000)
\set r random(1, 2000000000)'
printf '%s\n%s\n' "$HEAD" "BEGIN;
SELECT order_credit.reserve_credit('soak-' || :a, 1, 'hc' || :client_id || '-' || :r);
SELECT order_credit.capture_credit('hc' || :client_id || '-' || :r);
SELECT order_credit.record_payment('soak-' || :a, 1, 'pay' || :client_id || '-' || :r);
END;" >"$O/hold_capture_pay.sql"
printf '%s\n%s\n' "$HEAD" "BEGIN;
SELECT order_credit.reserve_credit('soak-' || :a, 1, 'hv' || :client_id || '-' || :r);
SELECT order_credit.release_credit('hv' || :client_id || '-' || :r);
END;" >"$O/hold_void.sql"
printf '%s\n%s\n' "$HEAD" \
    "SELECT order_credit.reserve_credit('soak-' || :a, 1, 'he' || :client_id || '-' || :r, '1 second');" \
    >"$O/hold_expire.sql"
printf '%s\n%s\n' "$HEAD" "BEGIN;
SELECT order_credit.reserve_stock('sku-' || :s, 1, 'sc' || :client_id || '-' || :r);
SELECT order_credit.commit_stock('sc' || :client_id || '-' || :r);
END;" >"$O/stock_commit.sql"
printf '%s\n%s\n' "$HEAD" \
    "SELECT order_credit.reserve_stock('sku-' || :s, 1, 'se' || :client_id || '-' || :r, '1 second');" \
    >"$O/stock_expire.sql"
printf '%s\n%s\n' "$HEAD" "BEGIN;
SELECT state FROM order_credit.idempotency_begin('ik' || :client_id || '-' || :r, 'f');
SELECT order_credit.process_once('soak', 'ev' || :client_id || '-' || :r);
SELECT order_credit.place_order('od' || :client_id || '-' || :r, jsonb_build_array(jsonb_build_object('sku', 'sku-' || :s, 'quantity', 1, 'unit_price', 2)), 'soak-' || :a);
SELECT order_credit.confirm_order('od' || :client_id || '-' || :r);
SELECT order_credit.set_order_status('od' || :client_id || '-' || :r, 'processing');
SELECT order_credit.set_order_status('od' || :client_id || '-' || :r, 'shipped');
SELECT order_credit.set_order_status('od' || :client_id || '-' || :r, 'delivered');
SELECT order_credit.idempotency_complete('ik' || :client_id || '-' || :r, '{}');
END;" >"$O/order_deliver.sql"
printf '%s\n%s\n' "$HEAD" \
    "SELECT order_credit.place_order('ox' || :client_id || '-' || :r, jsonb_build_array(jsonb_build_object('sku', 'sku-' || :s, 'quantity', 1, 'unit_price', 2)), 'soak-' || :a, '1 second');" \
    >"$O/order_expire.sql"

TABLES="holds reservations reservation_claims orders order_history idempotency_keys processed_events leases accounts stock_buckets ledger stock_audit payments"
KEPT=" ledger stock_audit payments "
sizes() { # -> "table kB rows" lines
    val "SELECT c.relname, pg_total_relation_size(c.oid) / 1024, coalesce(s.n_live_tup, 0)
           FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE c.relnamespace = 'order_credit'::regnamespace AND c.relkind = 'r'" | tr '|' ' '
}

# The scheduler: expire_due() once a second, in the soak database (its
# retention settings) until the run ends.
( while [ ! -e "$O/stop" ]; do
      psql -At -c "SELECT order_credit.expire_due(20000)" >>"$O/expire.log" 2>&1 || true
      sleep 1
  done ) &
SCHED=$!

"$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -R "$RATE" -T "$SECS" -P "$STEP" \
    -f "$O/hold_capture_pay.sql@3" -f "$O/hold_void.sql@1" -f "$O/hold_expire.sql@1" \
    -f "$O/stock_commit.sql@2" -f "$O/stock_expire.sql@1" \
    -f "$O/order_deliver.sql@2" -f "$O/order_expire.sql@1" >"$O/pgbench.log" 2>&1 &
BENCH=$!

printf '%6s' "t(s)"
for t in $TABLES; do printf ' %18s' "$t"; done
echo
printf '%6s' ""
for t in $TABLES; do printf ' %18s' "kB/rows"; done
echo
n=0
sample() {
    sizes >"$O/s$n"
    printf '%6s' "$((n * STEP))"
    for t in $TABLES; do
        printf ' %18s' "$(awk -v t="$t" '$1 == t {print $2 "/" $3}' "$O/s$n")"
    done
    echo
}
sample
while kill -0 "$BENCH" 2>/dev/null && [ $(( (n + 1) * STEP )) -le "$SECS" ]; do
    sleep "$STEP"
    n=$((n + 1))
    sample
done
wait "$BENCH" || { cat "$O/pgbench.log"; touch "$O/stop"; exit 1; }
touch "$O/stop"
wait "$SCHED" || true
grep -E "^(number of transactions actually processed|number of failed|latency average|tps)" "$O/pgbench.log" || true
if grep -q ERROR "$O/expire.log"; then grep ERROR "$O/expire.log" | sort | uniq -c | head; fi

mid=$((n / 2))
ok=0 bad=0
echo "levelling off (size at the end vs. at $((mid * STEP)) s; purged tables: at most +10%):"
for t in $TABLES; do
    a=$(awk -v t="$t" '$1 == t {print $2}' "$O/s$mid")
    b=$(awk -v t="$t" '$1 == t {print $2}' "$O/s$n")
    g=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%+.0f%%", (a > 0 ? (b - a) * 100 / a : 0)}')
    if [[ "$KEPT" == *" $t "* ]]; then
        printf '  %-20s %8s kB -> %8s kB  %6s  (append-only, kept by design)\n' "$t" "$a" "$b" "$g"
    elif awk -v a="$a" -v b="$b" 'BEGIN {exit !(b <= a * 1.10)}'; then
        printf '  %-20s %8s kB -> %8s kB  %6s  ✓\n' "$t" "$a" "$b" "$g"; ok=$((ok + 1))
        bench_target soak "$t size levels off (end / mid)" "$(ratio "$b" "$a")" "<=" 1.10
    else
        printf '  %-20s %8s kB -> %8s kB  %6s  ✗\n' "$t" "$a" "$b" "$g"; bad=$((bad + 1))
        bench_target soak "$t size levels off (end / mid)" "$(ratio "$b" "$a")" "<=" 1.10
    fi
done
v=$(val "SELECT count(*) FROM order_credit.verify()")
echo "verify(): $v violation(s)"
echo "levelled off: $ok of $((ok + bad)) purged tables"
[ "$v" = 0 ] || exit 1
