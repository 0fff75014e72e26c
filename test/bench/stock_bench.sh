#!/usr/bin/env bash
# Stock throughput: reserve_stock on a hot SKU striped over 8 buckets against
# the same extension on distinct SKUs (how much of the contention the
# striping hides) and against the single-row plain-SQL reservation; distinct
# SKUs against plain SQL; expire_due over 1,000,000 expired reservations
# (rows/s) and reserve throughput while it runs. See docs/stock.md.
#
# Environment: BENCH_SECONDS (10), BENCH_CLIENTS (32), BENCH_PORT (55504),
# BENCH_ROUNDS (4): the hot-SKU scenarios run as rounds of three runs
# (striped hot SKU, the extension on distinct SKUs, plain single row, then
# the reverse order in the next round), the distinct-SKU pair ABBA
# (ext, plain, plain, ext, ...); each round gives its ratios and the table
# shows their median (all rounds listed; the machine's speed moves by up to a
# third between 8 s runs, hence 4 rounds). The buyers beside expire_due are
# compared within one run (see below).
# OC_BENCH_SECONDS overrides BENCH_SECONDS. Alone it holds
# /tmp/order_credit.lock for the whole run (own throwaway cluster); under
# test/bench/run_all.sh it uses the shared cluster (lib.sh). Exits non-zero
# when a run fails or verify() finds violations, not for a missed target.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
CLIENTS=${BENCH_CLIENTS:-32}
ROUNDS=${BENCH_ROUNDS:-4}
B=test/bench/stock
. test/bench/lib.sh
bench_cluster stock 55504 "fsync = on" "synchronous_commit = on" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_locks_per_transaction = 256"
echo "machine: $(nproc) CPUs; pgbench -n -M prepared -c $CLIENTS -j 2 -T $SECS; fsync on, synchronous_commit on"
psql -f $B/setup.sql >/dev/null

tps() { # script [tag] -> tps (a failed pgbench run stops the benchmark); with a
        # tag, the buyers' wait events of the run's middle go to bench_waits
    local log=$BENCH_OUT/pgbench.log t sampler=""
    psql -c "CHECKPOINT" >/dev/null
    if [ -n "${2:-}" ]; then
        (sleep 1; psql -c "CALL bench_sample_waits('$2', $SECS - 2)" >/dev/null) &
        sampler=$!
    fi
    "$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$1" >"$log" 2>&1 ||
        { cat "$log" >&2; exit 1; }
    if [ -n "$sampler" ]; then wait "$sampler"; fi
    t=$(awk '/^tps/ {printf "%.0f", $3}' "$log")
    if [ -z "$t" ] || grep -qiE "error|aborted" "$log"; then cat "$log" >&2; exit 1; fi
    echo "$t"
}

median() { printf "%s\n" "$@" | sort -n | awk '{v[NR] = $1} END {printf "%.0f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
median_ratio() { printf "%s\n" "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
pair() { # ext_script plain_script -> "ext_runs|plain_runs", ABBA order
    local e=() p=() r
    for ((r = 0; r < ROUNDS; r++)); do
        if ((r % 2 == 0)); then e+=("$(tps "$1")"); p+=("$(tps "$2")")
        else p+=("$(tps "$2")"); e+=("$(tps "$1")"); fi
    done
    echo "${e[*]}|${p[*]}"
}
# Without the flush: the same call with synchronous_commit = off (the
# transaction's own setting), so a bucket's row lock ends when the commit
# is written, not when it is on disk.
tps_nf() { PGOPTIONS="-c synchronous_commit=off" tps "$@"; }
# The hot SKU at 32 clients against the extension on distinct SKUs (the
# same calls without contention) and against the plain single row, one
# round after another: striped hot, distinct, plain, then plain, distinct,
# striped hot. Each round's ratios come from runs seconds apart. Each round
# also runs the hot SKU over 32 buckets (reference, no target: as many
# buckets as clients). In the last round the buyers' wait events are
# sampled every 10 ms (bench_sample_waits in setup.sql). Each round ends
# with the hot SKU and distinct SKUs without the flush (tps_nf): a bucket
# is held until its commit record is on disk, so with durable commits at
# most 8 reservations of the SKU are committing at once while distinct
# SKUs have 32; without the flush the ratio is the lock contention alone,
# and that is the target (hot / distinct >= 0.8); the durable ratio is
# printed beside it.
hot_e=() hot_d=() hot_p=() hot_m=() r_hd=() r_hp=() r_md=() r_nf=()
for ((r = 0; r < ROUNDS; r++)); do
    w=""; if ((r == ROUNDS - 1)); then w=1; fi  # sample the last round
    if ((r % 2 == 0)); then
        e=$(tps $B/ext_hot.sql ${w:+hot8}); m=$(tps $B/ext_hot32.sql)
        d=$(tps $B/ext_distinct.sql ${w:+distinct}); p=$(tps $B/plain_hot.sql ${w:+plain})
    else
        p=$(tps $B/plain_hot.sql ${w:+plain}); d=$(tps $B/ext_distinct.sql ${w:+distinct})
        m=$(tps $B/ext_hot32.sql); e=$(tps $B/ext_hot.sql ${w:+hot8})
    fi
    if ((r % 2 == 0)); then ne=$(tps_nf $B/ext_hot.sql); nd=$(tps_nf $B/ext_distinct.sql)
    else nd=$(tps_nf $B/ext_distinct.sql); ne=$(tps_nf $B/ext_hot.sql); fi
    hot_e+=("$e") hot_d+=("$d") hot_p+=("$p") hot_m+=("$m")
    r_hd+=("$(ratio "$e" "$d")") r_hp+=("$(ratio "$e" "$p")") r_md+=("$(ratio "$m" "$d")")
    r_nf+=("$(ratio "$ne" "$nd")")
    echo "hot round $((r + 1)): hot SKU (8 buckets) $e, distinct SKUs $d, plain single row $p," \
         "hot SKU (32 buckets) $m tps; hot / distinct ${r_hd[-1]}, hot / plain ${r_hp[-1]}," \
         "32 buckets / distinct ${r_md[-1]}; without the flush: hot $ne, distinct $nd," \
         "hot / distinct ${r_nf[-1]}  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
done
hot_ext=$(median "${hot_e[@]}"); hot_dist=$(median "${hot_d[@]}"); hot_plain=$(median "${hot_p[@]}")
hot_m32=$(median "${hot_m[@]}")
nf_ratio=$(median_ratio "${r_nf[@]}")
hd_ratio=$(median_ratio "${r_hd[@]}"); hp_ratio=$(median_ratio "${r_hp[@]}"); md_ratio=$(median_ratio "${r_md[@]}")
echo "wait events of the buyers in the last round (backends per 10 ms sample, $CLIENTS clients):"
val "SELECT string_agg(format('%s: %s', tag, evs), E'\n' ORDER BY tag)
       FROM (SELECT tag, string_agg(format('%s %s', ev, round(k::numeric / s, 1)), ', ' ORDER BY k DESC) AS evs
               FROM (SELECT tag, ev, count(*) AS k, (SELECT count(DISTINCT n) FROM bench_waits w2 WHERE w2.tag = w.tag) AS s
                       FROM bench_waits w GROUP BY tag, ev) x
              WHERE k::numeric / s >= 0.1 GROUP BY tag) y"
# How evenly the buyers spread over the 8 buckets (one unit per reservation).
echo "hot SKU (8 buckets), reserved units per bucket: $(val "SELECT string_agg(reserved::text, ' ' ORDER BY bucket)
                                                             FROM order_credit.stock_buckets WHERE sku = 'hot'")"
# Reference (no target): the hand-written SKIP LOCKED statement over 8 plain
# bucket rows, with the reservations it really made (a transaction that
# found every bucket busy reserves nothing but still counts as one).
ref_rows() { val "SELECT count(*) FROM plain_res WHERE order_ref LIKE 'k%'"; }
r0=$(ref_rows); skip_tps=$(tps $B/skip_hot.sql); r1=$(ref_rows)
skip_res=$(awk -v n=$((r1 - r0)) -v s="$SECS" 'BEGIN {printf "%.0f", n / s}')
hot_tx=$(val "SELECT count(*) FROM order_credit.reservations WHERE sku = 'hot'")
# The hot runs leave ~100,000 new rows in each schema's tables; vacuum them
# now rather than let autovacuum do it during the first distinct run (that
# run was the slow one of its pair in every run before this line).
psql -c "VACUUM ANALYZE" >/dev/null
dist=$(pair $B/ext_distinct.sql $B/plain_distinct.sql)
dist_ext=$(median ${dist%|*}); dist_plain=$(median ${dist#*|})
echo "distinct runs: reserve_stock ${dist%|*}; plain ${dist#*|}  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
# What each side keeps per reservation at this point (tables and indexes)
# against shared_buffers: when the extension's side outgrows it, its
# backends write out evicted pages (lib.sh, bench_shared_buffers).
echo "data after the reserve runs (shared_buffers $(val "SHOW shared_buffers")):" \
     "$(val "SELECT format('extension %s MB for %s reservations (%s bytes each), plain %s MB for %s (%s bytes each)',
                  e / 1048576, en, e / greatest(en, 1), p / 1048576, pn, p / greatest(pn, 1))
             FROM (SELECT pg_total_relation_size('order_credit.reservations')
                          + pg_total_relation_size('order_credit.reservation_claims') AS e,
                          (SELECT count(*) FROM order_credit.reservations) AS en,
                          pg_total_relation_size('plain_res') AS p,
                          (SELECT count(*) FROM plain_res) AS pn) x")"

echo "== expire_due on 1,000,000 expired reservations, alone and unpaced"
psql -v prefix=e -f $B/expired.sql >/dev/null
psql -c "CHECKPOINT" >/dev/null
# What the sweep can do on an idle server: one session calling
# expire_due(10000) with a COMMIT after each call (bench_expire_all in
# setup.sql), order_credit.expire_max_rate = 0 (no pacing). One session,
# not a psql process per call: on 2 CPUs each psql costs ~25 ms of client
# CPU, which would compete with the buyers as much as the sweep does.
start=$(date +%s.%N)
total=$(PGOPTIONS="-c order_credit.expire_max_rate=0" psql -At -c "CALL bench_expire_all()")
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
rate=$(awk -v n="$total" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
# due units still counted: expired reservations keep status 'active' (expire_due
# deletes their claims instead of updating them)
left=$(psql -At -c "SELECT count(*) FROM order_credit.reservation_claims WHERE sku LIKE 'e%'")
viol=$(psql -At -c "SELECT count(*) FROM order_credit.verify()")

echo "== reserve throughput while expire_due sweeps 1,000,000 expired reservations"
# Buyers (ext_distinct.sql) run throughout; one session sweeps 1,000,000 due
# claims in cycles of 3 s sweeping and 3 s idle, on whole seconds of the
# clock (bench_expire_windows in setup.sql), until none are left. The
# buyers' seconds inside the sweeping phases are compared with those inside
# the idle phases of the same run (windows.sql): the machine's speed moves
# by a third from one run to the next, and a separate baseline run would
# measure that, and a sweep that ends early in an 8 s run would dilute
# "while it runs".
# Measured twice: at the defaults (expire_max_rate = 75,000 rows/s: the
# targets) and unpaced (no target: what a sweep at full speed costs them).
# The rate is the rows swept in the cycles over the seconds spent sweeping.
windows() { # label max_cycles [PGOPTIONS] -> windows.sql's line
    local label=$1 cycles=$2 opts=${3:-}
    psql -v prefix="$label" -f $B/expired.sql >/dev/null
    psql -c "CHECKPOINT" >/dev/null
    rm -f "$BENCH_OUT"/agg.*
    "$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 -T $((cycles * 6 + 3)) -l --aggregate-interval=1 \
        --log-prefix="$BENCH_OUT/agg" -f $B/ext_distinct.sql >"$BENCH_OUT/pgbench.log" 2>&1 &
    local bench=$!
    PGOPTIONS="$opts" psql -c "CALL bench_expire_windows('$label', $cycles, 3, 3, 10000)" >/dev/null
    wait $bench || { cat "$BENCH_OUT/pgbench.log" >&2; exit 1; }
    if grep -qiE "error|aborted" "$BENCH_OUT/pgbench.log"; then cat "$BENCH_OUT/pgbench.log" >&2; exit 1; fi
    cat "$BENCH_OUT"/agg.* | awk -v l="$label" '{print l "\t" $1 "\t" $2}' | psql -c "\copy bench_agg FROM STDIN"
    psql -At -v label="$label" -f $B/windows.sql
    # what the cycles left (a machine too slow for the pace) is swept now,
    # outside the windows, so that verify() below sees the end state
    PGOPTIONS="-c order_credit.expire_max_rate=0" psql -At -c "CALL bench_expire_all()" >/dev/null
}
max_rate=$(psql -At -c "LOAD 'order_credit'" -c "SHOW order_credit.expire_max_rate")
# enough cycles for 1,000,000 at the pace, and one more
paced=$(windows w1 $((max_rate > 0 ? 1000000 / (max_rate * 3) + 2 : 3)))
unpaced=$(windows w2 3 "-c order_credit.expire_max_rate=0")
read -r p_on p_off p_son p_soff p_rows p_busy p_runs <<<"${paced% / *}"
read -r u_on u_off u_son u_soff u_rows u_busy u_runs <<<"${unpaced% / *}"
p_rate=$(awk -v n="$p_rows" -v s="$p_busy" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')
u_rate=$(awk -v n="$u_rows" -v s="$u_busy" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')
echo "paced (expire_max_rate = $max_rate): $p_rows rows in ${p_busy}s of sweeping; buyers' tps per second sweeping $p_runs, idle ${paced##* / }"
echo "unpaced: $u_rows rows in ${u_busy}s of sweeping; buyers' tps per second sweeping $u_runs, idle ${unpaced##* / }"
left2=$(psql -At -c "SELECT count(*) FROM order_credit.reservation_claims WHERE sku LIKE 'w%'")
viol2=$(psql -At -c "SELECT count(*) FROM order_credit.verify()")

echo
printf "%-44s %10s %8s %s\n" scenario tps ratio target
printf "%-44s %10s\n" "hot SKU, plain SQL single row" "$hot_plain"
printf "%-44s %10s\n" "reserve_stock on distinct SKUs (hot rounds)" "$hot_dist"
printf "%-44s %10s %8s %s\n" "hot SKU, reserve_stock over 8 buckets" "$hot_ext" "" "(ratios: medians of the rounds')"
printf "%-44s %10s %8s %s\n" "  ... / reserve_stock on distinct SKUs" "" "$nf_ratio" ">= 0.8 without the flush (rounds: ${r_nf[*]})"
printf "%-44s %10s %8s %s\n" "  ... the same, durable commits" "" "$hd_ratio" "(no target: 8 commits in flight against 32; rounds: ${r_hd[*]})"
printf "%-44s %10s %8s %s\n" "  ... / plain single row" "" "$hp_ratio" ">= 3 (rounds: ${r_hp[*]})"
printf "%-44s %10s %8s %s\n" "  reference: hot SKU over 32 buckets" "$hot_m32" "$md_ratio" "(no target; / distinct, rounds: ${r_md[*]})"
printf "%-44s %10s %8s %s\n" "  reference: hand-written SKIP LOCKED, tps" "$skip_tps" "$(ratio $skip_tps $hot_plain)" "(no target)"
printf "%-44s %10s %8s %s\n" "  ... reservations it made per second" "$skip_res" "$(ratio $skip_res $hot_plain)" "(every reserve_stock call reserves: $hot_tx rows for the hot SKU)"
printf "%-44s %10s\n" "distinct SKUs, plain SQL" "$dist_plain"
printf "%-44s %10s %8s %s\n" "distinct SKUs, reserve_stock" "$dist_ext" "$(ratio $dist_ext $dist_plain)" ">= 0.9"
printf "%-44s %10s %8s %s\n" "distinct SKUs beside expire_due, idle seconds" "$p_off" "" "($p_soff s)"
printf "%-44s %10s %8s %s\n" "  ... sweeping seconds (paced, default)" "$p_on" "$(ratio $p_on $p_off)" ">= 0.8 ($p_son s)"
printf "%-44s %10s %8s %s\n" "  ... unpaced: idle seconds" "$u_off" "" "($u_soff s)"
printf "%-44s %10s %8s %s\n" "  ... unpaced: sweeping seconds" "$u_on" "$(ratio $u_on $u_off)" "(no target; $u_son s)"
echo "expire_due beside the buyers, paced (default): $p_rows rows in ${p_busy}s = $p_rate rows/s (target >= 50000)"
echo "expire_due beside the buyers, unpaced: $u_rows rows in ${u_busy}s = $u_rate rows/s (no target)"
echo "expire_due alone, unpaced: $total rows in ${secs}s = $rate rows/s (no target); active left: $left, $left2"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "verify(): $viol violations after the sweep, $viol2 after the concurrent runs"
bench_target stock "hot SKU (8 buckets, $CLIENTS clients) / reserve_stock distinct SKUs, without the flush" "$nf_ratio" ">=" 0.8
bench_target stock "hot SKU (8 buckets, $CLIENTS clients) / plain single row" "$hp_ratio" ">=" 3
bench_target stock "distinct SKUs: reserve_stock / plain SQL" "$(ratio $dist_ext $dist_plain)" ">=" 0.9
bench_target stock "distinct SKUs: reserve_stock while expire_due sweeps / idle seconds" "$(ratio $p_on $p_off)" ">=" 0.8
bench_target stock "expire_due rows/s beside the buyers (1,000,000 expired)" "$p_rate" ">=" 50000
if [ "$viol" != 0 ] || [ "$viol2" != 0 ] || [ "$left" != 0 ] || [ "$left2" != 0 ]; then
    echo "FAILED: verify() violations or expired reservations still counted (claims left)"
    exit 1
fi
