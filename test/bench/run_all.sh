#!/usr/bin/env bash
# Every benchmark of order_credit in one invocation, on ONE throwaway cluster
# with ONE build (-Werror) and install, all under /tmp/order_credit.lock:
#
#   test/bench/run_all.sh
#
# Areas, in this order: credit (credit_bench.sh), stock (stock_bench.sh),
# coordination (coordination_bench.sh), orders (orders_bench.sh; last,
# because it restarts the cluster with shared_preload_libraries =
# 'order_credit' for its sweeper runs). Each area gets a fresh database
# (oc_bench_<area>) and prints its own tables; the end is a summary of every
# ratio against its target (✓ met, ✗ missed).
#
# Exit status: 0 when every area ran through, even if targets were missed
# (benchmarks are not tests); non-zero when a run itself failed (pgbench
# error, rows that do not match the transactions, verify() violations, the
# sweeper not sweeping, ...).
#
# Environment: OC_BENCH_SECONDS (10) seconds per pgbench run in every area,
# OC_BENCH_AREAS ("credit stock coordination orders"), OC_BENCH_PORT (55507),
# BENCH_ROUNDS (credit: 3), OC_BENCH_CLIENTS (client counts of credit,
# coordination and place_order: "8 32"), BENCH_PROFILE=1 (credit:
# pg_stat_statements). Full defaults take about 15-20 minutes.
set -uo pipefail
cd "$(dirname "$0")/../.."
PORT=${OC_BENCH_PORT:-55507}
AREAS=${OC_BENCH_AREAS:-"credit stock coordination orders"}

exec 9>/tmp/order_credit.lock
if ! flock -n 9; then
    echo "waiting for /tmp/order_credit.lock"
    flock 9
fi

T_ALL=$(date +%s)
echo "== build (WERROR=1) and install (once for every area)"
make -s -j2 WERROR=1 >/tmp/oc_bench_build.$$.log 2>&1 || { cat /tmp/oc_bench_build.$$.log; exit 1; }
rm -f /tmp/oc_bench_build.$$.log
make -s install WERROR=1 >/dev/null || { echo "install failed"; exit 1; }

DIR=$(mktemp -d /tmp/oc_bench_all.XXXXXX)
chmod 755 "$DIR"
cleanup() {
    local rc=$?
    scripts/cluster.sh stop "$DIR" || true
    rm -rf "$DIR"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Production-like durability (commits wait for their WAL flush); checkpoints
# spaced out and forced before each run. The coordination area switches
# fsync and synchronous_commit off for its own runs (as when run alone).
CONF=("fsync = on" "synchronous_commit = on" "full_page_writes = on"
      "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_locks_per_transaction = 256"
      "shared_buffers = $(bash -c '. test/bench/lib.sh && bench_shared_buffers')")
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    CONF+=("shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = all"
           "track_functions = all")
fi
scripts/cluster.sh start "$DIR" "$PORT" "${CONF[@]}" || { cat "$DIR/server.log"; exit 1; }
export PGHOST=$DIR PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
export OC_BENCH_SHARED=1 OC_BENCH_DIR=$DIR OC_BENCH_SUMMARY=$DIR/summary
: >"$OC_BENCH_SUMMARY"
chmod 666 "$OC_BENCH_SUMMARY"

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo);" \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); seconds per run: ${OC_BENCH_SECONDS:-10}"

declare -A RC SECS_TAKEN
failed=""
for area in $AREAS; do
    echo
    echo "################ $area ################"
    t0=$(date +%s)
    bash "test/bench/${area}_bench.sh"
    RC[$area]=$?
    SECS_TAKEN[$area]=$(( $(date +%s) - t0 ))
    if [ "${RC[$area]}" -ne 0 ]; then
        failed="$failed $area"
        echo "!!!! $area FAILED (exit ${RC[$area]})"
    fi
done

echo
echo "================ summary (every ratio against its target) ================"
printf '| %-13s | %-62s | %9s | %9s |   |\n' area measure value target
printf '|%s|%s|%s|%s|---|\n' --------------- ---------------------------------------------------------------- ----------- -----------
met=0 missed=0
while IFS='|' read -r area name value op target; do
    if awk -v v="$value" -v t="$target" -v op="$op" \
           'BEGIN { exit !((op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)) }'; then
        mark="✓"; met=$((met + 1))
    else
        mark="✗"; missed=$((missed + 1))
    fi
    printf '| %-13s | %-62s | %9s | %9s | %s |\n' "$area" "$name" "$value" "$op $target" "$mark"
done <"$OC_BENCH_SUMMARY"
echo
for area in $AREAS; do
    printf '%s: %s s, %s\n' "$area" "${SECS_TAKEN[$area]}" \
        "$([ "${RC[$area]}" -eq 0 ] && echo "ran through" || echo "FAILED (exit ${RC[$area]})")"
done
echo "targets met: $met, missed: $missed; total time $(( $(date +%s) - T_ALL )) s;" \
     "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$failed" ]; then
    echo "FAILED areas:$failed"
    exit 1
fi
exit 0
