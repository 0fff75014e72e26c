#!/usr/bin/env bash
# Sharded throughput (not a test): the cost of order_credit_proxy per call,
# and where it goes. One cluster holds four shard databases and a proxy
# database (the layout of docs/scaling-out.md). For reserve_credit and
# place_order, at 8 and 32 clients, in the same run and interleaved:
#   direct   pgbench connected to shard 0, on the keys of 8 tenants of shard 0
#   bare     connected to the proxy, a PL/Proxy function with a constant
#            RUN ON 0 and no guard (the PL/Proxy call alone)
#   routed   + the routing: order_credit_proxy.NAME (RUN ON route(...))
#   proxy    + the guard: order_credit.NAME, what applications call (every
#            call goes to shard 0 through it)
#   spread   through the proxy, 8 tenants on each of the 4 shards (all four
#            on this machine: shows the proxy fanning out, not a scale-out)
# For each run: tps, and the CPU the cluster (all its backends: the proxy's
# and the shards') spent per call, in microseconds; the differences between
# the layers are what each layer costs. The target: proxy >= 0.7 x direct
# (proxy and shards share this machine's CPUs). Printed with a check mark or
# a cross; docs/scaling-out.md has the table and what 4 and 16 shards on
# machines of their own would carry.
#
#   test/bench/shard_bench.sh
#
# Environment: BENCH_SECONDS (10) per run, BENCH_ROUNDS (2, median shown),
# BENCH_CLIENTS ("8 32"), BENCH_PORT (55623), BENCH_PROTOCOL (prepared;
# simple or extended: pgbench -M), BENCH_MODES ("direct bare routed proxy
# spread").
#
# Builds with -Werror, installs and runs while holding /tmp/order_credit.lock.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-${BENCH_SECONDS:-10}}
ROUNDS=${BENCH_ROUNDS:-2}
CLIENTS=${OC_BENCH_CLIENTS:-${BENCH_CLIENTS:-"8 32"}}
PROTOCOL=${BENCH_PROTOCOL:-prepared}
MODES=${BENCH_MODES:-"direct bare routed proxy spread"}
. test/bench/lib.sh

CONF=("fsync = on" "synchronous_commit = on" "full_page_writes = on"
      "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_locks_per_transaction = 256")
bench_cluster shard 55623 "${CONF[@]}"
OUT=$BENCH_OUT

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo);" \
     "pgbench -n -M $PROTOCOL -j 2 -T $SECS, clients: $CLIENTS, rounds: $ROUNDS (median shown)"

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
# bare: the PL/Proxy call alone, on shard 0, without routing or guard.
psql -c "CREATE SCHEMA bench" \
    -c "CREATE FUNCTION bench.reserve_credit(account text, amount numeric, order_ref text, expires_in interval)
            RETURNS order_credit.credit_hold LANGUAGE plproxy
            AS \$\$ CLUSTER 'order_credit_shards'; RUN ON 0; TARGET order_credit.reserve_credit; \$\$" \
    -c "CREATE FUNCTION bench.place_order(order_ref text, items jsonb, account text, expires_in interval)
            RETURNS order_credit.order_status LANGUAGE plproxy
            AS \$\$ CLUSTER 'order_credit_shards'; RUN ON 0; TARGET order_credit.place_order; \$\$" >/dev/null
tenants() { # SHARD: the key prefixes ('b2:') of 8 tenants routed to SHARD, as a SQL array literal
    val "SELECT 'ARRAY[' || string_agg(quote_literal(t || ':'), ',') || ']' FROM (
           SELECT 'b' || g AS t FROM generate_series(1, 1000) g
            WHERE order_credit_proxy.shard_of_tenant('b' || g) & 3 = $1 ORDER BY g LIMIT 8) x"
}
T0=$(tenants 0)
ALL=$(val "SELECT 'ARRAY[' || string_agg(quote_literal(t || ':'), ',') || ']' FROM (
             SELECT 'b' || g AS t, row_number() OVER (PARTITION BY order_credit_proxy.shard_of_tenant('b' || g) & 3
                                                      ORDER BY g) AS k
               FROM generate_series(1, 1000) g) x WHERE k <= 8")
# Accounts and items of every tenant, created through the proxy.
val "SELECT count(*) FROM unnest($ALL) t, generate_series(1, 125) a,
            order_credit.create_account(t || 'acc' || a, 1e15)" >/dev/null
val "SELECT count(*) FROM unnest($ALL) t, generate_series(1, 100) s,
            order_credit.set_stock(t || 'sku' || s, 1000000000)" >/dev/null
psql -d postgres -c "CHECKPOINT" >/dev/null

# script WORKLOAD FUNCTION TENANTS-ARRAY NTENANTS: a pgbench script. No
# ":name" inside its string literals: pgbench -M prepared takes each for a
# variable (a parameter of the statement), even there. Handles carry the
# run (-D run=...) and a random number up to 10^15: one reused with other
# arguments would be refused (OC005) and end the run.
script() {
    local tn="($3)[:t]"
    echo "\\set t random(1, $4)"
    echo "\\set a random(1, 125)"
    echo "\\set s random(1, 100)"
    echo "\\set r random(1, 1000000000000000)"
    case $1 in
    reserve_credit)
        echo "SELECT hold_id FROM $2($tn || 'acc' || :a, 1, $tn || 'hold' || :run || '-' || :client_id || '-' || :r, NULL);" ;;
    place_order)
        echo "SELECT status FROM $2($tn || 'ord' || :run || '-' || :client_id || '-' || :r,
                  ('[{\"sku\": \"' || $tn || 'sku' || :s || '\", \"quantity\": 1, \"unit_price\": 1}]')::jsonb,
                  $tn || 'acc' || :a, NULL);" ;;
    esac
}
declare -A R C
for w in reserve_credit place_order; do
    script $w order_credit.$w "$T0" 8 >"$OUT/$w.direct.sql"
    script $w bench.$w "$T0" 8 >"$OUT/$w.bare.sql"
    script $w order_credit_proxy.$w "$T0" 8 >"$OUT/$w.routed.sql"
    script $w order_credit.$w "$T0" 8 >"$OUT/$w.proxy.sql"
    script $w order_credit.$w "$ALL" 32 >"$OUT/$w.spread.sql"
done
run() { # WORKLOAD MODE CLIENTS ROUND: "tps cpu-us-per-call"
    local db=oc_bench_shard log=$OUT/$1.$2.$3.log c0 c1 n
    [ "$2" = direct ] && db=oc_bench_shard_s0
    c0=$(cluster_ticks)
    "$PGBENCH" -n -M "$PROTOCOL" -j 2 -c "$3" -T "$SECS" -D run="$2$3r$4" -f "$OUT/$1.$2.sql" "$db" >"$log" 2>&1 || { cat "$log"; exit 1; }
    # the run's backends exit after pgbench: wait until they are reaped
    for i in $(seq 1 60); do [ "$(kids)" -le "$K0" ] && break; sleep 0.05; done
    c1=$(cluster_ticks)
    grep -q "number of failed transactions: 0 " "$log" || { cat "$log"; exit 1; }
    n=$(awk '/^number of transactions actually processed:/ {print $6}' "$log")
    awk -v n="$n" -v c=$((c1 - c0)) -v hz="$HZ" '/^tps = / {printf "%.0f %.0f", $3, c / hz / n * 1e6}' "$log"
}
K0=$(kids)
for round in $(seq 1 "$ROUNDS"); do
    for w in reserve_credit place_order; do
        for c in $CLIENTS; do
            for m in $MODES; do
                out=$(run $w $m $c $round) || exit 1
                read -r tps cpu <<<"$out"
                R[$w.$m.$c]="${R[$w.$m.$c]:-} $tps"
                C[$w.$m.$c]="${C[$w.$m.$c]:-} $cpu"
                echo "round $round: $w, $m, $c clients: $tps tps, $cpu us of cluster CPU per call"
                psql -d postgres -c "CHECKPOINT" >/dev/null
            done
        done
    done
done

med() { echo "${1:-}" | median; }
echo
echo "== results (median of $ROUNDS; tps, then cluster CPU per call in us)"
printf '%-15s %7s' workload clients
for m in $MODES; do printf ' %9s' "$m"; done
printf ' %12s\n' proxy/direct
for w in reserve_credit place_order; do
    for c in $CLIENTS; do
        printf '%-15s %7s' $w $c
        for m in $MODES; do printf ' %9s' "$(med "${R[$w.$m.$c]:-}")"; done
        d=$(med "${R[$w.direct.$c]:-}") p=$(med "${R[$w.proxy.$c]:-}")
        r=$(ratio "$p" "$d")
        mark=$(awk -v r="$r" 'BEGIN { print (r >= 0.7 ? "✓" : "✗") }')
        printf ' %12s %s (target >= 0.70)\n' "$r" "$mark"
        printf '%-15s %7s' "  CPU us/call" ""
        for m in $MODES; do printf ' %9s' "$(med "${C[$w.$m.$c]:-}")"; done
        printf '\n'
        if [ "$MODES" = "${MODES/bare/}" ] || [ "$MODES" = "${MODES/routed/}" ]; then :; else
            awk -v d="$(med "${C[$w.direct.$c]:-}")" -v b="$(med "${C[$w.bare.$c]:-}")" \
                -v r="$(med "${C[$w.routed.$c]:-}")" -v p="$(med "${C[$w.proxy.$c]:-}")" \
                'BEGIN { printf "                CPU per call: the PL/Proxy call %+.0f us, routing %+.0f us, guard %+.0f us" \
                                " (the proxy %+.0f us on the %.0f us of a direct call)\n", b - d, r - b, p - r, p - d, d }'
        fi
        # On paper: shards on machines of their own, tenants spread evenly,
        # proxies added as needed (they keep no state): N x one shard's direct rate.
        echo "                on paper: 4 shards $((4 * ${d%.*})) tps, 16 shards $((16 * ${d%.*})) tps"
    done
done
oc_v=$(val "SELECT count(*) FROM order_credit.verify()")
echo "verify() over the 4 shards after the runs: $oc_v rows"
