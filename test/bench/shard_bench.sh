#!/usr/bin/env bash
# Sharded throughput (not a test): the cost of order_credit_proxy per call.
# One cluster holds four shard databases and a proxy database (the layout of
# docs/scaling-out.md). For reserve_credit and place_order, at 8 and 32
# clients, in the same run and interleaved:
#   direct   pgbench connected to shard 0, on the keys of 8 tenants of shard 0
#   proxy    the same keys, the same script, connected to the proxy (every
#            call goes to shard 0 through it)
#   spread   through the proxy, 8 tenants on each of the 4 shards (all four
#            on this machine: shows the proxy fanning out, not a scale-out)
# The target: proxy >= 0.7 x direct (proxy and shards share this machine's
# CPUs). Printed with a check mark or a cross; docs/scaling-out.md has the
# table and what 4 and 16 shards on machines of their own would carry.
#
#   test/bench/shard_bench.sh
#
# Environment: BENCH_SECONDS (10) per run, BENCH_ROUNDS (2, median shown),
# BENCH_CLIENTS ("8 32"), BENCH_PORT (55623).
#
# Builds with -Werror, installs and runs while holding /tmp/order_credit.lock.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
ROUNDS=${BENCH_ROUNDS:-2}
CLIENTS=${OC_BENCH_CLIENTS:-${BENCH_CLIENTS:-"8 32"}}
. test/bench/lib.sh

CONF=("fsync = on" "synchronous_commit = on" "full_page_writes = on"
      "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_locks_per_transaction = 256")
bench_cluster shard 55623 "${CONF[@]}"
OUT=$BENCH_OUT

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo);" \
     "pgbench -n -M simple -j 2 -T $SECS, clients: $CLIENTS, rounds: $ROUNDS (median shown)"

echo "== setup: 4 shards, a proxy, 8 tenants per shard (125 accounts and 100 items each)"
for i in 0 1 2 3; do
    psql -d postgres -c "DROP DATABASE IF EXISTS oc_bench_shard_s$i" -c "CREATE DATABASE oc_bench_shard_s$i" >/dev/null
    psql -d oc_bench_shard_s$i -c "CREATE EXTENSION order_credit" >/dev/null
done
psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION order_credit_proxy CASCADE" \
    -c "CREATE SERVER order_credit_shards FOREIGN DATA WRAPPER plproxy OPTIONS (
            p0 'host=$PGHOST port=$PGPORT dbname=oc_bench_shard_s0',
            p1 'host=$PGHOST port=$PGPORT dbname=oc_bench_shard_s1',
            p2 'host=$PGHOST port=$PGPORT dbname=oc_bench_shard_s2',
            p3 'host=$PGHOST port=$PGPORT dbname=oc_bench_shard_s3')" \
    -c "CREATE USER MAPPING FOR PUBLIC SERVER order_credit_shards OPTIONS (user 'postgres')" \
    -c "SELECT count(*) FROM order_credit_proxy.setup_shards()" >/dev/null
tenants() { # SHARD: 8 tenant names routed to SHARD, as a SQL array literal
    val "SELECT 'ARRAY[' || string_agg(quote_literal(t), ',') || ']' FROM (
           SELECT 'b' || g AS t FROM generate_series(1, 1000) g
            WHERE order_credit_proxy.shard_of_tenant('b' || g) & 3 = $1 ORDER BY g LIMIT 8) x"
}
T0=$(tenants 0)
ALL=$(val "SELECT 'ARRAY[' || string_agg(quote_literal(t), ',') || ']' FROM (
             SELECT 'b' || g AS t, row_number() OVER (PARTITION BY order_credit_proxy.shard_of_tenant('b' || g) & 3
                                                      ORDER BY g) AS k
               FROM generate_series(1, 1000) g) x WHERE k <= 8")
# Accounts and items of every tenant, created through the proxy.
val "SELECT count(*) FROM unnest($ALL) t, generate_series(1, 125) a,
            order_credit.create_account(t || ':acc' || a, 1e15)" >/dev/null
val "SELECT count(*) FROM unnest($ALL) t, generate_series(1, 100) s,
            order_credit.set_stock(t || ':sku' || s, 1000000000)" >/dev/null
psql -d postgres -c "CHECKPOINT" >/dev/null

script() { # WORKLOAD TENANTS-ARRAY NTENANTS: a pgbench script
    local tn="($2)[:t::int]"
    echo "\\set t random(1, $3)"
    echo "\\set a random(1, 125)"
    echo "\\set s random(1, 100)"
    echo "\\set r random(1, 1000000000)"
    case $1 in
    reserve_credit)
        echo "SELECT hold_id FROM order_credit.reserve_credit($tn || ':acc' || :a::text, 1, $tn || ':hold' || :client_id::text || '-' || :r::text, NULL);" ;;
    place_order)
        echo "SELECT status FROM order_credit.place_order($tn || ':ord' || :client_id::text || '-' || :r::text,
                  ('[{\"sku\": \"' || $tn || ':sku' || :s::text || '\", \"quantity\": 1, \"unit_price\": 1}]')::jsonb,
                  $tn || ':acc' || :a::text, NULL);" ;;
    esac
}
declare -A R
for w in reserve_credit place_order; do
    script $w "$T0" 8 >"$OUT/$w.single.sql"
    script $w "$ALL" 32 >"$OUT/$w.spread.sql"
done
run() { # WORKLOAD MODE CLIENTS: tps
    local db=oc_bench_shard file=$OUT/$1.single.sql log=$OUT/$1.$2.$3.log
    [ "$2" = direct ] && db=oc_bench_shard_s0
    [ "$2" = spread ] && file=$OUT/$1.spread.sql
    "$PGBENCH" -n -M simple -j 2 -c "$3" -T "$SECS" -f "$file" "$db" >"$log" 2>&1 || { cat "$log"; exit 1; }
    grep -q "number of failed transactions: 0 " "$log" || { cat "$log"; exit 1; }
    awk '/^tps = / {printf "%.0f", $3}' "$log"
}
for round in $(seq 1 "$ROUNDS"); do
    for w in reserve_credit place_order; do
        for c in $CLIENTS; do
            for m in direct proxy spread; do
                tps=$(run $w $m $c)
                R[$w.$m.$c]="${R[$w.$m.$c]:-} $tps"
                echo "round $round: $w, $m, $c clients: $tps tps"
                psql -d postgres -c "CHECKPOINT" >/dev/null
            done
        done
    done
done

echo
echo "== results (tps, median of $ROUNDS)"
printf '%-15s %7s %9s %9s %9s %8s\n' workload clients direct proxy spread "proxy/direct"
for w in reserve_credit place_order; do
    for c in $CLIENTS; do
        d=$(echo "${R[$w.direct.$c]}" | median) p=$(echo "${R[$w.proxy.$c]}" | median)
        s=$(echo "${R[$w.spread.$c]}" | median) r=$(ratio "$p" "$d")
        mark=$(awk -v r="$r" 'BEGIN { print (r >= 0.7 ? "✓" : "✗") }')
        printf '%-15s %7s %9s %9s %9s %8s %s (target >= 0.70)\n' $w $c "$d" "$p" "$s" "$r" "$mark"
        # On paper: shards on machines of their own, tenants spread evenly,
        # proxies added as needed (they keep no state): N x one shard's direct rate.
        echo "                on paper: 4 shards $((4 * ${d%.*})) tps, 16 shards $((16 * ${d%.*})) tps"
    done
done
oc_v=$(val "SELECT count(*) FROM order_credit.verify()")
echo "verify() over the 4 shards after the runs: $oc_v rows"
