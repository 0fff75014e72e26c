# Helpers for the stock stress scenarios (sourced, not run by run_all.sh).
# Connection comes from PGHOST/PGPORT/PGUSER (test/run_all.sh sets them).
#
#   db_create NAME            fresh database with the extension
#   barrier_hold DB           holds pg_advisory_lock(4242) in a background session
#   run_workers DB N OUTDIR SQL_TEMPLATE
#                             starts N psql sessions that each wait on
#                             pg_advisory_lock_shared(4242), then run the SQL
#                             (@I@ replaced by the worker number); waits until
#                             all N are blocked on the barrier, releases it,
#                             and waits for every worker.
set -uo pipefail
BARRIER_KEY=4242

fail() { echo "FAIL: $*" >&2; exit 1; }

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

db_create() {
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null || fail "create db"
    q "$1" "CREATE EXTENSION order_credit" >/dev/null || fail "create extension"
}

barrier_hold() {
    PGAPPNAME=oc_barrier psql -X -q -At -d "$1" \
        -c "SELECT pg_advisory_lock($BARRIER_KEY)" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
    BARRIER_PID=$!
    for _ in $(seq 1 100); do
        [ "$(q "$1" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $BARRIER_KEY AND granted")" = 1 ] && return 0
        sleep 0.05
    done
    fail "barrier not taken"
}

barrier_release() {
    q "$1" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'oc_barrier'" >/dev/null
    wait "$BARRIER_PID" 2>/dev/null || true
}

run_workers() {
    local db=$1 n=$2 out=$3 sql=$4 pids=()
    mkdir -p "$out"
    barrier_hold "$db"
    for i in $(seq 1 "$n"); do
        PGOPTIONS="-c order_credit.lock_timeout=60s" psql -X -q -At -d "$db" \
            -c "SELECT pg_advisory_lock_shared($BARRIER_KEY)" \
            -c "${sql//@I@/$i}" >"$out/$i.out" 2>"$out/$i.err" &
        pids+=($!)
    done
    # every worker connected and blocked on the barrier: they start together
    local waiting=0
    for _ in $(seq 1 600); do
        waiting=$(q "$db" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $BARRIER_KEY AND NOT granted")
        [ "$waiting" -ge "$n" ] && break
        sleep 0.05
    done
    [ "$waiting" -ge "$n" ] || fail "only $waiting of $n workers reached the barrier"
    barrier_release "$db"
    for p in "${pids[@]}"; do wait "$p"; done
}

# Lines "t" among worker outputs (the result of the last statement).
count_ok() { cat "$1"/*.out | grep -c '^t$' || true; }

expect_eq() { [ "$2" = "$3" ] || fail "$1: expected $3, got $2"; echo "ok: $1 = $2"; }

verify_empty() {
    local v
    v=$(q "$1" "SELECT count(*) FROM order_credit.verify()")
    [ "$v" = 0 ] || { q "$1" "SELECT * FROM order_credit.verify()"; fail "verify() reports $v violations"; }
    echo "ok: verify() empty"
}
