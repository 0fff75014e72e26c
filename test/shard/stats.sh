#!/usr/bin/env bash
# The stats through the proxy, by value. A shard's counters live in its
# server's shared memory (order_credit preloaded), so this scenario runs on
# two servers of its own: shards 0, 1 and 2 (and the proxy) are databases of
# server 1, shard 3 of server 2. After stats_reset() through the proxy:
# NA reserve_credit calls of tenant A (shard 0), NB of tenant B (shard 1,
# the same server), NC of tenant C (shard 3) and NR refused ones (OC001) of
# tenant C, all through the proxy. Then:
#   - stats on the proxy: reserve_credit ok = NA + NB + NC and the refusals
#     NR: each server counted once, though three shards share server 1;
#   - stats_shards(): shards 0, 1, 2 report server 1's counters, shard 3
#     server 2's;
#   - stats_latency_buckets on the proxy = the sum of the two servers' own
#     buckets (read on a shard of each), bucket by bucket;
#   - p50, p95, p99 on the proxy = the estimate from those merged buckets
#     (computed here: the bucket holding the call of rank q x calls,
#     interpolated, capped by the slowest call), max_ms the larger of the
#     servers' ones.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/shard/lib/shards.sh

OC_TMP=$(mktemp -d /tmp/oc_shard_stats.XXXXXX)
chmod 755 "$OC_TMP"
PORT1=${OC_STATS_PORT:-$((PGPORT + 2))} PORT2=$((${OC_STATS_PORT:-$((PGPORT + 2))} + 1))
C1=$OC_TMP/c1 C2=$OC_TMP/c2
finish() { scripts/cluster.sh stop "$C1"; scripts/cluster.sh stop "$C2"; oc_cleanup; }
trap finish EXIT
for c in "$C1:$PORT1" "$C2:$PORT2"; do
    scripts/cluster.sh start "${c%:*}" "${c#*:}" "fsync = off" "shared_preload_libraries = 'order_credit'" \
        "max_locks_per_transaction = 256" || oc_die "server ${c%:*} did not start"
done
export PGHOST=$C1 PGPORT=$PORT1
SYS=oc_sst PROXY=oc_sst_proxy
NA=23 NB=17 NC=31 NR=3

sh_system $SYS "$C2" "$PORT2" || oc_die "cannot set up the sharded system"
A=$(sh_tenants $PROXY 0 1) B=$(sh_tenants $PROXY 1 1) C=$(sh_tenants $PROXY 3 1)
oc_log "tenants $A (shard 0) and $B (shard 1) on server 1, $C (shard 3) on server 2"
for t in $A $B $C; do
    oc_value $PROXY "SELECT order_credit.create_account('$t:acct', 1000)" >/dev/null || oc_die "set-up of $t"
done
oc_value $PROXY "SELECT order_credit.stats_reset()" >/dev/null || oc_die "stats_reset() through the proxy"
calls() { # TENANT N
    oc_value $PROXY "SELECT count(*) FROM generate_series(1, $2) g,
                            order_credit.reserve_credit('$1:acct', 1, '$1:o' || g)"
}
oc_check "calls of $A" $NA "$(calls $A $NA)"
oc_check "calls of $B" $NB "$(calls $B $NB)"
oc_check "calls of $C" $NC "$(calls $C $NC)"
for i in $(seq 1 $NR); do
    psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY -c "SELECT order_credit.reserve_credit('$C:acct', 5000, '$C:big$i')" \
        >>"$OC_TMP/refused.out" 2>&1
done
oc_check "refused calls (OC001)" $NR "$(grep -c 'OC001' "$OC_TMP/refused.out")"

# The merged counters.
oc_check "reserve_credit ok through the proxy" $((NA + NB + NC)) \
    "$(oc_value $PROXY "SELECT calls FROM order_credit.stats WHERE operation = 'reserve_credit' AND outcome = 'ok'")"
oc_check "reserve_credit refused through the proxy" $NR \
    "$(oc_value $PROXY "SELECT sum(calls) FROM order_credit.stats WHERE operation = 'reserve_credit' AND outcome <> 'ok'")"
oc_check "per shard (shard:calls): shards of server 1 report its counters, shard 3 server 2's" \
    "0:$((NA + NB)) 1:$((NA + NB)) 2:$((NA + NB)) 3:$NC" \
    "$(oc_value $PROXY "SELECT string_agg(shard || ':' || calls, ' ' ORDER BY shard) FROM order_credit_proxy.stats_shards()
                         WHERE operation = 'reserve_credit' AND outcome = 'ok'")"
oc_check "servers seen by stats_shards()" 2 \
    "$(oc_value $PROXY "SELECT count(DISTINCT server) FROM order_credit_proxy.stats_shards()")"

# The merged histogram: the two servers' own buckets, summed here.
own() { # HOST PORT DB: le|calls|max_ms of reserve_credit ok, on that server
    PGHOST=$1 PGPORT=$2 oc_value "$3" "
        SELECT b.le || '|' || b.calls || '|' || s.max_ms
          FROM order_credit.stats_latency_buckets b JOIN order_credit.stats s USING (operation, outcome)
         WHERE b.operation = 'reserve_credit' AND b.outcome = 'ok' ORDER BY b.le"
}
{ own "$C1" "$PORT1" ${SYS}_s0; own "$C2" "$PORT2" ${SYS}_s3; } |
    awk -F'|' '{ n[$1] += $2; if ($3 > m) m = $3 } END { for (le in n) printf "%s|%d|%s\n", le, n[le], m }' |
    sort -t'|' -k1,1g >"$OC_TMP/merged.txt"
oc_check "buckets of the servers, summed (+Inf bucket)" $((NA + NB + NC)) "$(awk -F'|' 'END { print $2 }' "$OC_TMP/merged.txt")"
oc_check "stats_latency_buckets through the proxy = the servers' buckets summed" "$(cut -d'|' -f1,2 "$OC_TMP/merged.txt")" \
    "$(oc_value $PROXY "SELECT le || '|' || calls FROM order_credit.stats_latency_buckets
                         WHERE operation = 'reserve_credit' AND outcome = 'ok' ORDER BY le")"
expected=$(awk -F'|' '
    { le[NR] = $1; n[NR] = $2; max_s = $3 / 1000; total = $2 }
    END {
        split("0.5 0.95 0.99", qs, " ")
        for (i = 1; i <= 3; i++) {
            q = qs[i]; lo = 0; below = 0
            for (k = 1; k <= NR; k++) {
                if (n[k] > below && n[k] >= q * total) {
                    hi = (le[k] == "Infinity" || le[k] > max_s) ? max_s : le[k]
                    l = (lo < hi) ? lo : hi
                    printf "%s%.6f", (i > 1 ? " " : ""), 1000 * (l + (hi - l) * (q * total - below) / (n[k] - below))
                    break
                }
                lo = le[k]; below = n[k]
            }
        }
        printf " %.6f\n", max_s * 1000
    }' "$OC_TMP/merged.txt")
oc_check "p50 p95 p99 max_ms through the proxy, from the merged buckets" "$expected" \
    "$(oc_value $PROXY "SELECT round(p50_ms::numeric, 6) || ' ' || round(p95_ms::numeric, 6) || ' ' ||
                               round(p99_ms::numeric, 6) || ' ' || round(max_ms::numeric, 6)
                          FROM order_credit.stats WHERE operation = 'reserve_credit' AND outcome = 'ok'")"

sh_drop $SYS "$C2" "$PORT2"
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
