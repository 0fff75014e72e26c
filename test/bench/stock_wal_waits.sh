#!/usr/bin/env bash
# Diagnostic, not a target (docs/benchmarks.md, "Sweeping beside buyers"):
# 32 distinct-SKU buyers for 8 s on a throwaway cluster, once without and once with a one-session expire_due
# sweep of the due claims the benchmark loads (1,000,000 per run; the
# second run's sweep also takes the first run's), printing the buyers' wait
# events (pg_stat_activity every 0.2 s), their tps and the WAL written.
# Needs the extension installed (make install). WAITS_PORT (55511).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=$(mktemp -d /tmp/oc_waits.XXXXXX)
export PGHOST=$DIR PGPORT=${WAITS_PORT:-55511} PGUSER=postgres PGDATABASE=waits
trap 'scripts/cluster.sh stop "$DIR"; rm -rf "$DIR"' EXIT
scripts/cluster.sh start "$DIR" "$PGPORT" "fsync = on" "synchronous_commit = on" "max_wal_size = 8GB" \
    "checkpoint_timeout = 30min" "max_locks_per_transaction = 256" >/dev/null
psql -d postgres -qc "CREATE DATABASE waits"
psql -qf test/bench/stock/setup.sql >/dev/null
PGB=$(pg_config --bindir)/pgbench
sample() {
    for _ in $(seq 35); do
        psql -Atc "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
                    WHERE application_name = 'pgbench' AND state = 'active'"
        sleep 0.2
    done | sort | uniq -c | sort -rn | head -6
}
for mode in without with; do
    psql -v prefix="f$mode" -f test/bench/stock/expired.sql >/dev/null
    psql -qc CHECKPOINT
    w0=$(psql -Atc "SELECT pg_current_wal_lsn()")
    "$PGB" -n -M prepared -c 32 -j 2 -T 8 -f test/bench/stock/ext_distinct.sql >"$DIR/pgbench_$mode.log" 2>&1 &
    P=$!
    sleep 0.5
    if [ "$mode" = with ]; then
        (s=$(date +%s.%N); psql -Atc "CALL bench_expire_all()" >/dev/null
         echo "sweep took $(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN {print e - s}') s") &
    fi
    echo "== $mode a sweep: buyers' wait events"
    sample
    wait $P
    grep '^tps' "$DIR/pgbench_$mode.log"
    echo "WAL written: $(psql -Atc "SELECT round((pg_current_wal_lsn() - '$w0') / 1e6)") MB"
    wait
done
