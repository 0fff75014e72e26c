#!/usr/bin/env bash
# A second throwaway cluster with order_credit in shared_preload_libraries:
#  - an order placed with expires_in => '1 second' is marked expired, and its
#    stock and credit are given back in storage, within 3 seconds with no
#    client call (the background sweeper did it);
#  - pg_terminate_backend on the sweeper gets it restarted by the postmaster,
#    and the restarted worker sweeps again;
#  - order_credit.stats counts exactly the calls this script made;
#  - a sweeper run commits every order_credit.sweep_chunk rows: 40 holds
#    falling due at the same instant are expired by at least 4 transactions
#    with sweep_chunk = 10 (one transaction per run would be 1);
#  - order_credit.sweep_nice: the worker runs that much below the
#    postmaster's CPU priority; a reload that raises it applies in place, one
#    that lowers it restarts the worker (same checks, new pid);
#  - a reservation committed late (expires_in 1 second, committed 2.5 s
#    after its transaction began: behind the sweeper's scan floor) is still
#    swept, within 3 s of its commit.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/stress/lib/common.sh

OC_TMP=$(mktemp -d /tmp/oc_preload.XXXXXX)
chmod 755 "$OC_TMP"
PORT2=$((${PGPORT:-55499} + 1))
DB=oc_preload
scripts/cluster.sh start "$OC_TMP/c" "$PORT2" \
    "shared_preload_libraries = 'order_credit'" "order_credit.database = '$DB'" \
    "order_credit.sweep_interval = 100ms" || oc_die "preloaded cluster did not start"
trap 'scripts/cluster.sh stop "$OC_TMP/c"; grep -E "terminated by signal|PANIC" "$OC_TMP/c/server.log" && echo "crash in preloaded cluster"; oc_cleanup' EXIT
export PGHOST=$OC_TMP/c PGPORT=$PORT2

oc_fresh_db $DB || oc_die "cannot create $DB"
oc_psql -d $DB -c "SELECT order_credit.create_account('sw-acct', 1000)" \
    -c "SELECT order_credit.set_stock('sw-sku', 10)" -c "SELECT order_credit.stats_reset()" >/dev/null

# Raw storage, not the exact-expiry views: only the sweeper changes these.
raw_state() {
    oc_value $DB "SELECT o.status || ',' || a.pending || ',' ||
                         (SELECT sum(reserved) FROM order_credit.stock_buckets WHERE sku = 'sw-sku')
                    FROM order_credit.orders o, order_credit.accounts a
                   WHERE o.order_ref = '$1' AND a.account = 'sw-acct'"
}

sweeper_pid() {
    oc_value $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper' AND datname = '$DB'"
}

oc_wait_for $DB "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper' AND datname = '$DB'" 1 10 ||
    oc_die "no sweeper in pg_stat_activity"
oc_check "sweeper application_name" "order_credit sweeper" \
    "$(oc_value $DB "SELECT application_name FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'")"

place() {
    oc_psql -d $DB -c "SELECT order_credit.place_order('$1', '[{\"sku\":\"sw-sku\",\"quantity\":3,\"unit_price\":10}]', 'sw-acct', '1 second')" >/dev/null
}

place sw-1 || oc_die "place_order failed"
oc_check "right after placing" "pending,30,3" "$(raw_state sw-1)"
start=$SECONDS
oc_wait_for $DB "SELECT o.status || ',' || a.pending FROM order_credit.orders o, order_credit.accounts a WHERE o.order_ref = 'sw-1' AND a.account = 'sw-acct'" "expired,0" 3 ||
    oc_die "order not swept within 3 s: $(raw_state sw-1)"
oc_check "stock given back by the sweeper" "expired,0,0" "$(raw_state sw-1)"
oc_log "swept within $((SECONDS - start + 1)) s of the expiry"

old=$(sweeper_pid)
oc_psql -d $DB -c "SELECT pg_terminate_backend($old)" >/dev/null
oc_wait_for $DB "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper' AND datname = '$DB' AND pid <> $old" 1 10 ||
    oc_die "sweeper not restarted after pg_terminate_backend"
oc_log "sweeper restarted: pid $old -> $(sweeper_pid)"
place sw-2 || oc_die "place_order failed"
oc_wait_for $DB "SELECT status FROM order_credit.orders WHERE order_ref = 'sw-2'" "expired" 4 ||
    oc_die "restarted sweeper did not expire sw-2"
oc_check "restarted sweeper gave stock and credit back" "expired,0,0" "$(raw_state sw-2)"

# Stats: exactly the calls made since stats_reset (plus the sweeper's own).
oc_psql -d $DB -c "SELECT order_credit.order_status('sw-1')" -c "SELECT order_credit.order_status('sw-2')" \
    -c "SELECT order_credit.order_status('sw-2')" >/dev/null
oc_psql -d $DB -c "SELECT order_credit.order_status('nope')" >/dev/null 2>&1
oc_psql -d $DB -c "SELECT * FROM order_credit.try_reserve_credit('sw-acct', 5000, 'sw-big')" >/dev/null
stat() { oc_value $DB "SELECT coalesce(sum(calls), 0) FROM order_credit.stats WHERE operation = '$1' AND outcome = '$2'"; }
oc_check "stats place_order ok" 2 "$(stat place_order ok)"
oc_check "stats order_status ok" 3 "$(stat order_status ok)"
oc_check "stats order_status reference_not_found" 1 "$(stat order_status reference_not_found)"
oc_check "stats try_reserve_credit insufficient_credit" 1 "$(stat try_reserve_credit insufficient_credit)"
oc_check "stats expire_due called by the sweeper" t "$(oc_value $DB "SELECT sum(calls) > 10 FROM order_credit.stats WHERE operation = 'expire_due'")"
oc_check "verify()" 0 "$(oc_value $DB "SELECT count(*) FROM order_credit.verify()")"

# CPU priority: nice of the sweeper against the checkpointer's (the postmaster's).
nice_of() { awk '{ print $19 }' "/proc/$1/stat"; }
base_nice=$(nice_of "$(oc_value $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")")
want() { local n=$((base_nice + $1)); [ $n -gt 19 ] && n=19; echo $n; }
pid=$(sweeper_pid)
oc_check "sweeper nice at the default sweep_nice 10" "$(want 10)" "$(nice_of "$pid")"
oc_psql -d $DB -c "ALTER SYSTEM SET order_credit.sweep_nice = 15" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
oc_check "sweep_nice raised to 15: same worker" "$pid" "$(sweeper_pid)"
oc_check "sweep_nice raised to 15: applied in place" "$(want 15)" "$(nice_of "$pid")"
oc_psql -d $DB -c "ALTER SYSTEM SET order_credit.sweep_nice = 0" -c "SELECT pg_reload_conf()" >/dev/null
oc_wait_for $DB "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper' AND datname = '$DB' AND pid <> $pid" 1 10 ||
    oc_die "sweeper not restarted after sweep_nice was lowered"
oc_check "sweep_nice lowered to 0: new worker at the postmaster's priority" "$base_nice" "$(nice_of "$(sweeper_pid)")"
oc_log "sweeper nice: base $base_nice, default +10, reload +15 in place, reload 0 restarted it ($pid -> $(sweeper_pid))"

# Chunks: 40 holds with the same expires_at (one statement), sweep_chunk 10.
oc_psql -d $DB -c "ALTER SYSTEM SET order_credit.sweep_chunk = 10" -c "SELECT pg_reload_conf()" >/dev/null
oc_wait_for $DB "SHOW order_credit.sweep_chunk" 10 5 || oc_die "sweep_chunk not reloaded"
sleep 0.5   # the sweeper rereads its settings between runs (every 100 ms)
oc_psql -d $DB -c "SELECT count(order_credit.create_account('ck-' || i, 100)) FROM generate_series(1, 40) i" \
    -c "SELECT count(order_credit.reserve_credit('ck-' || i, 1, 'ck-h' || i, '1 second')) FROM generate_series(1, 40) i" >/dev/null ||
    oc_die "cannot create the chunk test holds"
oc_wait_for $DB "SELECT count(*) FROM order_credit.holds WHERE order_ref LIKE 'ck-h%' AND status = 'expired'" 40 4 ||
    oc_die "the 40 holds were not all expired by the sweeper within 4 s"
chunks=$(oc_value $DB "SELECT count(DISTINCT created_at) FROM order_credit.ledger WHERE kind = 'expire' AND order_ref LIKE 'ck-h%'")
oc_check "40 due holds expired in transactions of at most 10 (>= 4 transactions)" t "$( [ "$chunks" -ge 4 ] && echo t || echo f)"
oc_log "40 holds expired by $chunks sweeper transactions"
oc_check "verify() after the chunked run" 0 "$(oc_value $DB "SELECT count(*) FROM order_credit.verify()")"

# The sweeper's due scans start where its last one ended (the scan floor of
# src/pg/stock/expire_direct.cpp), and from the beginning at least once a second:
# a reservation whose transaction committed 2.5 s after it began, with
# expires_in 1 second, was due long before the floor the sweeper had reached
# by then; it is still swept, within 3 s of its commit.
oc_psql -d $DB -c "SELECT order_credit.set_stock('late-sku', 5)" >/dev/null
oc_psql -d $DB -c "BEGIN" -c "SELECT order_credit.reserve_stock('late-sku', 2, 'late-1', '1 second')" \
    -c "SELECT pg_sleep(2.5)" -c "COMMIT" >/dev/null || oc_die "cannot make the late reservation"
oc_wait_for $DB "SELECT sum(reserved) FROM order_credit.stock_buckets WHERE sku = 'late-sku'" 0 3 ||
    oc_die "the late reservation was not swept within 3 s of its commit"
oc_check "verify() after the late reservation" 0 "$(oc_value $DB "SELECT count(*) FROM order_credit.verify()")"

[ "$OC_FAILURES" -eq 0 ] || { oc_log "$OC_FAILURES check(s) failed"; exit 1; }
oc_log "all checks passed"
