#!/usr/bin/env bash
# Orders throughput (docs/benchmarks.md, "Orders"):
#
# 1. place_order with 3 distinct SKUs (out of 1,000) and credit on one of
#    1,000 accounts, against the same rows written by ONE plain SQL statement
#    (data-modifying CTEs on the extension's tables). Target >= 0.9x.
# 2. reserve_stock throughput in the seconds in which the background sweeper
#    (shared_preload_libraries = 'order_credit', sweep_interval = 100ms)
#    expires reservations falling due (100,000 / OC_BENCH_SECONDS per second)
#    against the idle seconds of the same run (see sweep_windows below).
#    Target >= 0.8x. The cluster is restarted with the preload for this part.
#
# place_order runs are interleaved as extension, plain, plain, extension;
# the table shows the median (of 2) and every run.
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
# (e.g. "wal_compression = lz4"), OC_BENCH_SWEEP_CYCLES the cycles of a
# sweeper run (OC_BENCH_SECONDS / 2, at least 2).
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
PGRUN_EXTRA=()
# pgrun KEY SCRIPT CLIENTS SECONDS TAG: one pgbench run; sets R_TPS, R_N
# (transactions) and R_FOREIGN; adds TPS and foreign CPU under KEY unless
# KEY is empty (warm-up). A failed run stops the benchmark.
pgrun() {
    local key=$1 script=$2 c=$3 secs=$4 tag=$5 log=$BENCH_OUT/run.log rc=0
    local TIMEFORMAT='%U %S'
    foreign_start
    { time "$PGBENCH" -n -M prepared -c "$c" -j 2 -T "$secs" -D run="$tag" "${PGRUN_EXTRA[@]}" -f "$script" \
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

# One pgbench run per client count, in cycles of PERIOD seconds: reservations
# fall due only in the first ON seconds of each cycle (the sweeping phase),
# at the rate of a 100,000-row preload falling due over one SECS-second run;
# the buyers' seconds inside the sweeping phases are compared with those
# inside the idle phases of the same run (per-second pgbench aggregates),
# because the machine's speed moves by up to a third between separate runs.
# A second counts for a phase when it lies wholly inside it, the phase's
# first second left out (the switch). An idle phase counts only if, one
# second into it, nothing due is left unswept (checked then: a sweeper
# behind would make the idle seconds sweeping ones).
LEAD=8   # seconds from the preload to the first cycle (preload, CHECKPOINT and WARM fit in)
PERIOD=6 ON=3 WARM=3
CYCLES=${OC_BENCH_SWEEP_CYCLES:-$((SECS / 2 > 2 ? SECS / 2 : 2))}
DUE_RATE=$((100000 / SECS))                       # reservations falling due per second of a sweeping phase
DUE_N=$(((DUE_RATE * ON * CYCLES + 999) / 1000 * 1000))   # a multiple of the 1,000 SKUs
declare -A SW_ON SW_OFF
sweep_windows() { # clients
    local c=$1 tag start
    tag="sw-c$c-$RANDOM$RANDOM"
    start=$(( $(date +%s) + LEAD ))
    psql -v tag="$tag" -v start="$start" -v cycles="$CYCLES" -v period="$PERIOD" -v on="$ON" \
         -v n="$DUE_N" -f $B/sweep_preload.sql >/dev/null
    # The preload writes its rows in one statement, which no production
    # table does without autoanalyze catching up: analyze it so the
    # sweeper's and the buyers' plans see the table as it is.
    psql -c "ANALYZE order_credit.reservations" -c "ANALYZE order_credit.reservation_claims" \
         -c "ANALYZE order_credit.stock_buckets" \
         -c "CHECKPOINT" -c "SELECT order_credit.stats_reset()" >/dev/null
    # pgbench starts WARM seconds before the first cycle (not counted: its
    # first second ran at two thirds of the speed of the rest)
    while [ "$(date +%s)" -lt $((start - WARM)) ]; do sleep 0.05; done
    local wal0
    wal0=$(val "SELECT pg_current_wal_insert_lsn()")
    # one second into each idle phase: due claims not yet swept
    ( for ((i = 0; i < CYCLES; i++)); do
          while [ "$(date +%s)" -lt $((start + i * PERIOD + ON + 1)) ]; do sleep 0.05; done
          echo "$i $(val "SELECT count(*) FROM order_credit.reservation_claims
                          WHERE sku LIKE 'sw-%' AND expires_at <= statement_timestamp()")"
      done >"$BENCH_OUT/backlog" ) &
    local checker=$!
    rm -f "$BENCH_OUT"/agg.*
    PGRUN_EXTRA=(-l --aggregate-interval=1 --log-prefix="$BENCH_OUT/agg")
    pgrun "" "$B/reserve.sql" "$c" $((WARM + CYCLES * PERIOD)) "run-$tag"
    PGRUN_EXTRA=()
    wait "$checker" || true
    local wal_mb stats
    wal_mb=$(val "SELECT round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$wal0') / 1048576.0, 1)")
    stats=$(val "SELECT coalesce(sum(calls), 0) || ' calls, ' || coalesce(round(sum(total_ms)), 0) || ' ms'
                   FROM order_credit.stats WHERE operation = 'expire_due'")
    local got
    got=$(val "SELECT count(*) FROM order_credit.reservations WHERE order_ref LIKE 'run-$tag-%'")
    [ "$got" = "$R_N" ] || { echo "sweeper run, $c clients: $R_N transactions but $got reservations"; exit 1; }
    # every preloaded reservation (all due by now) ends up swept: its claim
    # deleted, the reservation row keeps status 'active' and reads as
    # expired. Claims are looked up by their full key (the primary key).
    local left=1
    for _ in $(seq 1 120); do
        left=$(val "SELECT count(*) FROM order_credit.reservations r WHERE order_ref LIKE '$tag-%'
                     AND EXISTS (SELECT 1 FROM order_credit.reservation_claims c
                                  WHERE c.sku = r.sku AND c.expires_at = r.expires_at
                                    AND c.reservation_id = r.reservation_id)")
        [ "$left" = 0 ] && break
        sleep 0.5
    done
    [ "$left" = 0 ] || { echo "sweeper: $left due reservations still counted 60 s after the run"; exit 1; }
    # and none of the buyers' own (15 minutes) was expired
    local lost
    lost=$(val "SELECT count(*) FROM order_credit.reservations r WHERE order_ref LIKE 'run-$tag-%'
                 AND NOT EXISTS (SELECT 1 FROM order_credit.reservation_claims c
                                  WHERE c.sku = r.sku AND c.expires_at = r.expires_at
                                    AND c.reservation_id = r.reservation_id)")
    [ "$lost" = 0 ] || { echo "sweeper: $lost live reservations of the buyers lost their claim"; exit 1; }
    check_verify "sweeper run $tag"
    # per-second transactions (both pgbench threads) -> phases
    local res
    res=$(cat "$BENCH_OUT"/agg.* | awk -v start="$start" -v period="$PERIOD" -v on="$ON" \
              -v cycles="$CYCLES" -v backlog="$BENCH_OUT/backlog" '
        BEGIN { while ((getline l < backlog) > 0) { split(l, f, " "); late[f[1]] = (f[2] > 0) } }
        { n[$1] += $2 }
        END {
            for (t = start; t < start + cycles * period; t++) {
                i = int((t - start) / period); r = t - start - i * period
                if (r >= 1 && r < on) { son += n[t]; con++; ls = ls (ls == "" ? "" : ",") (n[t] + 0) }
                else if (r >= on + 1) {
                    if (late[i]) { skipped++; continue }
                    soff += n[t]; coff++; lf = lf (lf == "" ? "" : ",") (n[t] + 0)
                }
            }
            printf "%.1f %.1f %d %d %d %s %s\n", (con ? son / con : 0), (coff ? soff / coff : 0),
                   con, coff, skipped + 0, (ls == "" ? "-" : ls), (lf == "" ? "-" : lf)
        }')
    local on_tps off_tps n_on n_off skipped l_on l_off
    read -r on_tps off_tps n_on n_off skipped l_on l_off <<<"$res"
    SW_ON[$c]=$on_tps SW_OFF[$c]=$off_tps
    printf '   %3d clients: %d cycles of %d s (due in the first %d s of each: %s reservations, %d/s), %.1f tps overall (foreign CPU %s%%)\n' \
        "$c" "$CYCLES" "$PERIOD" "$ON" "$DUE_N" "$DUE_RATE" "$R_TPS" "$R_FOREIGN"
    printf '       seconds sweeping: %s (avg %s); idle: %s (avg %s); idle seconds left out (sweeper behind): %s\n' \
        "$l_on" "$on_tps" "$l_off" "$off_tps" "$skipped"
    printf '       due left unswept 1 s into each idle phase: %s; sweeper expire_due: %s; WAL %s MB\n' \
        "$(awk '{printf "%s%s", (NR > 1 ? " " : ""), $2}' "$BENCH_OUT/backlog")" "$stats" "$wal_mb"
    [ "$n_on" -gt 0 ] && [ "$n_off" -gt 0 ] || { echo "sweeper run, $c clients: no second in a phase"; exit 1; }
}

echo "== reserve_stock while the sweeper expires (one run per client count, sweeping and idle phases)"
for c in $SWEEP_CLIENTS; do
    sweep_windows "$c"
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
for c in $SWEEP_CLIENTS; do
    printf '| %-7s | %-52s | %7d | %10.1f | %-13s | %11s |\n' sweep "reserve_stock, seconds the sweeper expires $DUE_RATE/s" \
        "$c" "${SW_ON[$c]}" "(1 run)" "-"
    printf '| %-7s | %-52s | %7d | %10.1f | %-13s | %11s |\n' idle "reserve_stock, idle seconds of the same run" \
        "$c" "${SW_OFF[$c]}" "(1 run)" "-"
done
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
    r=$(ratio "${SW_ON[$c]}" "${SW_OFF[$c]}")
    printf '| %-46s | %7d | %6s | %6s |\n' "reserve_stock, sweeper expiring / idle seconds" "$c" "$r" ">= 0.8"
    bench_target orders "reserve_stock, seconds the sweeper expires / idle seconds, $c clients" "$r" ">=" 0.8
done
echo "== done (verify(): no rows after every run)"
