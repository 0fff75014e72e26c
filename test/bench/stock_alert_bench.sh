#!/usr/bin/env bash
# What an alert threshold costs the buyers of a hot SKU that stays far above
# it (no crossing, so no NOTIFY): reserve_stock on the same SKU with a
# threshold (set_stock_alert(sku, 1000); the SKU holds 10^12 units) and
# without one (set_stock_alert(sku, NULL)), in ABBA-interleaved pairs of runs
# in one invocation; the ratio of the medians is the figure (target >= 0.95).
# Two SKUs: the stock benchmark's hot SKU striped over 8 buckets, and a hot
# SKU of one bucket. See docs/benchmarks.md.
#
# Environment: BENCH_SECONDS (10), BENCH_CLIENTS (32), BENCH_ROUNDS (4),
# BENCH_PORT (55508). Alone it holds /tmp/order_credit.lock for the whole run
# (own throwaway cluster, lib.sh). Exits non-zero when a run fails or
# verify() finds violations, not for a missed target.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
CLIENTS=${BENCH_CLIENTS:-32}
ROUNDS=${BENCH_ROUNDS:-4}
B=test/bench/stock_alert
. test/bench/lib.sh
bench_cluster stock_alert 55508 "fsync = on" "synchronous_commit = on" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min"
echo "machine: $(nproc) CPUs; pgbench -n -M prepared -c $CLIENTS -j 2 -T $SECS; fsync on, synchronous_commit on"
psql -f $B/setup.sql >/dev/null

tps() { # script -> tps (a failed pgbench run stops the benchmark)
    local log=$BENCH_OUT/pgbench.log t
    psql -c "CHECKPOINT" >/dev/null
    "$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$1" >"$log" 2>&1 ||
        { cat "$log" >&2; exit 1; }
    t=$(awk '/^tps/ {printf "%.0f", $3}' "$log")
    if [ -z "$t" ] || grep -qiE "error|aborted" "$log"; then cat "$log" >&2; exit 1; fi
    echo "$t"
}
alert() { psql -c "SELECT order_credit.set_stock_alert('$1', $2)" >/dev/null; }
run_with() { alert "$1" 1000; tps "$2"; }
run_without() { alert "$1" NULL; tps "$2"; }

pair() { # sku script -> "with_runs|without_runs", ABBA order
    local w=() n=() r
    for ((r = 0; r < ROUNDS; r++)); do
        if ((r % 2 == 0)); then w+=("$(run_with "$1" "$2")"); n+=("$(run_without "$1" "$2")")
        else n+=("$(run_without "$1" "$2")"); w+=("$(run_with "$1" "$2")"); fi
    done
    echo "${w[*]}|${n[*]}"
}

for case in "hot $B/reserve_hot.sql 8" "hot1 $B/reserve_hot1.sql 1"; do
    set -- $case
    runs=$(pair "$1" "$2")
    with=$(echo "${runs%|*}" | median); without=$(echo "${runs#*|}" | median)
    r=$(ratio "$with" "$without")
    echo "$1 ($3 bucket(s)): with threshold ${runs%|*}; without ${runs#*|}  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "$1: median with $with tps, without $without tps, ratio $r (target >= 0.95)"
    bench_target stock_alert "reserve_stock $1 ($3 buckets), threshold far below / none" "$r" ">=" 0.95
done
# No run crossed a threshold: nothing was notified; every invariant holds.
echo "notification queue usage: $(val "SELECT pg_notification_queue_usage()")"
v=$(val "SELECT count(*) FROM order_credit.verify()")
[ "$v" = 0 ] || { psql -c "SELECT * FROM order_credit.verify() LIMIT 20"; exit 1; }
