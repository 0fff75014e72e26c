#!/usr/bin/env bash
# order_credit in two minutes: installs what is missing, builds, installs the
# extension, starts a throwaway PostgreSQL 15 cluster and shows the case the
# extension exists for: two orders for one credit line arriving at the same
# moment from two sessions. One is approved, the other refused with OC001, and
# the ledger shows why. The cluster and its directory are removed at exit.
#
#   scripts/demo.sh                  (DEMO_PORT=NNNN to choose the port)
#
# Runs as root (PostgreSQL itself runs as the postgres OS user, see
# scripts/cluster.sh) or as a user with sudo. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$*"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }

say "1. Dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh

# Build, install and the demo itself run under the machine-wide lock, so no
# other checkout installs a different build while this one is being shown.
exec 9>/tmp/order_credit.lock
if ! flock -n 9; then
    note "waiting for /tmp/order_credit.lock (another build or test run holds it)"
    flock 9
fi

say "2. Build (make -j2) and install (make install)"
make -s -j2 >/tmp/oc_demo_build.$$.log 2>&1 || { cat /tmp/oc_demo_build.$$.log; die "build"; }
rm -f /tmp/oc_demo_build.$$.log
SUDO=""
if [ "$(id -u)" -ne 0 ] && [ ! -w "$(pg_config --pkglibdir)" ]; then SUDO="sudo"; fi
$SUDO make -s install >/dev/null || die "make install"
note "installed into $(pg_config --pkglibdir) and $(pg_config --sharedir)/extension"

# ------------------------------------------------------------------ cluster
port_free() { # nothing listens on TCP 127.0.0.1:$1 and no socket file uses it
    local p=$1
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 1
    compgen -G "/tmp/.s.PGSQL.$p" >/dev/null && return 1
    compgen -G "/tmp/*/.s.PGSQL.$p" >/dev/null && return 1
    compgen -G "/var/run/postgresql/.s.PGSQL.$p" >/dev/null && return 1
    return 0
}
PORT=${DEMO_PORT:-}
if [ -z "$PORT" ]; then
    for p in $(seq 56100 56199); do
        if port_free "$p"; then PORT=$p; break; fi
    done
    [ -n "$PORT" ] || die "no free port in 56100-56199"
fi

DIR=$(mktemp -d /tmp/oc_demo.XXXXXX)
chmod 755 "$DIR"
PIDS=()
cleanup() {
    local rc=$?
    exec 8>&- 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    scripts/cluster.sh stop "$DIR" || true
    rm -rf "$DIR"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "3. A throwaway cluster in $DIR, port $PORT"
scripts/cluster.sh start "$DIR" "$PORT" || { cat "$DIR/server.log" 2>/dev/null; die "cluster start"; }
export PGHOST=$DIR PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -P pager=off)
q() { "${PSQL[@]}" "$@"; }          # psql with headers, for the reader
v() { "${PSQL[@]}" -At "$@"; }      # one bare value, for the script

q -c "CREATE EXTENSION order_credit"
note "CREATE EXTENSION order_credit: $(v -c "SELECT extversion FROM pg_extension WHERE extname = 'order_credit'")"

say "4. A retailer with a 100,000 EUR credit line"
q -c "SELECT account, currency, credit_limit, available, status
        FROM order_credit.create_account('retailer-42', 100000, 'EUR')"

# ------------------------------------------------------------------ the race
say "5. Two orders, 75,000 and 40,000, sent at the same moment from two sessions"
note "Together they exceed the line (115,000 > 100,000): exactly one may pass."
note "Each session first waits on a barrier (pg_advisory_lock_shared(1)) that this"
note "script holds exclusively; both are released together once both wait."

# The barrier: a session that holds pg_advisory_lock(1) until told to let go.
mkfifo "$DIR/barrier"
"${PSQL[@]}" -At <"$DIR/barrier" >"$DIR/barrier.out" 2>&1 &
PIDS+=($!)
exec 8>"$DIR/barrier"
echo "SELECT pg_advisory_lock(1);" >&8
wait_for() { # sql expected_value what
    for _ in $(seq 1 300); do
        [ "$(v -c "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    die "timed out waiting for $3"
}
ADV="FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = 1 AND objsubid = 1"
wait_for "SELECT count(*) $ADV AND granted AND mode = 'ExclusiveLock'" 1 "the barrier lock"

order() { # order_ref amount
    "${PSQL[@]}" -v VERBOSITY=verbose \
        -c '\o /dev/null' -c "SELECT pg_advisory_lock_shared(1)" -c '\o' \
        -c "SELECT hold_id, order_ref, amount, status, available
              FROM order_credit.reserve_credit('retailer-42', $2, '$1')" \
        >"$DIR/$1.out" 2>&1
}
order PO-1001 75000 &
PID_A=$!
order PO-1002 40000 &
PID_B=$!
PIDS+=("$PID_A" "$PID_B")
wait_for "SELECT count(*) $ADV AND NOT granted AND mode = 'ShareLock'" 2 "both sessions at the barrier"
note "pg_locks: both sessions are waiting at the barrier. Releasing it now."
echo "SELECT pg_advisory_unlock(1);" >&8
exec 8>&-

rc_a=0 rc_b=0
wait "$PID_A" || rc_a=$?
wait "$PID_B" || rc_b=$?

show_session() { # order_ref amount rc
    echo
    if [ "$3" -eq 0 ]; then
        printf '   Session %s (%s EUR): APPROVED\n' "$1" "$2"
    else
        printf '   Session %s (%s EUR): REFUSED\n' "$1" "$2"
    fi
    grep -v '^LOCATION:' "$DIR/$1.out" | sed 's/^/     | /'  # drop the C source location
}
show_session PO-1001 75000 "$rc_a"
show_session PO-1002 40000 "$rc_b"

if [ "$rc_a" -eq 0 ] && [ "$rc_b" -ne 0 ]; then
    APPROVED=PO-1001 REFUSED=PO-1002
elif [ "$rc_b" -eq 0 ] && [ "$rc_a" -ne 0 ]; then
    APPROVED=PO-1002 REFUSED=PO-1001
else
    die "expected exactly one approved and one refused order (exit codes $rc_a, $rc_b)"
fi
grep -q "OC001" "$DIR/$REFUSED.out" || die "the refused order did not report OC001"
grep -q "DETAIL:.*available=" "$DIR/$REFUSED.out" || die "the refusal has no available=... DETAIL"
echo
note "$APPROVED got the credit first; $REFUSED was refused with SQLSTATE OC001, and its"
note "DETAIL says how much was still available when it was checked."

say "6. The account now: the approved order is pending, nothing is over the limit"
q -c "SELECT account, credit_limit, posted, pending, available, status
        FROM order_credit.credit_status('retailer-42')"

say "7. The ledger: every balance change, with the balances right after it"
note "The refused order left no trace: its transaction wrote nothing."
q -c "SELECT entry_id, kind, amount, order_ref, posted_after, pending_after
        FROM order_credit.ledger WHERE account = 'retailer-42' ORDER BY entry_id"

say "8. verify(): every invariant (balances = ledger, pending = live holds, ...)"
q -c "SELECT * FROM order_credit.verify()"
[ "$(v -c "SELECT count(*) FROM order_credit.verify()")" = 0 ] || die "verify() reported violations"
note "No rows: every invariant holds."

# ------------------------------------------------------------------ continuation
say "9. The order ships: capture the held credit ($APPROVED)"
q -c "SELECT hold_id, order_ref, amount, captured, status, available
        FROM order_credit.capture_credit('$APPROVED')"

say "10. The retailer pays 30,000 EUR (payment PAY-7001)"
q -c "SELECT account, credit_limit, posted, pending, available
        FROM order_credit.record_payment('retailer-42', 30000, 'PAY-7001')"

say "11. Status, ledger and verify() after capture and payment"
q -c "SELECT account, credit_limit, posted, pending, available, status
        FROM order_credit.credit_status('retailer-42')"
q -c "SELECT entry_id, kind, amount, order_ref, posted_after, pending_after
        FROM order_credit.ledger WHERE account = 'retailer-42' ORDER BY entry_id"
[ "$(v -c "SELECT count(*) FROM order_credit.verify()")" = 0 ] || die "verify() reported violations"
note "verify(): no rows."

say "Done. Stopping the cluster and removing $DIR"
