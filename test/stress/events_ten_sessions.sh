#!/usr/bin/env bash
# Ten sessions call process_once() on the same events at the same moment.
# Exactly one true per event, across all sessions; a session that rolls back
# leaves the event unprocessed (a later caller gets true).
#
# Own database (oc_stress_events); the sessions start together behind a
# barrier: a controller holds pg_advisory_lock(7001), every worker waits for
# pg_advisory_lock_shared(7001) before its first call. Exits non-zero on any
# failure. Uses PGHOST/PGPORT/PGUSER (test/run_all.sh exports them).
set -uo pipefail
DB=oc_stress_events
N=10
EVENTS=${OC_STRESS_EVENTS:-300}
TMP=$(mktemp -d /tmp/oc_events.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || exit 1
psql -d $DB -c "CREATE EXTENSION order_credit" || exit 1

fail=0
# Waits for the controller to let go; prints nothing.
BARRIER="DO \$\$ BEGIN PERFORM pg_advisory_lock_shared(7001); PERFORM pg_advisory_unlock_shared(7001); END \$\$;"
barrier_start() {
    # The controller holds the barrier until it is told to let go.
    mkfifo "$TMP/ctl"
    (command psql -X -q -d $DB <"$TMP/ctl" >/dev/null) &
    CTL_PID=$!
    exec 8>"$TMP/ctl"
    echo "SELECT pg_advisory_lock(7001);" >&8
    for _ in $(seq 100); do
        held=$(psql -At -d $DB -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7001 AND granted")
        [ "$held" = 1 ] && return 0
        sleep 0.05
    done
    echo "barrier not taken"; exit 1
}
barrier_release() {
    # Wait until all N workers queue on the barrier, then let them go.
    for _ in $(seq 200); do
        waiting=$(psql -At -d $DB -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7001 AND NOT granted")
        [ "$waiting" -ge "$N" ] && break
        sleep 0.05
    done
    echo "SELECT pg_advisory_unlock(7001);" >&8
    exec 8>&-
    wait "$CTL_PID"
    rm -f "$TMP/ctl"
}

# --- round 1: N sessions x EVENTS events, one transaction per call
barrier_start
for w in $(seq $N); do
    {
        echo "$BARRIER"
        # every worker walks the events in its own order
        seq "$EVENTS" | shuf | sed "s/.*/SELECT order_credit.process_once('stress', 'evt_&');/"
    } | psql -At -d $DB >"$TMP/round1.$w" 2>"$TMP/round1.$w.err" &
done
barrier_release
wait
cat "$TMP"/round1.*.err
trues=$(cat "$TMP"/round1.[0-9]* | grep -c '^t$')
falses=$(cat "$TMP"/round1.[0-9]* | grep -c '^f$')
rows=$(psql -At -d $DB -c "SELECT count(*) FROM order_credit.processed_events WHERE source = 'stress'")
echo "round 1: $N sessions x $EVENTS events: true=$trues false=$falses rows=$rows"
if [ "$trues" -ne "$EVENTS" ] || [ "$falses" -ne $(((N - 1) * EVENTS)) ] || [ "$rows" -ne "$EVENTS" ]; then
    echo "FAIL: expected exactly one true per event"; fail=1
fi

# --- round 2: one event; every session rolls back whatever it got. Each
# rollback hands the event to the next waiter, so every session gets true,
# and the event stays unprocessed.
barrier_start
for w in $(seq $N); do
    printf '%s\n' "$BARRIER" \
        "BEGIN;" "SELECT order_credit.process_once('stress', 'evt_rollback');" "SELECT pg_sleep(0.02);" "ROLLBACK;" |
        psql -At -d $DB >"$TMP/round2.$w" 2>"$TMP/round2.$w.err" &
done
barrier_release
wait
cat "$TMP"/round2.*.err
trues=$(cat "$TMP"/round2.[0-9]* | grep -c '^t$')
rows=$(psql -At -d $DB -c "SELECT count(*) FROM order_credit.processed_events WHERE event_id = 'evt_rollback'")
echo "round 2: $N sessions, all roll back: true=$trues rows=$rows"
if [ "$trues" -ne "$N" ] || [ "$rows" -ne 0 ]; then
    echo "FAIL: a rolled-back event must count as unprocessed"; fail=1
fi

# --- round 3: one event; every session commits: exactly one true.
barrier_start
for w in $(seq $N); do
    printf '%s\n' "$BARRIER" \
        "BEGIN;" "SELECT order_credit.process_once('stress', 'evt_commit');" "SELECT pg_sleep(0.02);" "COMMIT;" |
        psql -At -d $DB >"$TMP/round3.$w" 2>"$TMP/round3.$w.err" &
done
barrier_release
wait
cat "$TMP"/round3.*.err
trues=$(cat "$TMP"/round3.[0-9]* | grep -c '^t$')
falses=$(cat "$TMP"/round3.[0-9]* | grep -c '^f$')
echo "round 3: $N sessions, all commit: true=$trues false=$falses"
if [ "$trues" -ne 1 ] || [ "$falses" -ne $((N - 1)) ]; then
    echo "FAIL: expected exactly one true"; fail=1
fi

psql -d postgres -c "DROP DATABASE $DB" || fail=1
[ $fail -eq 0 ] && echo "events_ten_sessions: ok"
exit $fail
