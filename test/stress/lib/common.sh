# Shared helpers of the stress scenarios (test/stress/*.sh). Sourced, never
# run: test/run_all.sh only executes test/stress/*.sh, not this directory.
#
# The scenarios connect with PGHOST / PGPORT / PGUSER, which test/run_all.sh
# exports for its throwaway cluster. Each scenario creates its own database.

# psql without ~/.psqlrc, quiet, stopping at the first error.
oc_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# One value from a query: oc_value DB SQL
oc_value() { oc_psql -At -d "$1" -c "$2"; }

oc_log() { echo "[$(basename "$0" .sh)] $*"; }

OC_FAILURES=0
# oc_check DESCRIPTION EXPECTED ACTUAL: records a failure when they differ.
oc_check() {
    if [ "$2" == "$3" ]; then
        oc_log "ok:   $1 = $3"
    else
        oc_log "FAIL: $1: expected $2, got $3"
        OC_FAILURES=$((OC_FAILURES + 1))
    fi
}

oc_die() {
    oc_log "FAIL: $*"
    exit 1
}

# oc_fresh_db NAME: (re)creates database NAME with the extension installed.
oc_fresh_db() {
    oc_psql -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" &&
        oc_psql -d "$1" -c "CREATE EXTENSION order_credit"
}

# PIDs of background processes a scenario started; oc_cleanup ends only those.
OC_PIDS=()
oc_cleanup() {
    local pid running
    running=" $(jobs -pr | tr '\n' ' ') "
    for pid in "${OC_PIDS[@]}"; do
        # Only a child of this shell that is still running.
        [[ "$running" == *" $pid "* ]] && kill "$pid" 2>/dev/null
    done
    [ -n "${OC_TMP:-}" ] && rm -rf "$OC_TMP"
    return 0
}

# oc_wait_for DB SQL WANT TIMEOUT_S: polls until the query returns WANT.
# Returns non-zero (and prints the last value) on timeout.
oc_wait_for() {
    local db=$1 sql=$2 want=$3 deadline=$((SECONDS + $4)) got
    while :; do
        got=$(oc_value "$db" "$sql")
        [ "$got" == "$want" ] && return 0
        if [ $SECONDS -ge $deadline ]; then
            oc_log "timed out waiting for $want (last value: $got)"
            return 1
        fi
        sleep 0.1
    done
}

# A start barrier built on a session-level advisory lock.
#
#   oc_barrier_hold DB KEY   a background session takes pg_advisory_lock(KEY)
#                            and keeps it until oc_barrier_release
#   workers run SELECT pg_advisory_lock_shared(KEY) first, so they queue
#   oc_barrier_waiters DB KEY   how many sessions wait on it (pg_locks)
#   oc_barrier_release       unlocks: every waiter proceeds at once
#
# The holder reads its commands from a FIFO kept open on fd 7.
oc_barrier_hold() {
    local db=$1 key=$2
    rm -f "$OC_TMP/barrier.fifo"
    mkfifo "$OC_TMP/barrier.fifo"
    oc_psql -d "$db" -f "$OC_TMP/barrier.fifo" >"$OC_TMP/barrier.out" 2>&1 &
    OC_PIDS+=($!)
    exec 7>"$OC_TMP/barrier.fifo"
    echo "SELECT pg_advisory_lock($key);" >&7
    oc_wait_for "$db" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                         AND classid = 0 AND objid = $key AND objsubid = 1
                         AND mode = 'ExclusiveLock' AND granted" 1 30 ||
        oc_die "the barrier session did not get advisory lock $key"
}

oc_barrier_waiters() {
    oc_value "$1" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                     AND classid = 0 AND objid = $2 AND objsubid = 1 AND NOT granted"
}

oc_barrier_release() {
    echo "SELECT pg_advisory_unlock_all();" >&7
    exec 7>&-
}
