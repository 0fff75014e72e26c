#!/usr/bin/env bash
# Credit-line throughput: order_credit.reserve_credit against the same rows
# written as one plain SQL statement, and against the usual application
# pattern (lock the account row, sum a ledger, insert) on a hot account.
# Scenarios and how to read the output: docs/benchmarks.md.
#
#   test/bench/credit_bench.sh
#
# Environment: BENCH_SECONDS (10) per run, BENCH_ROUNDS (3) interleaved rounds
# (the table shows the median), BENCH_CLIENTS ("8 32"), BENCH_PORT (55503),
# BENCH_PROFILE=1 adds pg_stat_statements (track = all) and prints the top
# statements of each run (this costs throughput: do not compare with a run
# without it).
#
# OC_BENCH_SECONDS / OC_BENCH_CLIENTS override BENCH_SECONDS / BENCH_CLIENTS.
# Under test/bench/run_all.sh it uses that script's shared cluster (lib.sh).
#
# Alone, it builds with -Werror, installs the extension and runs everything while
# holding /tmp/order_credit.lock, so no other checkout installs over the
# library under test and no test suite competes for the CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${OC_BENCH_CLIENTS:-${BENCH_CLIENTS:-"8 32"}}
PROFILE=${BENCH_PROFILE:-0}
B=test/bench/credit
. test/bench/lib.sh

# Production-like durability: every commit waits for its WAL to be flushed.
# Checkpoints are spaced out (and forced between runs) so that none lands in
# the middle of a measurement. (Under run_all.sh the shared cluster has the
# same settings.)
CONF=("fsync = on" "synchronous_commit = on" "full_page_writes = on"
      "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_locks_per_transaction = 256")
if [ "$PROFILE" = 1 ]; then
    CONF+=("shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = all"
           "track_functions = all")
fi
bench_cluster credit 55503 "${CONF[@]}"
OUT=$BENCH_OUT

echo "== server settings"
psql -c "SELECT name, setting, unit FROM pg_settings
          WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method',
                         'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_level',
                         'max_connections', 'server_version', 'shared_preload_libraries')
          ORDER BY name"
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo);" \
     "pgbench -n -M prepared -j 2 -T $SECS, clients: $CLIENTS, rounds: $ROUNDS (median shown)"

echo "== setup (1,000 accounts, hot account, app_ledger with 100,000 rows)"
psql -f $B/setup.sql >/dev/null
[ "$PROFILE" = 1 ] && psql -c "CREATE EXTENSION pg_stat_statements" >/dev/null

SCEN_ORDER="a c-a b c-b d"
declare -A FILE=([a]=a_reserve.sql [c-a]=c_plain_a.sql [b]=b_reserve_hot.sql
                 [c-b]=c_plain_b.sql [d]=d_app_pattern.sql)
declare -A DESC=([a]="reserve_credit, 1,000 accounts"
                 [c-a]="plain SQL, 1,000 accounts"
                 [b]="reserve_credit, 1 hot account"
                 [c-b]="plain SQL, 1 hot account"
                 [d]="app pattern, 1 hot account")
# Rows each scenario adds per transaction, to check that every transaction
# did what it should (no replay, no refusal).
declare -A COUNTQ=([a]="SELECT count(*) FROM order_credit.holds WHERE account LIKE 'acct-%'"
                   [c-a]="SELECT count(*) FROM order_credit.holds WHERE account LIKE 'acct-%'"
                   [b]="SELECT count(*) FROM order_credit.holds WHERE account = 'hot'"
                   [c-b]="SELECT count(*) FROM order_credit.holds WHERE account = 'hot'"
                   [d]="SELECT count(*) FROM app_ledger")
declare -A TPS  # "scen clients" -> space-separated TPS of each round
declare -A FOREIGN  # "scen clients" -> max foreign CPU % over the rounds

# The machine may be shared: CPU used during a run by anything other than
# this cluster and pgbench ("foreign CPU", % of all CPUs) is printed with
# each run, so a disturbed measurement can be recognised (lib.sh).

run() { # scenario clients round seconds measured
    local s=$1 c=$2 round=$3 secs=$4 measured=$5
    local tag="r$round-$s-c$c-$RANDOM$RANDOM" log="$OUT/$s-$c-$round.log"
    [ "$measured" = 1 ] || tag="warm-$s-$RANDOM$RANDOM"
    psql -c "CHECKPOINT" >/dev/null
    [ "$PROFILE" = 1 ] && val "SELECT pg_stat_statements_reset()" >/dev/null
    local before after rc=0
    before=$(val "${COUNTQ[$s]}")
    local bench_cpu
    foreign_start
    local TIMEFORMAT='%U %S'
    { time "$PGBENCH" -n -M prepared -c "$c" -j 2 -T "$secs" -D run="$tag" -f "$B/${FILE[$s]}" \
        >"$log" 2>&1 || rc=$?; } 2>"$log.time"
    bench_cpu=$(awk '{print $1 + $2}' "$log.time")
    local foreign
    foreign=$(foreign_end "$bench_cpu")
    after=$(val "${COUNTQ[$s]}")
    local tps processed
    tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$log")
    processed=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$log")
    if [ $rc -ne 0 ] || [ -z "$tps" ] || grep -qiE "error|aborted" "$log"; then
        echo "pgbench failed for $s, $c clients (rc=$rc):"
        cat "$log"
        exit 1
    fi
    if [ $((after - before)) -ne "$processed" ]; then
        echo "$s, $c clients: $processed transactions but $((after - before)) new rows"
        exit 1
    fi
    if [ "$measured" = 1 ]; then
        TPS["$s $c"]="${TPS["$s $c"]:-} $tps"
        local prev=${FOREIGN["$s $c"]:-0}
        [ "$foreign" -gt "$prev" ] && FOREIGN["$s $c"]=$foreign || FOREIGN["$s $c"]=$prev
        printf '   round %d  %-4s %-32s %3d clients  %10.1f tps  (%d transactions, foreign CPU %s%%)\n' \
            "$round" "$s" "${DESC[$s]}" "$c" "$tps" "$processed" "$foreign"
        if [ "$PROFILE" = 1 ]; then
            psql -c "SELECT calls, round(total_exec_time::numeric, 1) AS total_ms,
                            round(mean_exec_time::numeric, 3) AS mean_ms,
                            left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
                       FROM pg_stat_statements
                      WHERE query !~* '^(CHECKPOINT|SELECT pg_stat_statements_reset|SELECT count)'
                      ORDER BY total_exec_time DESC LIMIT 8"
        fi
    fi
}

echo "== warm-up (3 s each of a and c-a, not counted)"
run a 8 0 3 0
run c-a 8 0 3 0

echo "== measured runs"
t0=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
    for c in $CLIENTS; do
        for s in $SCEN_ORDER; do
            run "$s" "$c" "$round" "$SECS" 1
        done
    done
done
echo "   measured runs took $(( $(date +%s) - t0 )) s"


echo
echo "== results (TPS: median of $ROUNDS runs of $SECS s; foreign CPU: worst run, % of all CPUs)"
printf '| %-4s | %-32s | %7s | %10s | %-24s | %11s |\n' scen "what" clients "TPS" "runs" "foreign CPU"
printf '|%s|%s|%s|%s|%s|%s|\n' ------ ---------------------------------- --------- ------------ -------------------------- -------------
declare -A MED
for c in $CLIENTS; do
    for s in $SCEN_ORDER; do
        MED["$s $c"]=$(echo "${TPS["$s $c"]}" | median)
        runs=$(for t in ${TPS["$s $c"]}; do printf '%.0f ' "$t"; done)
        printf '| %-4s | %-32s | %7d | %10.1f | %-24s | %10s%% |\n' "$s" "${DESC[$s]}" "$c" \
            "${MED["$s $c"]}" "${runs% }" "<=${FOREIGN["$s $c"]}"
    done
done
echo
echo "== ratios (targets: a/c-a >= 0.9, b/c-b >= 0.9, b/d >= 10)"
printf '| %7s | %8s | %8s | %8s |\n' clients "a / c-a" "b / c-b" "b / d"
printf '|%s|%s|%s|%s|\n' --------- ---------- ---------- ----------
for c in $CLIENTS; do
    printf '| %7d | %8s | %8s | %8s |\n' "$c" \
        "$(ratio "${MED["a $c"]}" "${MED["c-a $c"]}")" \
        "$(ratio "${MED["b $c"]}" "${MED["c-b $c"]}")" \
        "$(ratio "${MED["b $c"]}" "${MED["d $c"]}")"
    bench_target credit "a / c-a, reserve_credit vs plain SQL, $c clients" "$(ratio "${MED["a $c"]}" "${MED["c-a $c"]}")" ">=" 0.9
    bench_target credit "b / c-b, hot account vs plain SQL, $c clients" "$(ratio "${MED["b $c"]}" "${MED["c-b $c"]}")" ">=" 0.9
    bench_target credit "b / d, hot account vs app pattern, $c clients" "$(ratio "${MED["b $c"]}" "${MED["d $c"]}")" ">=" 10
done

echo
echo "== bytes stored per hold (after all runs; holds written by a, b, c-a and c-b)"
psql -c "
WITH n AS (SELECT count(*) AS holds FROM order_credit.holds),
     s AS (SELECT pg_relation_size('order_credit.holds') AS holds_heap,
                  pg_indexes_size('order_credit.holds') AS holds_idx,
                  pg_total_relation_size('order_credit.holds') AS holds_total,
                  pg_relation_size('order_credit.ledger') AS ledger_heap,
                  pg_indexes_size('order_credit.ledger') AS ledger_idx,
                  pg_total_relation_size('order_credit.ledger') AS ledger_total,
                  (SELECT count(*) FROM order_credit.ledger) AS ledger_rows)
SELECT n.holds, s.ledger_rows,
       round((s.holds_total + s.ledger_total)::numeric / n.holds) AS bytes_per_hold,
       round(s.holds_total::numeric / n.holds) AS holds_tbl_idx_per_hold,
       round(s.holds_heap::numeric / n.holds) AS holds_heap,
       round(s.holds_idx::numeric / n.holds) AS holds_indexes,
       round(s.ledger_total::numeric / n.holds) AS ledger_per_hold,
       round(s.ledger_heap::numeric / n.holds) AS ledger_heap,
       round(s.ledger_idx::numeric / n.holds) AS ledger_indexes
  FROM n, s"
echo "(holds and ledger include free space in partly filled pages; the ledger also"
echo " holds one 'limit' entry per account created by setup)"

echo
echo "== verify() after the benchmark"
psql -c "SELECT count(*) AS violations FROM order_credit.verify()"
[ "$(val "SELECT count(*) FROM order_credit.verify()")" = 0 ] || { echo "verify() FAILED"; exit 1; }
echo "== done"
