#!/usr/bin/env bash
# Orders throughput (docs/benchmarks.md, "Orders"):
#
# 1. place_order with 3 distinct SKUs (out of 1,000) and credit on one of
#    1,000 accounts, against the same rows written by ONE plain SQL statement
#    (data-modifying CTEs on the extension's tables). Target >= 0.9x.
# 2. reserve_stock throughput while the background sweeper
#    (shared_preload_libraries = 'order_credit', sweep_interval = 100ms)
#    expires 100,000 reservations that fall due during the run, against the
#    same with 100,000 reservations that stay live (the sweeper idles).
#    Target >= 0.8x. The cluster is restarted with the preload for this part.
#
# Runs are interleaved as extension, plain, plain, extension (and with,
# without, without, with); the table shows the median (of 2) and every run.
# After each run: the rows written match the transactions pgbench counted,
# verify() returns no rows, and (sweeper part) every reservation due by the
# end is swept (its claim deleted). Any failure exits non-zero; a missed target
# does not.
#
# Environment: OC_BENCH_SECONDS (10) per run, OC_BENCH_CLIENTS ("8 32"),
# OC_BENCH_SWEEP_CLIENTS ("8 32"), OC_BENCH_PORT (55508 when run alone),
# BENCH_PROFILE=1: pg_stat_statements (track = all) and the top statements
# after each place_order run (costs throughput: do not compare with a
# normal run). OC_BENCH_PARTS ("place sweep") picks the parts;
# OC_BENCH_SWEEP_BATCH sets order_credit.sweep_batch (default 1000),
# OC_BENCH_SWEEP_NICE order_credit.sweep_nice (default 10),
# OC_BENCH_SWEEP_CHUNK order_credit.sweep_chunk (default 1000),
# OC_BENCH_SWEEP_CONF one more postgresql.conf line for the sweeper runs
# (e.g. "wal_compression = lz4"; both modes run with it).
# Alone it builds, installs and runs its own cluster under
# /tmp/order_credit.lock; under test/bench/run_all.sh it uses the shared one.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
CLIENTS=${OC_BENCH_CLIENTS:-${BENCH_CLIENTS:-"8 32"}}
SWEEP_CLIENTS=${OC_BENCH_SWEEP_CLIENTS:-"8 32"}
B=test/bench/orders
. test/bench/lib.sh
PROFILE=${BENCH_PROFILE:-0}
CONF=("fsync = on" "synchronous_commit = on" "full_page_writes = on"
      "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_locks_per_transaction = 256")
if [ "$PROFILE" = 1 ]; then
    CONF+=("shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = all"
           "track_functions = all")
fi
bench_cluster orders 55508 "${CONF[@]}"

echo "machine: $(nproc) CPUs; pgbench -n -M prepared -j 2 -T $SECS; clients: $CLIENTS (place_order)," \
     "$SWEEP_CLIENTS (sweeper); settings: $(val "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name)
       FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_preload_libraries')")"
echo "== setup (1,000 SKUs, 1,000 accounts, 1,000 SKUs for the sweeper runs)"
psql -f $B/setup.sql >/dev/null
[ "$PROFILE" = 1 ] && psql -c "CREATE EXTENSION pg_stat_statements" >/dev/null

declare -A TPS FOREIGN
# pgrun KEY SCRIPT CLIENTS SECONDS TAG: one pgbench run; sets R_TPS, R_N
# (transactions) and R_FOREIGN; adds TPS and foreign CPU under KEY unless
# KEY is empty (warm-up). A failed run stops the benchmark.
pgrun() {
    local key=$1 script=$2 c=$3 secs=$4 tag=$5 log=$BENCH_OUT/run.log rc=0
    local TIMEFORMAT='%U %S'
    foreign_start
    { time "$PGBENCH" -n -M prepared -c "$c" -j 2 -T "$secs" -D run="$tag" -f "$script" \
        >"$log" 2>&1 || rc=$?; } 2>"$log.time"
    R_FOREIGN=$(foreign_end "$(awk '{print $1 + $2}' "$log.time")")
    R_TPS=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$log")
    R_N=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$log")
    if [ $rc -ne 0 ] || [ -z "$R_TPS" ] || grep -qiE "error|aborted" "$log"; then
        echo "pgbench failed: $script, $c clients (rc=$rc):"
        cat "$log"
        exit 1
    fi
    if [ -n "$key" ]; then
        TPS[$key]="${TPS[$key]:-} $R_TPS"
        local prev=${FOREIGN[$key]:-0}
        [ "$R_FOREIGN" -gt "$prev" ] && FOREIGN[$key]=$R_FOREIGN || FOREIGN[$key]=$prev
    fi
}
check_verify() {
    local v
    v=$(val "SELECT count(*) FROM order_credit.verify()")
    if [ "$v" != 0 ]; then
        echo "verify() FAILED after $1:"
        psql -c "SELECT * FROM order_credit.verify() LIMIT 20"
        exit 1
    fi
}

# ------------------------------------------------------------ place_order
ROWS_Q="SELECT (SELECT count(*) FROM order_credit.orders WHERE order_ref LIKE '%s-%%') || ' ' ||
               (SELECT count(*) FROM order_credit.order_history WHERE order_ref LIKE '%s-%%') || ' ' ||
               (SELECT count(*) FROM order_credit.reservations WHERE order_ref LIKE '%s-%%') || ' ' ||
               (SELECT count(*) FROM order_credit.holds WHERE order_ref LIKE '%s-%%') || ' ' ||
               (SELECT count(*) FROM order_credit.ledger WHERE order_ref LIKE '%s-%%')"
place_run() { # ext|plain clients round secs measured
    local s=$1 c=$2 round=$3 secs=$4 measured=$5 tag key=
    tag="p$round-$s-c$c-$RANDOM$RANDOM"
    [ "$measured" = 1 ] && key="$s $c"
    psql -c "CHECKPOINT" >/dev/null
    [ "$PROFILE" = 1 ] && val "SELECT pg_stat_statements_reset()" >/dev/null
    pgrun "$key" "$B/${s}_place.sql" "$c" "$secs" "$tag"
    if [ "$PROFILE" = 1 ] && [ "$measured" = 1 ]; then
        psql -c "SELECT calls, round(total_exec_time::numeric, 1) AS total_ms,
                        round(mean_exec_time::numeric, 3) AS mean_ms, toplevel AS top,
                        left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
                   FROM pg_stat_statements
                  WHERE query !~* '^(CHECKPOINT|SELECT pg_stat_statements_reset|SELECT \(SELECT count)'
                  ORDER BY total_exec_time DESC LIMIT 25"
    fi
    local rows
    if [ "$s" = plain ]; then
        # The plain statement writes the rows the contract requires, not the
        # extension's internal reservation_claims rows (that would make the
        # baseline do the extension's extra work). Add them here, outside the
        # timed run, so verify() stays meaningful for the ext rows after it.
        # (As place_order writes them: all units from bucket 0, parts NULL.)
        val "INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity)
             SELECT sku, coalesce(expires_at, 'infinity'), reservation_id, quantity
               FROM order_credit.reservations WHERE order_ref LIKE '$tag-%'" >/dev/null
    fi
    rows=$(val "$(printf "$ROWS_Q" "$tag" "$tag" "$tag" "$tag" "$tag")")
    # per order: 1 order row, 1 history row, 3 reservations, 1 hold, 1 ledger entry
    if [ "$rows" != "$R_N $R_N $((3 * R_N)) $R_N $R_N" ]; then
        echo "$s, $c clients: $R_N transactions but rows (orders history reservations holds ledger) = $rows"
        exit 1
    fi
    [ "$measured" = 1 ] && printf '   round %d  %-5s %3d clients  %10.1f tps  (%d orders, foreign CPU %s%%)\n' \
        "$round" "$s" "$c" "$R_TPS" "$R_N" "$R_FOREIGN"
    return 0
}

PARTS=${OC_BENCH_PARTS:-"place sweep"}
if [[ " $PARTS " == *" place "* ]]; then
echo "== place_order: warm-up (3 s each, not counted)"
place_run ext 8 0 3 0
place_run plain 8 0 3 0
echo "== place_order: measured runs (ext, plain, plain, ext)"
for c in $CLIENTS; do
    place_run ext "$c" 1 "$SECS" 1
    place_run plain "$c" 1 "$SECS" 1
    place_run plain "$c" 2 "$SECS" 1
    place_run ext "$c" 2 "$SECS" 1
done
check_verify "the place_order runs"
fi

# ------------------------------------------------------------ sweeper
if [[ " $PARTS " == *" sweep "* ]]; then
echo "== restart with the sweeper: shared_preload_libraries += order_credit, sweep_interval = 100ms"
spl=$(val "SHOW shared_preload_libraries")
bench_restart "shared_preload_libraries = '${spl:+$spl,}order_credit'" \
    "order_credit.database = '$PGDATABASE'" "order_credit.sweep_interval = '100ms'" \
    ${OC_BENCH_SWEEP_BATCH:+"order_credit.sweep_batch = $OC_BENCH_SWEEP_BATCH"} \
    ${OC_BENCH_SWEEP_NICE:+"order_credit.sweep_nice = $OC_BENCH_SWEEP_NICE"} \
    ${OC_BENCH_SWEEP_CHUNK:+"order_credit.sweep_chunk = $OC_BENCH_SWEEP_CHUNK"} \
    ${OC_BENCH_SWEEP_CONF:+"$OC_BENCH_SWEEP_CONF"}
for _ in $(seq 1 20); do
    n=$(val "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'
              AND datname = current_database()")
    [ "$n" = 1 ] && break
    sleep 0.5
done
[ "$n" = 1 ] || { echo "the sweeper is not running"; tail -20 "$BENCH_DIR/server.log"; exit 1; }
echo "   sweeper running: $(val "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)
    FROM pg_settings WHERE name IN ('shared_preload_libraries', 'order_credit.sweep_interval',
                                    'order_credit.sweep_batch', 'order_credit.sweep_chunk',
                                    'order_credit.sweep_nice', 'order_credit.database',
                                    'wal_compression', 'synchronous_commit')")"

LEAD=5   # seconds from the preload to the start of pgbench (preload and CHECKPOINT fit in)
sweep_run() { # with|without clients round
    local mode=$1 c=$2 round=$3 tag start go spread key="$1 $2"
    tag="sw$round-$mode-c$c-$RANDOM$RANDOM"
    start=$(( $(date +%s) + LEAD )) go=$start
    if [ "$mode" = with ]; then spread=$SECS; else start=$((start + 86400)) spread=0; fi
    psql -v tag="$tag" -v start="$start" -v spread="$spread" -f $B/sweep_preload.sql >/dev/null
    # The preload writes 100,000 rows in one statement, which no production
    # table does without autoanalyze catching up: analyze it (both modes) so
    # the sweeper's and the buyers' plans see the table as it is.
    psql -c "ANALYZE order_credit.reservations" -c "ANALYZE order_credit.reservation_claims" \
         -c "ANALYZE order_credit.stock_buckets" \
         -c "CHECKPOINT" -c "SELECT order_credit.stats_reset()" >/dev/null
    # pgbench starts when the first reservations fall due (same pause without)
    while [ "$(date +%s)" -lt "$go" ]; do sleep 0.1; done
    local t0 t1 wal0 wal_mb
    t0=$(val "SELECT clock_timestamp()")
    wal0=$(val "SELECT pg_current_wal_insert_lsn()")
    # What the buyers wait on: pg_stat_activity sampled every 0.2 s.
    ( while :; do
          psql -At -F ' ' -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
                                FROM pg_stat_activity
                               WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                                 AND state = 'active' AND query LIKE '%reserve_stock%'" 2>/dev/null
          sleep 0.2
      done >"$BENCH_OUT/waits" ) &
    local sampler=$!
    pgrun "$key" "$B/reserve.sql" "$c" "$SECS" "run-$tag"
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    t1=$(val "SELECT clock_timestamp()")
    wal_mb=$(val "SELECT round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$wal0') / 1048576.0, 1)")
    local waits
    waits=$(sort "$BENCH_OUT/waits" | uniq -c | sort -rn | head -4 |
            awk -v n="$(wc -l <"$BENCH_OUT/waits")" '{printf "%s%s %.0f%%", (NR > 1 ? ", " : ""), $2, 100 * $1 / n}')
    local stats due_before due_run swept_end
    read -r due_before due_run swept_end < <(val "
        SELECT count(*) FILTER (WHERE expires_at < '$t0') || ' ' ||
               count(*) FILTER (WHERE expires_at >= '$t0' AND expires_at <= '$t1') || ' ' ||
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM order_credit.reservation_claims c
                    WHERE c.sku = r.sku AND c.expires_at = coalesce(r.expires_at, 'infinity')
                      AND c.reservation_id = r.reservation_id))
          FROM order_credit.reservations r WHERE order_ref LIKE '$tag-%'")
    stats=$(val "SELECT coalesce(sum(calls), 0) || ' calls, ' || coalesce(round(sum(total_ms)), 0) || ' ms'
                   FROM order_credit.stats WHERE operation = 'expire_due'")
    local got
    got=$(val "SELECT count(*) FROM order_credit.reservations WHERE order_ref LIKE 'run-$tag-%'")
    [ "$got" = "$R_N" ] || { echo "$mode: $R_N transactions but $got reservations"; exit 1; }
    if [ "$mode" = with ]; then
        # every reservation due by now must end up swept (its claim deleted;
        # the reservation row keeps status 'active' and reads as expired).
        # Claims are looked up by their full key (the primary key): there is
        # no index on reservation_id alone.
        local left=1
        for _ in $(seq 1 120); do
            left=$(val "SELECT count(*) FROM order_credit.reservations r WHERE order_ref LIKE '$tag-%'
                         AND expires_at <= statement_timestamp()
                         AND EXISTS (SELECT 1 FROM order_credit.reservation_claims c
                                      WHERE c.sku = r.sku AND c.expires_at = r.expires_at
                                        AND c.reservation_id = r.reservation_id)")
            [ "$left" = 0 ] && break
            sleep 0.5
        done
        [ "$left" = 0 ] || { echo "sweeper: $left due reservations still counted 60 s after the run"; exit 1; }
        [ "$swept_end" -gt 0 ] || { echo "sweeper: nothing swept during the run"; exit 1; }
    elif [ "$swept_end" != 0 ]; then
        echo "without: $swept_end reservations expired that should be live"; exit 1
    fi
    check_verify "sweeper run $tag"
    printf '   round %d  %-7s %3d clients  %10.1f tps  (foreign CPU %s%%); preloaded 100000: due before start %s, during the run %s, swept (claim deleted) at the end %s; sweeper expire_due: %s; WAL %s MB\n            buyers (active reserve_stock backends, sampled every 0.2 s): %s\n' \
        "$round" "$mode" "$c" "$R_TPS" "$R_FOREIGN" "$due_before" "$due_run" "$swept_end" "$stats" "$wal_mb" "$waits"
}

echo "== reserve_stock with the sweeper (with, without, without, with)"
for c in $SWEEP_CLIENTS; do
    sweep_run with "$c" 1
    sweep_run without "$c" 1
    sweep_run without "$c" 2
    sweep_run with "$c" 2
done
fi
echo "   swept reservations in total (active, no claim left): $(val "SELECT count(*) FROM order_credit.reservations r
    WHERE status = 'active' AND NOT EXISTS (SELECT 1 FROM order_credit.reservation_claims c
                                             WHERE c.sku = r.sku
                                               AND c.expires_at = coalesce(r.expires_at, 'infinity')
                                               AND c.reservation_id = r.reservation_id)")"

# ------------------------------------------------------------ tables
echo
echo "== results (TPS: median of 2 runs of $SECS s; foreign CPU: worst run, % of all CPUs)"
printf '| %-7s | %-52s | %7s | %10s | %-13s | %11s |\n' scen "what" clients TPS runs "foreign CPU"
printf '|%s|%s|%s|%s|%s|%s|\n' --------- ------------------------------------------------------ --------- ------------ --------------- -------------
declare -A MED
desc_of() {
    case $1 in
    ext) echo "place_order, 3 SKUs of 1,000, credit, 1,000 accts" ;;
    plain) echo "plain SQL, same rows, one statement" ;;
    with) echo "reserve_stock, sweeper expiring 100,000" ;;
    without) echo "reserve_stock, sweeper idle (100,000 live)" ;;
    esac
}
row() { # scen clients
    local k="$1 $2" runs
    MED[$k]=$(echo "${TPS[$k]}" | median)
    runs=$(for t in ${TPS[$k]}; do printf '%.0f ' "$t"; done)
    printf '| %-7s | %-52s | %7d | %10.1f | %-13s | %10s%% |\n' "$1" "$(desc_of "$1")" "$2" \
        "${MED[$k]}" "${runs% }" "<=${FOREIGN[$k]}"
}
[[ " $PARTS " == *" place "* ]] || CLIENTS=
[[ " $PARTS " == *" sweep "* ]] || SWEEP_CLIENTS=
for c in $CLIENTS; do row ext "$c"; row plain "$c"; done
for c in $SWEEP_CLIENTS; do row with "$c"; row without "$c"; done
echo
echo "== ratios"
printf '| %-46s | %7s | %6s | %6s |\n' ratio clients value target
printf '|%s|%s|%s|%s|\n' ------------------------------------------------ --------- -------- --------
for c in $CLIENTS; do
    r=$(ratio "${MED["ext $c"]}" "${MED["plain $c"]}")
    printf '| %-46s | %7d | %6s | %6s |\n' "place_order / plain SQL" "$c" "$r" ">= 0.9"
    bench_target orders "place_order / plain SQL, $c clients" "$r" ">=" 0.9
done
for c in $SWEEP_CLIENTS; do
    r=$(ratio "${MED["with $c"]}" "${MED["without $c"]}")
    printf '| %-46s | %7d | %6s | %6s |\n' "reserve_stock, sweeper expiring / idle" "$c" "$r" ">= 0.8"
    bench_target orders "reserve_stock with sweeper expiring 100k / idle, $c clients" "$r" ">=" 0.8
done
echo "== done (verify(): no rows after every run)"
