#!/usr/bin/env bash
# expire_due takes its locks in the extension's order (orders, stock buckets,
# accounts), as buyers do: 32 buyers place two-SKU orders on one account
# (half paid at once, half left to fall due after 1 s) while 3 sessions run
# expire_due(50) on its SQL path, for OC_LOCK_ORDER_SECONDS (default 30). No
# transaction may end in a deadlock (pgbench --max-tries=1
# --failures-detailed counts them). With the sweep taking accounts before
# buckets this gave 15 deadlocks in 50 s here; verify() must be empty.
#
# The sweep never waits behind a buyer: SKIP LOCKED alone still waits for a
# transaction updating a newer version of a row it locks, so each step runs
# with a 1 ms lock timeout and is skipped when it would wait. The sweeps log
# every lock wait over 2 ms (sweep.pgbench); the server log must have none.
# (Without the timeout: 41 in 20 s here, "while locking updated version".)
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/stress/lib/common.sh
OC_TMP=$(mktemp -d /tmp/oc_lock_order.XXXXXX)
trap oc_cleanup EXIT
DB=oc_lock_order
SECS=${OC_LOCK_ORDER_SECONDS:-30}
oc_fresh_db $DB || oc_die "cannot create $DB"
oc_psql -d $DB -c "SELECT order_credit.create_account('D0', 1000000000)" \
    -c "SELECT order_credit.set_stock('DG', 100000000)" -c "SELECT order_credit.set_stock('DH', 100000000)" \
    >/dev/null || oc_die "setup"
dir=test/stress/expire_lock_order
LOG=${OC_SERVER_LOG:-$PGHOST/server.log}
[ -r "$LOG" ] || oc_die "server log $LOG not readable (set OC_SERVER_LOG)"
offset=$(stat -c %s "$LOG")
pgbench -n -c 32 -j 2 -T "$SECS" --max-tries=1 --failures-detailed -f $dir/buyer.pgbench $DB \
    >"$OC_TMP/buyers.log" 2>&1 &
buyers=$!
pgbench -n -c 3 -j 1 -T "$SECS" --max-tries=1 --failures-detailed -f $dir/sweep.pgbench $DB \
    >"$OC_TMP/sweeps.log" 2>&1 &
sweeps=$!
wait $buyers
rb=$?
wait $sweeps
rs=$?
field() { sed -n "s/^number of $1: \([0-9]*\).*/\1/p" "$2"; }
oc_log "buyers: $(field 'transactions actually processed' "$OC_TMP/buyers.log") transactions;" \
    "sweeps: $(field 'transactions actually processed' "$OC_TMP/sweeps.log") expire_due calls"
oc_check "pgbench buyers ran to the end" 0 $rb
oc_check "pgbench sweeps ran to the end" 0 $rs
[ $rb -eq 0 ] && [ $rs -eq 0 ] || tail -n 5 "$OC_TMP/buyers.log" "$OC_TMP/sweeps.log"
oc_check "buyers' deadlocks" 0 "$(field 'deadlock failures' "$OC_TMP/buyers.log")"
oc_check "sweeps' deadlocks" 0 "$(field 'deadlock failures' "$OC_TMP/sweeps.log")"
oc_check "expired orders swept" t \
    "$(oc_value $DB "SELECT count(*) > 0 FROM order_credit.orders WHERE status = 'expired'")"
# Waits logged by the sweeps: "still waiting ... after 2.x ms" (a buyer's
# would say after 1000 ms or more).
sweep_waits=$(tail -c +$((offset + 1)) "$LOG" | grep -E "still waiting for .* after [0-9]{1,3}\.[0-9]+ ms" -c)
[ "$sweep_waits" -eq 0 ] || tail -c +$((offset + 1)) "$LOG" | grep -E -A3 "still waiting for .* after [0-9]{1,3}\.[0-9]+ ms" | head -n 12
oc_check "lock waits of the sweeps over 2 ms" 0 "$sweep_waits"
oc_check "verify()" "" "$(oc_value $DB "SELECT * FROM order_credit.verify()")"
oc_psql -d postgres -c "DROP DATABASE $DB" >/dev/null
[ $OC_FAILURES -eq 0 ] || exit 1
oc_log "passed"
