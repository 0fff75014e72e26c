#!/usr/bin/env bash
# Cost of the latency histograms of order_credit.stats on the hot paths:
# reserve_credit (1,000 accounts) and reserve_stock (10,000 SKUs) with the
# library preloaded, order_credit.latency_histograms on against off, in the
# same run on the same cluster (rounds interleaved, the order of on and off
# alternating). Prints the median TPS of each and the ratio on/off against
# the target (>= 0.97) with a check mark.
#
#   test/bench/stats_overhead_bench.sh
#
# Environment: BENCH_SECONDS (10) per run, BENCH_ROUNDS (5), BENCH_CLIENTS
# (8), BENCH_PORT (55613). synchronous_commit is off, so a call's CPU time,
# where the histogram's cost is, is not hidden behind the commit's flush.
# Alone, it builds with -Werror, installs and runs while holding
# /tmp/order_credit.lock (lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
ROUNDS=${BENCH_ROUNDS:-5}
CLIENTS=${OC_BENCH_CLIENTS:-${BENCH_CLIENTS:-8}}
TARGET=0.97
. test/bench/lib.sh

bench_cluster statsoh 55613 "synchronous_commit = off" "max_locks_per_transaction = 1024" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min"
if ! [[ "$(val "SHOW shared_preload_libraries")" == *order_credit* ]]; then
    spl=$(val "SHOW shared_preload_libraries")
    bench_restart "shared_preload_libraries = '${spl:+$spl,}order_credit'"
fi
OUT=$BENCH_OUT
echo "machine: $(nproc) CPUs; pgbench -n -M prepared -c $CLIENTS -j 2 -T $SECS, $ROUNDS rounds (median)"
echo "preloaded: $(val "SHOW shared_preload_libraries"); synchronous_commit = $(val "SHOW synchronous_commit")"

echo "== setup (1,000 accounts, 10,000 SKUs)"
psql <<'SQL' >/dev/null
CREATE EXTENSION order_credit;
CREATE SEQUENCE bench_ref CACHE 100;
SELECT count(*) FROM generate_series(1, 1000) i,
       LATERAL order_credit.create_account('acct-' || i, 1000000000000, 'EUR');
SELECT count(*) FROM generate_series(1, 10000) i, LATERAL order_credit.set_stock('s' || i, 1000000000);
VACUUM ANALYZE;
SQL
cat >"$OUT/credit.sql" <<'SQL'
\set acct random(1, 1000)
\set amt random(1, 100)
SELECT hold_id FROM order_credit.reserve_credit('acct-' || :acct, :amt, 'c' || nextval('bench_ref'));
SQL
cat >"$OUT/stock.sql" <<'SQL'
\set k random(1, 10000)
SELECT reservation_id FROM order_credit.reserve_stock('s' || :k, 1, 'd' || nextval('bench_ref'));
SQL
chmod 644 "$OUT"/*.sql

declare -A TPS
run() { # op mode round
    local log="$OUT/$1-$2-$3.log" tps
    psql -c CHECKPOINT >/dev/null
    PGOPTIONS="-c order_credit.latency_histograms=$2" \
        "$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$OUT/$1.sql" >"$log" 2>&1 ||
        { cat "$log"; exit 1; }
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log" | head -1)
    [ "$3" -gt 0 ] || return 0  # the warm-up is not counted
    TPS[$1 $2]="${TPS[$1 $2]:-} $tps"
    printf '  round %d  %-6s histograms %-3s  %8.0f tps\n' "$3" "$1" "$2" "$tps"
}

echo "== runs (a 3 s warm-up of each first)"
SECS_MEASURED=$SECS SECS=3
for op in credit stock; do for mode in on off; do run $op $mode 0; done; done
SECS=$SECS_MEASURED
psql -c "SELECT order_credit.stats_reset()" >/dev/null
on_calls=0
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="on off"; else order="off on"; fi
    for op in credit stock; do
        for mode in $order; do
            run $op $mode "$round"
        done
    done
done

# The histograms saw the calls of the "on" runs only.
echo "== histograms (since the reset)"
psql -c "SELECT s.operation, s.calls, b.calls AS in_histogram, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
           FROM order_credit.stats s
           JOIN order_credit.stats_latency_buckets b USING (operation, outcome)
          WHERE s.outcome = 'ok' AND b.le = 'Infinity'
            AND s.operation IN ('reserve_credit', 'reserve_stock') ORDER BY 1"

echo "== result (median TPS; ratio = histograms on / off, target >= $TARGET)"
fail=0
for op in credit stock; do
    on=$(echo "${TPS[$op on]}" | median)
    off=$(echo "${TPS[$op off]}" | median)
    r=$(ratio "$on" "$off")
    if awk -v r="$r" -v t="$TARGET" 'BEGIN {exit !(r >= t)}'; then mark="✓"; else mark="✗"; fail=1; fi
    name=$([ $op = credit ] && echo reserve_credit || echo reserve_stock)
    printf '  %-15s on %8.0f  off %8.0f  ratio %s  %s  (runs on:%s; off:%s)\n' \
        "$name" "$on" "$off" "$r" "$mark" "${TPS[$op on]}" "${TPS[$op off]}"
    bench_target stats "$name histograms on/off" "$r" ">=" "$TARGET"
done
exit 0
