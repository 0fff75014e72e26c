#!/usr/bin/env bash
# Scale benchmark (the `scale` area beside run_all.sh): does a call cost on
# a database that has run for a year what it costs on day one, what does a
# client wait for at the 99th percentile, and what does the usual
# application pattern reject in a burst.
#
#  1. Small vs large database, per-call TPS at 8 and 32 clients:
#     reserve_credit, reserve + capture, reserve_stock (one bucket, and
#     striped over 8), place_order + confirm_order, expire_due beside the
#     writes that give it work. Small: 1,000 accounts, 10,000 SKUs, fresh
#     (the other areas' setup). Large (scale/build.sql, bulk SQL, verify()
#     empty): at OC_SCALE=1, 1,000,000 accounts, 10,000,000 ledger entries,
#     5,000,000 finished holds, 10,000,000 finished reservations, 1,000,000
#     delivered orders with 5,000,000 history entries, 1,000,000 processed
#     events and 1,000,000 idempotency keys. Target: large >= 0.8 x small.
#     verify() on both, timed, and verify_account() / verify_sku(), the
#     bounded forms.
#  2. Tail latency of reserve_credit (p50/p95/p99/max from pgbench --log) on
#     a hot account and on an account per client, 8/32/64 clients, against
#     plain SQL writing the same rows in one statement. Target: p99 <= 1.1 x
#     plain.
#  3. A burst of 50 concurrent orders on one account that has credit for
#     all of them, OC_BURSTS times (default 5): the application pattern
#     (FOR UPDATE NOWAIT, retries after 100/200/400 ms, SUM() over a ledger
#     of 10,000 entries, INSERT) against try_reserve_credit. False rejections
#     (target 0 for order_credit) and p99.
#
# Own cluster from a private copy of the server (no system install), on
# OC_BENCH_PORT (default 55510). The large database is built before the
# lock is taken; each timed part holds /tmp/order_credit.lock (at most one
# part at a time, each well under 15 minutes).
#
#   OC_SCALE=0.1 test/bench/scale_bench.sh      development size
#   OC_SCALE=1 test/bench/scale_bench.sh        full size (~25 GB of disk)
#   OC_BENCH_SECONDS (10) per run; OC_SCALE_ROUNDS (3) runs of each pair
#   in parts 1 and 2, alternately; OC_SCALE_PARTS="ops bounded latency burst
#   verify" ("none": build only; verify() of the full-size database runs
#   for more than 8 minutes: run that part alone)
#   OC_SCALE_OPS: the operations of part 1 (default all: reserve_credit
#   capture_credit reserve_stock reserve_striped order_confirm expire_due)
#   OC_SCALE_DIR=/tmp/dir   keep the server copy and cluster there, and
#                           reuse them (no build) when they exist
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE=${OC_SCALE:-0.1}
SECS=${OC_BENCH_SECONDS:-10}
PORT=${OC_BENCH_PORT:-55510}
PARTS=${OC_SCALE_PARTS:-"ops bounded latency burst verify"}
BURSTS=${OC_BURSTS:-5}
ROUNDS=${OC_SCALE_ROUNDS:-3}
OPS=${OC_SCALE_OPS:-"reserve_credit capture_credit reserve_stock reserve_striped order_confirm expire_due"}
S=$PWD/test/bench/scale
W=${OC_SCALE_DIR:-$(mktemp -d /tmp/oc_scale_bench.XXXXXX)}
mkdir -p "$W"
chmod 755 "$W"
REUSE=0
[ -d "$W/cluster/data" ] && REUSE=1
PGLIB=$(pg_config --pkglibdir | sed 's#/lib$##')
PGSHARE=$(pg_config --sharedir)
BIN=$W/inst$PGLIB/bin
PGBENCH=$BIN/pgbench
D=$W/cluster
export PGHOST=$D PGPORT=$PORT PGUSER=postgres
psql() { command psql -X -q -v ON_ERROR_STOP=1 -P pager=off "$@"; }
val() { psql -At "$@"; }
stop() { [ -d "$D/data" ] && runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -m fast -w stop >/dev/null 2>&1 || true; }
if [ -n "${OC_SCALE_DIR:-}" ]; then trap stop EXIT; else trap 'stop; rm -rf "$W"' EXIT; fi

# Builds from a copy of the working tree, so that a test run building in
# the tree at the same time (under the lock) is not disturbed.
build_install() {
    rm -rf "$W/src" && mkdir -p "$W/src"
    tar --exclude=./.git --exclude='*.o' --exclude='*.bc' --exclude=./build -cf - . | tar -xf - -C "$W/src"
    (cd "$W/src" && make -s -j2 WERROR=1 >/dev/null && make -s install WERROR=1 DESTDIR="$W/inst" >/dev/null)
}
start() { runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 60 start >/dev/null; }
if [ $REUSE = 0 ]; then
echo "== private server copy, build, install (no system install)"
mkdir -p "$W/inst$(dirname "$PGLIB")" "$W/inst$(dirname "$PGSHARE")"
cp -a "$PGLIB" "$W/inst$(dirname "$PGLIB")/"
cp -a "$PGSHARE" "$W/inst$(dirname "$PGSHARE")/"
build_install
mkdir -p "$D/out" && chown -R postgres: "$D" && chmod 777 "$D/out"
runuser -u postgres -- "$BIN/initdb" -D "$D/data" -U postgres --auth=trust --no-sync -E UTF8 \
    --locale=C.UTF-8 >/dev/null
SB=$(awk '/MemTotal/ {m = int($2 / 1024 / 4); if (m > 2048) m = 2048; if (m < 256) m = 256; print m "MB"}' /proc/meminfo)
cat >>"$D/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$D'
max_connections = 200
shared_buffers = $SB
max_wal_size = 8GB
checkpoint_timeout = 15min
synchronous_commit = on
fsync = on
log_min_messages = warning
CONF
start
fi
if [ $REUSE = 1 ]; then
    echo "== reusing the cluster in $W (the extension's library built and installed again)"
    build_install
    start
fi
SB=$(val -d postgres -c "SHOW shared_buffers" 2>/dev/null || true)
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo); shared_buffers $SB; fsync on; scale $SCALE; $SECS s per run"

ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}'; }
mark() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == ">=") ? v >= t : v <= t; print ok ? "✓" : "✗"}'; }
SUMMARY=$W/summary
target() { # name value op target
    printf '%-60s %8s %s %-5s %s\n' "$1" "$2" "$3" "$4" "$(mark "$2" "$3" "$4")" >>"$SUMMARY"
    [ -n "${OC_BENCH_SUMMARY:-}" ] && printf 'scale|%s|%s|%s|%s\n' "$@" >>"$OC_BENCH_SUMMARY"
    return 0
}
locked() { # run "$@" holding the benchmark lock
    exec 9>/tmp/order_credit.lock
    if ! flock -n 9; then echo "   (waiting for /tmp/order_credit.lock)"; flock 9; fi
    local t0=$SECONDS
    "$@"
    echo "   (lock held $((SECONDS - t0)) s)"
    flock -u 9
}

if [ $REUSE = 0 ]; then
echo "== build the databases (not timed, no lock)"
psql -c "CREATE DATABASE oc_small" -c "CREATE DATABASE oc_large"
psql -d oc_small -c "CREATE EXTENSION order_credit" -f $S/small.sql >/dev/null
psql -d oc_large -c "CREATE EXTENSION order_credit" >/dev/null
t0=$SECONDS
psql -d oc_large -v scale="$SCALE" -f $S/build.sql >"$W/build.log"
echo "large database built in $((SECONDS - t0)) s (scale $SCALE)"
val -d oc_large -c "SELECT 'sizes: database ' || pg_size_pretty(pg_database_size('oc_large')) || '; ' ||
    string_agg(c.relname || ' ' || c.reltuples::bigint || ' rows ' || pg_size_pretty(pg_total_relation_size(c.oid)), ', ' ORDER BY c.relname)
    FROM pg_class c WHERE c.relnamespace = 'order_credit'::regnamespace AND c.relkind = 'r' AND c.reltuples > 1000"
echo "== verify() after the build (must be empty)"
v=$(val -d oc_large -c "SELECT count(*) FROM order_credit.verify()")
echo "verify() on the large database: $v violation(s)"
[ "$v" = 0 ] || { psql -d oc_large -c "SELECT * FROM order_credit.verify() LIMIT 20"; exit 1; }
fi
NACC_LARGE=$(val -d oc_large -c "SELECT count(*) FROM order_credit.accounts WHERE account LIKE 'acct-%'")

pgb() { # db clients script [extra...] -> tps (log in $D/out/last.log)
    local db=$1 c=$2 f=$3
    shift 3
    "$PGBENCH" -n -M prepared -c "$c" -j 2 -T "$SECS" -d "$db" -D run="r$RANDOM$RANDOM" "$@" -f "$S/$f" \
        >"$D/out/last.log" 2>&1 || { cat "$D/out/last.log"; exit 1; }
    if grep -qiE "error|aborted" "$D/out/last.log"; then cat "$D/out/last.log"; exit 1; fi
    sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$D/out/last.log"
}

part_ops() {
    echo "== 1. per-call TPS, small vs large (same cluster, same run; small first, then large)"
    # Warm-up, not counted: a server started on a kept cluster (OC_SCALE_DIR)
    # has cold caches, which only the large database's first run would pay.
    pgb oc_small 8 reserve_credit.sql -D accounts=1000 >/dev/null
    pgb oc_large 8 reserve_credit.sql -D accounts="$NACC_LARGE" >/dev/null
    # Each pair is run $ROUNDS times, small and large alternately (the
    # machine drifts by up to 30% within minutes); the ratio is that of the
    # mean TPS, each round's ratio printed beside it.
    printf '   %-34s %7s %10s %10s %6s  %s\n' operation clients small large ratio rounds
    for op in $OPS; do
        for c in 8 32; do
            local a=0 b=0 rounds="" i x y
            for i in $(seq 1 "$ROUNDS"); do
                psql -d oc_small -c CHECKPOINT >/dev/null
                x=$(pgb oc_small "$c" $op.sql -D accounts=1000)
                y=$(pgb oc_large "$c" $op.sql -D accounts="$NACC_LARGE")
                a=$(awk -v s="$a" -v v="$x" -v n="$ROUNDS" 'BEGIN {print s + v / n}')
                b=$(awk -v s="$b" -v v="$y" -v n="$ROUNDS" 'BEGIN {print s + v / n}')
                rounds="$rounds $(ratio "$y" "$x")"
            done
            local r
            r=$(ratio "$b" "$a")
            printf '   %-34s %7s %10.1f %10.1f %6s %s (%s)\n' "$op" "$c" "$a" "$b" "$r" "$(mark "$r" ">=" 0.8)" "${rounds# }"
            target "$op, $c clients: large / small" "$r" ">=" 0.8
        done
    done
}

part_verify() {
    echo "== verify() on each database, timed (wall clock)"
    local db t
    for db in oc_small oc_large; do
        t=$( { /usr/bin/time -f %e psql -d $db -c "SELECT count(*) FROM order_credit.verify()" >/dev/null; } 2>&1 )
        echo "   verify() on $db: ${t} s"
        echo "verify() on $db: $t s" >>"$SUMMARY"
    done
}

part_bounded() {
    echo "== verify_account() and verify_sku(), the bounded forms (execution time)"
    local db q t
    for db in oc_small oc_large; do
        for q in "verify_account('acct-77')" "verify_sku('sku-77')" "verify_sku('striped-7')"; do
            t=$(val -d $db -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) SELECT * FROM order_credit.$q" |
                sed -nE 's/^Execution Time: (.*)/\1/p')
            echo "   $q on $db: $t"
            echo "$q on $db: $t" >>"$SUMMARY"
        done
        # The per-minute form of docs/lifecycle.md: every account with a
        # ledger entry among the newest 10,000.
        local n
        n=$(val -d $db -c "SELECT count(DISTINCT account) FROM order_credit.ledger
                            WHERE entry_id > (SELECT max(entry_id) - 10000 FROM order_credit.ledger)")
        t=$(val -d $db -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON)
                SELECT v.* FROM (SELECT DISTINCT account FROM order_credit.ledger
                                  WHERE entry_id > (SELECT max(entry_id) - 10000 FROM order_credit.ledger)) c,
                       LATERAL order_credit.verify_account(c.account) v" | sed -nE 's/^Execution Time: (.*)/\1/p')
        echo "   verify_account() of the $n accounts of the newest 10,000 ledger entries on $db: $t"
        echo "verify_account() of the $n accounts of the newest 10,000 ledger entries on $db: $t" >>"$SUMMARY"
    done
}

pct() { # log files... -> "p50 p95 p99 max" in ms
    cat "$@" | awk '{print $3}' | sort -n | awk '{v[NR] = $1}
        END {i50 = int(NR * 0.50); i95 = int(NR * 0.95); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i95 < 1) i95 = 1; if (i99 < 1) i99 = 1;
             printf "%.2f %.2f %.2f %.2f", v[i50] / 1000, v[i95] / 1000, v[i99] / 1000, v[NR] / 1000}'
}

part_latency() {
    echo "== 2. reserve_credit latency (ms) vs plain SQL writing the same rows, small database"
    printf '   %-9s %7s %-9s %8s %8s %8s %8s %9s\n' account clients side p50 p95 p99 max tps
    # Accounts of this part alone, new in each invocation (the hot one and
    # one per client): no hold of another part or of an earlier invocation
    # on a kept cluster falls due on them during the runs.
    local mode c side acct=lat$RANDOM$RANDOM-
    val -d oc_small -c "SELECT count(order_credit.create_account('$acct' || a, 1000000000000000))
                          FROM unnest(array_append(array(SELECT g::text FROM generate_series(1, 64) g), 'hot')) a" >/dev/null
    for mode in hot distinct; do
        for c in 8 32 64; do
            # $ROUNDS rounds, plain and order_credit alternately; the
            # percentiles are over every transaction of a side's rounds.
            declare -A P99=() TPS=()
            rm -f "$D"/out/lat.*
            local i
            for i in $(seq 1 "$ROUNDS"); do
                for side in plain ext; do
                    # Due holds expired first: the plain statement's guard, like
                    # reserve_credit's, refuses an account whose next_expiry has
                    # passed (reserve_credit expires them itself), and a refused
                    # write is no baseline. Every transaction must add a hold.
                    val -d oc_small -c "SELECT order_credit.expire_due(1000000)" >/dev/null
                    local tps before after done
                    before=$(val -d oc_small -c "SELECT count(*) FROM order_credit.holds")
                    tps=$(cd "$D/out" && pgb oc_small "$c" lat_${side}_$mode.sql -D acct="$acct" --log --log-prefix="$D/out/lat.$side.$i")
                    after=$(val -d oc_small -c "SELECT count(*) FROM order_credit.holds")
                    done=$(cat "$D"/out/lat.$side.$i.* | wc -l)
                    [ $((after - before)) -eq "$done" ] ||
                        { echo "   $mode $c $side: $done transactions but $((after - before)) holds"; exit 1; }
                    TPS[$side]=$(awk -v s="${TPS[$side]:-0}" -v v="$tps" -v n="$ROUNDS" 'BEGIN {print s + v / n}')
                done
            done
            for side in plain ext; do
                read -r p50 p95 p99 max <<<"$(pct "$D"/out/lat.$side.*)"
                P99[$side]=$p99
                printf '   %-9s %7s %-9s %8s %8s %8s %8s %9.1f\n' "$mode" "$c" "$side" "$p50" "$p95" "$p99" "$max" "${TPS[$side]}"
            done
            local r
            r=$(ratio "${P99[ext]}" "${P99[plain]}")
            echo "   $mode, $c clients: p99 order_credit / plain = $r $(mark "$r" "<=" 1.1)"
            target "reserve_credit p99, $mode account, $c clients: ext / plain" "$r" "<=" 1.1
        done
    done
}

part_burst() {
    echo "== 3. bursts of 50 concurrent orders on one account with credit for all 50 ($BURSTS bursts)"
    psql -d oc_small -c "SET client_min_messages = warning" \
        -c "DROP TABLE IF EXISTS app_ledger, app_accounts, app_outcome" \
        -c "DROP FUNCTION IF EXISTS app_order(text, numeric, text)" -f $S/app.sql >/dev/null
    local i side tag=b$RANDOM
    rm -f "$D"/out/app.* "$D"/out/ext.*
    for i in $(seq 1 "$BURSTS"); do
        # fresh accounts with 10,000 ledger entries of history and credit for exactly 50 more orders
        psql -d oc_small -c "INSERT INTO app_accounts VALUES ('$tag-$i', 10050)" \
            -c "INSERT INTO app_ledger (account, amount, order_ref) SELECT '$tag-$i', 1, 'seed-' || g FROM generate_series(1, 10000) g" \
            -c "ANALYZE app_ledger" \
            -c "SELECT account FROM order_credit.create_account('$tag-$i', 50)" >/dev/null
        (cd "$D/out" && "$PGBENCH" -n -M prepared -c 50 -j 2 -t 1 -d oc_small -D acct="$tag-$i" -D run="app$i" \
            --log --log-prefix="$D/out/app.$i" -f "$S/app_burst.sql" >"$D/out/app$i.log" 2>&1) ||
            { cat "$D/out/app$i.log"; exit 1; }
        (cd "$D/out" && "$PGBENCH" -n -M prepared -c 50 -j 2 -t 1 -d oc_small -D acct="$tag-$i" -D run="ext$i" \
            --log --log-prefix="$D/out/ext.$i" -f "$S/ext_burst.sql" >"$D/out/ext$i.log" 2>&1) ||
            { cat "$D/out/ext$i.log"; exit 1; }
    done
    local app_rej ext_rej app_ok ext_ok
    app_ok=$(val -d oc_small -c "SELECT count(*) FROM app_outcome WHERE ok")
    app_rej=$(val -d oc_small -c "SELECT count(*) FROM app_outcome WHERE NOT ok")
    ext_ok=$(val -d oc_small -c "SELECT count(*) FROM order_credit.holds WHERE account LIKE '$tag-%'")
    ext_rej=$((BURSTS * 50 - ext_ok))
    read -r a50 a95 a99 amax <<<"$(pct "$D"/out/app.*)"
    read -r e50 e95 e99 emax <<<"$(pct "$D"/out/ext.*)"
    printf '   %-28s %9s %9s %8s %8s %8s %8s\n' side accepted rejected p50 p95 p99 max
    printf '   %-28s %9s %9s %8s %8s %8s %8s\n' "app pattern (NOWAIT+retry)" "$app_ok" "$app_rej" "$a50" "$a95" "$a99" "$amax"
    printf '   %-28s %9s %9s %8s %8s %8s %8s\n' "order_credit" "$ext_ok" "$ext_rej" "$e50" "$e95" "$e99" "$emax"
    echo "   tries of the app pattern's orders: $(val -d oc_small -c "SELECT string_agg(tries || ' tries: ' || n, ', ' ORDER BY tries) FROM (SELECT tries, count(*) n FROM app_outcome GROUP BY tries) t")"
    target "burst of 50: order_credit false rejections" "$ext_rej" "<=" 0
    echo "burst of 50 x $BURSTS: app pattern false rejections $app_rej, p99 $a99 ms; order_credit false rejections $ext_rej, p99 $e99 ms" >>"$SUMMARY"
}

: >"$SUMMARY"
for p in $PARTS; do [ "$p" = none ] || locked part_$p; done
echo "== summary (scale $SCALE)"
cat "$SUMMARY"
! grep -q "✗" "$SUMMARY"
