#!/usr/bin/env bash
# A shard that is down. Shard 3 is a database of a second cluster (port
# OC_SHARD_PORT, default PGPORT + 1). Tenant A lives on shard 3, tenant B on
# shard 0. With an order of A waiting on a lock on shard 3 (a transaction
# there holds A's account), the second cluster is stopped:
#   - the waiting call fails, and every call for A fails fast (under 5 s)
#     with 08006 (connection_failure) naming the shard's database;
#   - B's calls keep working; the fan-outs (verify) fail, saying so;
# then the cluster is started again:
#   - nothing of A's interrupted order or of the open transaction is there
#     (no order, stock and credit as before), verify() is empty everywhere;
#   - the same calls, retried with the same handles, succeed.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/shard/lib/shards.sh

OC_TMP=$(mktemp -d /tmp/oc_shard_down.XXXXXX)
chmod 755 "$OC_TMP"
PORT2=${OC_SHARD_PORT:-$((PGPORT + 1))}
C2=$OC_TMP/c2
finish() { scripts/cluster.sh stop "$C2"; oc_cleanup; }
trap finish EXIT
SYS=oc_shd PROXY=oc_shd_proxy

scripts/cluster.sh start "$C2" "$PORT2" "fsync = off" || oc_die "second cluster did not start"
sh_system $SYS "$C2" "$PORT2" || oc_die "cannot set up the sharded system"
A=$(sh_tenants $PROXY 3 1) B=$(sh_tenants $PROXY 0 1)
oc_log "tenant $A on shard 3 (second cluster, port $PORT2), tenant $B on shard 0"
on3() { PGHOST=$C2 PGPORT=$PORT2 oc_value ${SYS}_s3 "$1"; }
code_of() { grep -oE '^ERROR:  [0-9A-Z]{5}' | head -n 1 | cut -c9-; }

for t in $A $B; do
    oc_value $PROXY "SELECT order_credit.create_account('$t:acct', 1000), order_credit.set_stock('$t:item', 10)" \
        >/dev/null || oc_die "set-up of $t"
done
ORDER="'[{\"sku\": \"$A:item\", \"quantity\": 2, \"unit_price\": 50}]'"

# A transaction on shard 3 holds A's account; A's order, through the proxy,
# reserves the stock and waits for the account.
PGHOST=$C2 PGPORT=$PORT2 psql -X -q -d ${SYS}_s3 -c "BEGIN" \
    -c "SELECT order_credit.reserve_credit('$A:acct', 1, '$A:held')" -c "SELECT pg_sleep(60)" \
    >"$OC_TMP/holder.out" 2>&1 &
OC_PIDS+=($!)
PGHOST=$C2 PGPORT=$PORT2 oc_wait_for ${SYS}_s3 "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%'
                                                  AND state = 'active' AND pid <> pg_backend_pid()" 1 30 ||
    oc_die "the holding transaction did not start"
psql -X -q -At -v VERBOSITY=verbose -d $PROXY -c "SELECT status FROM order_credit.place_order('$A:o-wait', $ORDER, '$A:acct')" \
    >"$OC_TMP/waiter.out" 2>&1 &
waiter=$!
OC_PIDS+=($!)
PGHOST=$C2 PGPORT=$PORT2 oc_wait_for ${SYS}_s3 "SELECT count(*) FROM pg_locks WHERE NOT granted" 1 30 ||
    oc_die "A's order is not waiting on shard 3"
oc_check "A's stock while the order waits (reserved on shard 3, uncommitted)" 10 \
    "$(on3 "SELECT available FROM order_credit.stock_status('$A:item')")"

scripts/cluster.sh stop "$C2"
wait $waiter
# The shard ends its sessions as it shuts down (57P01, passed on as it came).
oc_log "the waiting order: $(grep -m1 '^ERROR' "$OC_TMP/waiter.out")"
oc_check "the waiting order failed as the shard shut down (57P01) or was gone (08006)" yes \
    "$(code_of <"$OC_TMP/waiter.out" | grep -qE '^(57P01|08006)$' && echo yes || echo no)"

# Calls for A fail fast; B's work.
start=$(date +%s%N)
psql -X -q -At -v VERBOSITY=verbose -d $PROXY -c "SELECT * FROM order_credit.credit_status('$A:acct')" >"$OC_TMP/a.out" 2>&1
ms=$((($(date +%s%N) - start) / 1000000))
oc_log "a call for A with shard 3 down: ${ms} ms: $(grep -m1 '^ERROR' "$OC_TMP/a.out")"
oc_check "a call for A fails in under 5 s" yes "$([ $ms -lt 5000 ] && echo yes || echo no)"
oc_check "its SQLSTATE: connection_failure" 08006 "$(code_of <"$OC_TMP/a.out")"
oc_check "its message names shard 3's database" yes \
    "$(grep -q "${SYS}_s3" "$OC_TMP/a.out" && echo yes || echo no)"
oc_check "try_reserve_credit for A also fails (it is not a refusal)" 08006 \
    "$(psql -X -q -At -v VERBOSITY=verbose -d $PROXY \
        -c "SELECT * FROM order_credit.try_reserve_credit('$A:acct', 1, '$A:o-try')" 2>&1 | code_of)"
oc_check "B places an order" pending \
    "$(oc_value $PROXY "SELECT status FROM order_credit.place_order('$B:o1',
           '[{\"sku\": \"$B:item\", \"quantity\": 2, \"unit_price\": 50}]', '$B:acct')")"
oc_check "B pays it" paid "$(oc_value $PROXY "SELECT status FROM order_credit.confirm_order('$B:o1')")"
oc_check "B reserves credit" pending \
    "$(oc_value $PROXY "SELECT status FROM order_credit.reserve_credit('$B:acct', 10, '$B:o2')")"
oc_check "verify() over every shard fails while one is down" 08006 \
    "$(psql -X -q -At -v VERBOSITY=verbose -d $PROXY -c "SELECT * FROM order_credit.verify()" 2>&1 | code_of)"

# Back up: nothing half-written.
scripts/cluster.sh restart "$C2" 2>/dev/null || oc_die "second cluster did not start again"
oc_check "A's interrupted order does not exist" OC006 \
    "$(psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY -c "SELECT * FROM order_credit.order_status('$A:o-wait')" 2>&1 |
       grep -oE '[0-9A-Z]{5}$' | head -n 1)"
oc_check "A's stock on_hand/reserved/available" "10/0/10" \
    "$(oc_value $PROXY "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('$A:item')")"
oc_check "A's credit pending/available (the open transaction's hold is gone too)" "0/1000" \
    "$(oc_value $PROXY "SELECT pending::int || '/' || available::int FROM order_credit.credit_status('$A:acct')")"
oc_check "holds, reservations, orders, ledger and audit rows of A on shard 3" "0/0/0/0/0" \
    "$(on3 "SELECT (SELECT count(*) FROM order_credit.holds) || '/' || (SELECT count(*) FROM order_credit.reservations)
               || '/' || (SELECT count(*) FROM order_credit.orders)
               || '/' || (SELECT count(*) FROM order_credit.ledger WHERE kind = 'hold')
               || '/' || (SELECT count(*) FROM order_credit.stock_audit WHERE kind <> 'set')")"
oc_check "A's order, retried with the same order_ref" pending \
    "$(oc_value $PROXY "SELECT status FROM order_credit.place_order('$A:o-wait', $ORDER, '$A:acct')")"
oc_check "and retried again: the same order (idempotent)" "pending 100" \
    "$(oc_value $PROXY "SELECT status || ' ' || amount::int FROM order_credit.place_order('$A:o-wait', $ORDER, '$A:acct')")"
oc_check "verify() over every shard" 0 "$(oc_value $PROXY "SELECT count(*) FROM order_credit.verify()")"
oc_check "verify() on shard 3" 0 "$(on3 "SELECT count(*) FROM order_credit.verify()")"

sh_drop $SYS "$C2" "$PORT2"
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
