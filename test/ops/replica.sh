#!/usr/bin/env bash
# A streaming hot standby of a primary running order_credit, then a failover
# under load. Two clusters of its own (ports OC_REPLICA_PORT and the next
# one, default 55520/55521), both with order_credit preloaded and its
# sweeper configured for the test database.
#
# On the standby, once replay has caught up with the primary:
#  - credit_status, stock_status and order_status of every account, item
#    and order, the views account_balances, active_holds, stock_levels and
#    active_reservations, and verify() return exactly what the primary
#    returns; order_credit.stats is readable (it counts this server's calls);
#  - every write function (VOLATILE SECURITY DEFINER in pg_proc) raises
#    25006 "order_credit.<name>() cannot run on a standby server", the try_
#    variants included; any other outcome fails the test;
#  - no sweeper process runs while a hold, a reservation and an order are
#    due and unswept (the primary's sweeper is kept off them by a session
#    holding their rows locked).
# Failover: synchronous_standby_names = '*'; 8 clients run reserve_credit,
# reserve_stock, place_order and confirm_order with unique refs, each
# appending a ref to its ack file only after the server acknowledged its
# COMMIT; the primary is stopped with -m immediate and the standby promoted
# with pg_promote(). On the promoted server: every acked operation is there
# with its effect, verify() is empty, the sweeper starts and expires the due
# hold, reservation and order, and the clients go on (each acks more
# operations against it), verify() still empty. Both servers' logs are
# checked for crashes and assertion failures.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/stress/lib/common.sh

BIN=$(pg_config --bindir)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

OC_TMP=$(mktemp -d /tmp/oc_replica.XXXXXX)
chmod 755 "$OC_TMP"
P1=${OC_REPLICA_PORT:-55520}
P2=$((P1 + 1))
PRIM=$OC_TMP/primary
STBY=$OC_TMP/standby
DB=oc_replica
CLIENTS=8
START=$(now)
KILL_LOG_BYTES=""

finish() {
    touch "$OC_TMP/stop"
    scripts/cluster.sh stop "$STBY" 2>/dev/null
    scripts/cluster.sh stop "$PRIM" 2>/dev/null # already stopped (-m immediate) when the test got that far
    local crashed=0
    # The primary's log up to the immediate stop is checked like any other;
    # after it, only for assertion failures (backends terminated by the
    # stop are what an immediate shutdown does).
    if [ -f "$PRIM/server.log" ]; then
        if [ -n "$KILL_LOG_BYTES" ]; then
            head -c "$KILL_LOG_BYTES" "$PRIM/server.log" | grep -E "terminated by signal|PANIC|TRAP:" && crashed=1
            tail -c +"$((KILL_LOG_BYTES + 1))" "$PRIM/server.log" | grep -E "TRAP:|failed assertion" && crashed=1
        else
            grep -E "terminated by signal|PANIC|TRAP:" "$PRIM/server.log" && crashed=1
        fi
    fi
    [ -f "$STBY/server.log" ] && grep -E "terminated by signal|PANIC|TRAP:" "$STBY/server.log" && crashed=1
    [ $crashed -eq 1 ] && oc_log "FAIL: crash or assertion failure in a server log (above)"
    oc_cleanup
    [ $crashed -eq 0 ]
}
trap 'finish || exit 1' EXIT

on() { # on HOST PORT psql-args...: psql against one of the two servers
    local host=$1 port=$2
    shift 2
    PGHOST=$host PGPORT=$port PGUSER=postgres oc_psql "$@"
}
pval() { on "$PRIM" "$P1" -At -d $DB -c "$1"; }
sval() { on "$STBY" "$P2" -At -d $DB -c "$1"; }

PRELOAD=("shared_preload_libraries = 'order_credit'" "order_credit.database = '$DB'"
    "order_credit.sweep_interval = 100ms")

# ---------------------------------------------------------------- primary
scripts/cluster.sh start "$PRIM" "$P1" "wal_level = replica" "max_wal_senders = 4" \
    "${PRELOAD[@]}" || oc_die "primary did not start"
on "$PRIM" "$P1" -d postgres -c "CREATE DATABASE $DB" || oc_die "cannot create $DB"
on "$PRIM" "$P1" -d $DB -c "CREATE EXTENSION order_credit" || oc_die "cannot create the extension"

# Accounts, holds, stock with buckets, reservations and orders in several
# states, coordination rows.
on "$PRIM" "$P1" -d $DB >/dev/null <<'SQL' || oc_die "cannot create the data"
SELECT order_credit.create_account('acct-' || i, 1000000) FROM generate_series(0, 3) i;
SELECT order_credit.create_account('acct-blocked', 500, 'EUR');
SELECT order_credit.block_account('acct-blocked', 'replica test');
SELECT order_credit.create_account('sweep-acct', 1000);
SELECT order_credit.set_stock('sku-hot', 1000000, 4);
SELECT order_credit.set_stock('sku-' || i, 1000000, 2) FROM generate_series(0, 2) i;
SELECT order_credit.set_stock('sweep-sku', 10);
SELECT order_credit.reserve_credit('acct-0', 10, 'h-pending', '1 hour');
SELECT order_credit.reserve_credit('acct-0', 20, 'h-captured', '1 hour');
SELECT order_credit.capture_credit('h-captured');
SELECT order_credit.reserve_credit('acct-1', 5, 'h-voided', '1 hour');
SELECT order_credit.release_credit('h-voided');
SELECT order_credit.reserve_credit('acct-1', 6, 'h-forever', NULL);
SELECT order_credit.record_payment('acct-0', 5, 'pay-1');
SELECT order_credit.reserve_stock('sku-0', 3, 'r-active', '1 hour');
SELECT order_credit.reserve_stock('sku-1', 2, 'r-committed', '1 hour');
SELECT order_credit.commit_stock('r-committed');
SELECT order_credit.reserve_stock('sku-2', 1, 'r-released', '1 hour');
SELECT order_credit.release_stock('r-released');
SELECT order_credit.reserve_stock('[{"sku": "sku-0", "quantity": 1}, {"sku": "sku-hot", "quantity": 2}]'::jsonb, 'r-multi', '1 hour');
SELECT order_credit.place_order('o-pending', '[{"sku": "sku-hot", "quantity": 2, "unit_price": 3}]', 'acct-2', '1 hour');
SELECT order_credit.place_order('o-paid', '[{"sku": "sku-0", "quantity": 1, "unit_price": 7}]', 'acct-2', '1 hour');
SELECT order_credit.confirm_order('o-paid');
SELECT order_credit.place_order('o-shipped', '[{"sku": "sku-1", "quantity": 1, "unit_price": 9}]', 'acct-3', '1 hour');
SELECT order_credit.confirm_order('o-shipped');
SELECT order_credit.set_order_status('o-shipped', 'processing');
SELECT order_credit.set_order_status('o-shipped', 'shipped');
SELECT order_credit.place_order('o-cancelled', '[{"sku": "sku-2", "quantity": 4, "unit_price": 1}]', 'acct-3', '1 hour');
SELECT order_credit.cancel_order('o-cancelled', 'replica test');
SELECT order_credit.place_order('o-stock-only', '[{"sku": "sku-hot", "quantity": 1, "unit_price": 1}]', NULL, '1 hour');
SELECT order_credit.acquire_lease('lease-1', 'owner-1', '1 hour');
SELECT order_credit.idempotency_begin('idem-1', 'fp', NULL);
SELECT order_credit.process_once('src', 'event-1');
-- Due in 3 seconds: a hold, a reservation and an order that the sweeper
-- must not expire until the promotion (their rows are locked below).
SELECT order_credit.reserve_credit('sweep-acct', 7, 'sweep-hold', '3 seconds');
SELECT order_credit.reserve_stock('sweep-sku', 1, 'sweep-res', '3 seconds');
SELECT order_credit.place_order('sweep-order', '[{"sku": "sweep-sku", "quantity": 2, "unit_price": 5}]', 'sweep-acct', '3 seconds');
SQL

# A session on the primary keeps the due rows locked until the primary
# dies: the sweeper skips locked rows, so they stay due and unswept on the
# primary and on the standby.
mkfifo "$OC_TMP/locker.fifo"
on "$PRIM" "$P1" -d $DB -f "$OC_TMP/locker.fifo" >"$OC_TMP/locker.out" 2>&1 &
OC_PIDS+=($!)
exec 7>"$OC_TMP/locker.fifo"
cat >&7 <<'SQL'
BEGIN;
SELECT 1 FROM order_credit.accounts WHERE account = 'sweep-acct' FOR UPDATE;
SELECT 1 FROM order_credit.stock_buckets WHERE sku = 'sweep-sku' FOR UPDATE;
SELECT 1 FROM order_credit.orders WHERE order_ref = 'sweep-order' FOR UPDATE;
SELECT pg_sleep(1000);
SQL
PGHOST=$PRIM PGPORT=$P1 PGUSER=postgres oc_wait_for $DB \
    "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND wait_event = 'PgSleep'" 1 10 ||
    oc_die "the locking session did not start"
# (The sweeper may be between restarts: it started before the database
# existed, exits when it does not, and the postmaster starts it again 1 s later.)
PGHOST=$PRIM PGPORT=$P1 PGUSER=postgres oc_wait_for $DB \
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'" 1 10 &&
    oc_log "ok:   sweeper on the primary" || { oc_log "FAIL: no sweeper on the primary"; OC_FAILURES=$((OC_FAILURES + 1)); }

# ---------------------------------------------------------------- standby
mkdir -p "$STBY"
[ "$(id -u)" -eq 0 ] && chown postgres: "$STBY"
as_pg "$BIN/pg_basebackup" -h "$PRIM" -p "$P1" -U postgres -D "$STBY/data" -R -X stream \
    -C -S oc_standby --checkpoint=fast >"$STBY/basebackup.log" 2>&1 ||
    { cat "$STBY/basebackup.log"; oc_die "pg_basebackup failed"; }
{
    echo "port = $P2"
    echo "unix_socket_directories = '$STBY'"
    echo "hot_standby = on"
} >>"$STBY/data/postgresql.conf"
as_pg "$BIN/pg_ctl" -D "$STBY/data" -l "$STBY/server.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$STBY/server.log"; oc_die "standby did not start"; }
oc_check "standby in recovery" t "$(sval "SELECT pg_is_in_recovery()")"
oc_check "standby preloads order_credit" "order_credit" "$(sval "SHOW shared_preload_libraries")"
oc_log "primary and standby up after $(since "$START") s"

# Waits until the standby has replayed everything the primary wrote so far.
caught_up() {
    local lsn
    lsn=$(pval "SELECT pg_current_wal_lsn()")
    PGHOST=$STBY PGPORT=$P2 PGUSER=postgres oc_wait_for $DB \
        "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" t 20
}

# What a reader sees: the status functions for every account, item and
# order, the views (expires_in left out: it counts down with the clock) and
# verify().
SNAPSHOT="
SELECT 'credit_status', s::text FROM order_credit.accounts a,
       LATERAL order_credit.credit_status(a.account) s ORDER BY 2;
SELECT 'stock_status', s::text FROM order_credit.items i,
       LATERAL order_credit.stock_status(i.sku) s ORDER BY 2;
SELECT 'order_status', s::text FROM order_credit.orders o,
       LATERAL order_credit.order_status(o.order_ref) s ORDER BY 2;
SELECT 'account_balances', b::text FROM order_credit.account_balances b ORDER BY 2;
SELECT 'active_holds', (h.hold_id, h.account, h.order_ref, h.amount, h.expires_at, h.created_at)::text
  FROM order_credit.active_holds h ORDER BY 2;
SELECT 'stock_levels', l::text FROM order_credit.stock_levels l ORDER BY 2;
SELECT 'active_reservations', (r.reservation_id, r.order_ref, r.sku, r.quantity, r.expires_at, r.created_at)::text
  FROM order_credit.active_reservations r ORDER BY 2;
SELECT 'verify', v::text FROM order_credit.verify() v ORDER BY 2;"

# The due rows are due (3 s after they were made) on both servers.
sleep 3
caught_up || oc_die "the standby did not catch up with the primary"
on "$PRIM" "$P1" -At -d $DB -c "$SNAPSHOT" >"$OC_TMP/primary.snap" || oc_die "snapshot on the primary failed"
on "$STBY" "$P2" -At -d $DB -c "$SNAPSHOT" >"$OC_TMP/standby.snap" 2>"$OC_TMP/standby.snap.err" ||
    { cat "$OC_TMP/standby.snap.err"; oc_die "snapshot on the standby failed"; }
if cmp -s "$OC_TMP/primary.snap" "$OC_TMP/standby.snap"; then
    oc_log "ok:   standby reads = primary reads ($(wc -l <"$OC_TMP/standby.snap") rows: $(cut -d'|' -f1 "$OC_TMP/standby.snap" | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')verify included)"
else
    diff "$OC_TMP/primary.snap" "$OC_TMP/standby.snap" | head -n 20
    oc_log "FAIL: the standby's reads differ from the primary's"
    OC_FAILURES=$((OC_FAILURES + 1))
fi
for kind in credit_status stock_status order_status account_balances active_holds stock_levels active_reservations; do
    grep -q "^$kind|" "$OC_TMP/standby.snap" || { oc_log "FAIL: no $kind rows"; OC_FAILURES=$((OC_FAILURES + 1)); }
done
oc_check "verify() on the standby" 0 "$(sval "SELECT count(*) FROM order_credit.verify()")"
oc_check "orders in several states (standby)" "cancelled,expired-by-clock,paid,pending,shipped" \
    "$(sval "SELECT string_agg(DISTINCT CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired-by-clock' ELSE status END, ',')
               FROM order_credit.orders")"
oc_check "expires_in readable in active_holds (standby)" t \
    "$(sval "SELECT bool_and(expires_in > interval '0') FROM order_credit.active_holds WHERE expires_in IS NOT NULL")"

# The due hold, reservation and order: exact on read (no longer counted),
# still pending in storage, and no sweeper on the standby to touch them.
oc_check "due hold not counted by credit_status (standby)" "0,1000" \
    "$(sval "SELECT pending || ',' || available FROM order_credit.credit_status('sweep-acct')")"
oc_check "due rows unswept in storage (standby)" "pending,17,3,pending" \
    "$(sval "SELECT (SELECT string_agg(DISTINCT status, ',') FROM order_credit.holds WHERE account = 'sweep-acct') || ',' ||
                    (SELECT pending FROM order_credit.accounts WHERE account = 'sweep-acct') || ',' ||
                    (SELECT sum(reserved) FROM order_credit.stock_buckets WHERE sku = 'sweep-sku') || ',' ||
                    (SELECT status FROM order_credit.orders WHERE order_ref = 'sweep-order')")"
sweepers=0
for _ in $(seq 15); do # 1.5 s: 15 sweep intervals
    n=$(sval "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'")
    sweepers=$((sweepers + n))
    sleep 0.1
done
oc_check "sweeper processes seen on the standby in 1.5 s (15 samples)" 0 "$sweepers"
oc_check "due rows still unswept in storage (standby)" "pending,17" \
    "$(sval "SELECT string_agg(DISTINCT h.status, ',') || ',' || a.pending FROM order_credit.holds h
               JOIN order_credit.accounts a USING (account) WHERE account = 'sweep-acct' GROUP BY a.pending")"

# Every write function refuses with 25006 and the standby message.
write_functions=$(sval "SELECT count(*) FROM pg_proc WHERE pronamespace = 'order_credit'::regnamespace
                          AND provolatile = 'v' AND prosecdef")
on "$STBY" "$P2" -d $DB >/dev/null 2>"$OC_TMP/refusals" <<'SQL'
DO $$
DECLARE
    r record;
    code text;
    msg text;
BEGIN
    FOR r IN
        SELECT p.proname,
               (SELECT string_agg(format('%L::%s', '1', format_type(t, NULL)), ', ')
                  FROM unnest(p.proargtypes::oid[]) t) AS args
          FROM pg_proc p
         WHERE p.pronamespace = 'order_credit'::regnamespace
           AND p.provolatile = 'v' AND p.prosecdef
    LOOP
        BEGIN
            EXECUTE format('SELECT order_credit.%I(%s)', r.proname, coalesce(r.args, ''));
            code := '00000';
            msg := 'no error';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        END;
        RAISE NOTICE 'refusal|%|%|%', r.proname, code, msg;
    END LOOP;
END $$;
SQL
refused=$(grep -cE "refusal\|([a-z_]+)\|25006\|order_credit\.\1\(\) cannot run on a standby server$" "$OC_TMP/refusals")
calls=$(grep -c "refusal|" "$OC_TMP/refusals")
grep "refusal|" "$OC_TMP/refusals" | grep -vE "refusal\|([a-z_]+)\|25006\|order_credit\.\1\(\) cannot run on a standby server$" |
    sed 's/^/    not refused: /'
oc_check "write functions called on the standby" "$write_functions" "$calls"
oc_check "write functions refused with 25006 and the standby message" "$write_functions" "$refused"
[ "$write_functions" -ge 30 ] || oc_die "only $write_functions write functions found in pg_proc"
on "$STBY" "$P2" -d $DB -v VERBOSITY=verbose -c "SELECT order_credit.reserve_credit('acct-0', 1, 'on-standby')" \
    >/dev/null 2>"$OC_TMP/one_refusal"
oc_check "reserve_credit on the standby: message" "ERROR:  25006: order_credit.reserve_credit() cannot run on a standby server" \
    "$(grep '^ERROR' "$OC_TMP/one_refusal")"
oc_check "reserve_credit on the standby: hint" "HINT:  Run it on the primary server." "$(grep '^HINT' "$OC_TMP/one_refusal")"
oc_check "stats on the standby count its own calls" t \
    "$(sval "SELECT sum(calls) >= 2 FROM order_credit.stats WHERE operation = 'reserve_credit'")"
oc_check "stats_reset() on the standby" 0 \
    "$(sval "SELECT order_credit.stats_reset()" >/dev/null && sval "SELECT count(*) FROM order_credit.stats WHERE operation = 'reserve_credit'")"
oc_check "try_lock on the standby" t "$(sval "SELECT order_credit.try_lock('standby-lock')")"
oc_log "standby checks done after $(since "$START") s"

# ---------------------------------------------------------------- failover
on "$PRIM" "$P1" -d postgres -c "ALTER SYSTEM SET synchronous_standby_names = '*'" \
    -c "SELECT pg_reload_conf()" >/dev/null || oc_die "cannot set synchronous_standby_names"
PGHOST=$PRIM PGPORT=$P1 PGUSER=postgres oc_wait_for $DB \
    "SELECT string_agg(sync_state, ',') FROM pg_stat_replication" sync 10 ||
    oc_die "the standby did not become synchronous"
oc_check "synchronous_commit on the primary" on "$(pval "SHOW synchronous_commit")"

echo "$PRIM $P1" >"$OC_TMP/target"
# One client: one operation per transaction, a unique ref each; the line
# "op ref port" goes to its ack file only when COMMIT came back OK.
client() {
    local i=$1 n=0 acct="acct-$(($1 % 4))" last_order="" host port op ref sql
    local ack=$OC_TMP/ack.$i
    : >"$ack"
    while [ ! -e "$OC_TMP/stop" ]; do
        read -r host port <"$OC_TMP/target"
        n=$((n + 1))
        ref="c$i-$n"
        case $((n % 4)) in
        1) op=reserve_credit sql="SELECT order_credit.reserve_credit('$acct', 1, '$ref', '1 hour')" ;;
        2) op=reserve_stock sql="SELECT order_credit.reserve_stock('sku-$((n % 3))', 1, '$ref', '1 hour')" ;;
        3) op=place_order sql="SELECT order_credit.place_order('$ref', '[{\"sku\": \"sku-hot\", \"quantity\": 1, \"unit_price\": 2}]', '$acct', '1 hour')" ;;
        0)
            [ -n "$last_order" ] || continue
            op=confirm_order ref=$last_order sql="SELECT order_credit.confirm_order('$ref')"
            ;;
        esac
        if psql -X -q -h "$host" -p "$port" -U postgres -d $DB -v ON_ERROR_STOP=1 \
            -c "BEGIN" -c "$sql" -c "COMMIT" >/dev/null 2>>"$OC_TMP/err.$i"; then
            echo "$op $ref $port" >>"$ack"
            [ $op = place_order ] && last_order=$ref
        else
            echo "$op $ref $port" >>"$OC_TMP/fail.$i"
            [ $op = place_order ] && last_order=""
            sleep 0.05
        fi
    done
}
CLIENT_PIDS=()
for i in $(seq $CLIENTS); do
    client "$i" &
    CLIENT_PIDS+=($!)
    OC_PIDS+=($!)
done
acked() { cat "$OC_TMP"/ack.* 2>/dev/null | awk -v p="$1" '$3 == p' | wc -l; }
sleep 5
oc_log "acked before the stop: $(acked "$P1") operations in 5 s, $CLIENTS clients"
[ "$(acked "$P1")" -ge $((2 * CLIENTS)) ] || oc_die "the workload hardly ran: $(acked "$P1") operations acked"

KILL_LOG_BYTES=$(stat -c %s "$PRIM/server.log")
t_kill=$(now)
as_pg "$BIN/pg_ctl" -D "$PRIM/data" -m immediate stop >/dev/null || oc_die "pg_ctl stop -m immediate failed"
exec 7>&-
oc_check "promote" t "$(sval "SELECT pg_promote(true, 30)")"
echo "$STBY $P2" >"$OC_TMP/target.new" && mv "$OC_TMP/target.new" "$OC_TMP/target"
oc_log "primary stopped (immediate) and standby promoted in $(since "$t_kill") s"
oc_check "promoted server out of recovery" f "$(sval "SELECT pg_is_in_recovery()")"
oc_check "promoted server has no synchronous standby to wait for" "" "$(sval "SHOW synchronous_standby_names")"

# The clients go on against the promoted server: each acks 3 more operations.
deadline=$((SECONDS + 30))
while :; do
    slow=0
    for i in $(seq $CLIENTS); do
        [ "$(awk -v p="$P2" '$3 == p' "$OC_TMP/ack.$i" | wc -l)" -ge 3 ] || slow=$((slow + 1))
    done
    [ $slow -eq 0 ] && break
    [ $SECONDS -ge $deadline ] && { oc_log "FAIL: $slow client(s) without 3 operations on the promoted server after 30 s"; OC_FAILURES=$((OC_FAILURES + 1)); break; }
    sleep 0.2
done
oc_log "every client acked 3 operations on the promoted server $(since "$t_kill") s after the stop"
touch "$OC_TMP/stop"
wait "${CLIENT_PIDS[@]}"

# Every acked operation, with its effect.
cat "$OC_TMP"/ack.* | awk '{ print $1 "," $2 "," $3 }' >"$OC_TMP/acks.csv"
total=$(wc -l <"$OC_TMP/acks.csv")
before=$(acked "$P1")
after=$(acked "$P2")
found=$(on "$STBY" "$P2" -At -d $DB <<SQL
CREATE TEMP TABLE acks (op text, ref text, port int);
\copy acks FROM '$OC_TMP/acks.csv' WITH (FORMAT csv)
SELECT count(*) FROM acks a WHERE CASE a.op
    WHEN 'reserve_credit' THEN EXISTS (SELECT 1 FROM order_credit.holds h WHERE h.order_ref = a.ref
                                          AND h.amount = 1 AND h.status = 'pending')
    WHEN 'reserve_stock' THEN EXISTS (SELECT 1 FROM order_credit.reservations r WHERE r.order_ref = a.ref
                                         AND r.quantity = 1 AND r.status = 'active')
    WHEN 'place_order' THEN EXISTS (SELECT 1 FROM order_credit.orders o WHERE o.order_ref = a.ref
                                       AND o.amount = 2)
                        AND EXISTS (SELECT 1 FROM order_credit.reservations r WHERE r.order_ref = a.ref
                                       AND r.sku = 'sku-hot' AND r.quantity = 1)
                        AND EXISTS (SELECT 1 FROM order_credit.holds h WHERE h.order_ref = a.ref
                                       AND h.amount = 2)
    WHEN 'confirm_order' THEN EXISTS (SELECT 1 FROM order_credit.orders o WHERE o.order_ref = a.ref
                                         AND o.status = 'paid')
                          AND EXISTS (SELECT 1 FROM order_credit.holds h WHERE h.order_ref = a.ref
                                         AND h.status = 'captured')
    END;
SQL
)
oc_log "acked operations: $total ($before before the stop, $after after the promotion); found with their effect: $found; missing: $((total - found))"
oc_log "acked by operation: $(cut -d, -f1 "$OC_TMP/acks.csv" | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')"
oc_check "acked operations missing on the promoted server" 0 "$((total - found))"
oc_check "verify() on the promoted server" 0 "$(sval "SELECT count(*) FROM order_credit.verify()")"
failed_p1=$(cat "$OC_TMP"/fail.* 2>/dev/null | awk -v p="$P1" '$3 == p' | wc -l)
failed_p2=$(cat "$OC_TMP"/fail.* 2>/dev/null | awk -v p="$P2" '$3 == p' | wc -l)
oc_log "failed attempts (not acked): $failed_p1 against the old primary, $failed_p2 against the promoted server; client messages:"
cat "$OC_TMP"/err.* | sed -E 's/(c[0-9]+-[0-9]+|port [0-9]+|"[^"]*")/…/g' | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'

# The sweeper starts on the promoted server and expires the due rows.
t_prom=$(now)
PGHOST=$STBY PGPORT=$P2 PGUSER=postgres oc_wait_for $DB \
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper' AND datname = '$DB'" 1 10 ||
    oc_die "no sweeper on the promoted server"
PGHOST=$STBY PGPORT=$P2 PGUSER=postgres oc_wait_for $DB \
    "SELECT (SELECT string_agg(DISTINCT status, ',') FROM order_credit.holds WHERE account = 'sweep-acct') || ',' ||
            (SELECT pending FROM order_credit.accounts WHERE account = 'sweep-acct') || ',' ||
            (SELECT sum(reserved) FROM order_credit.stock_buckets WHERE sku = 'sweep-sku') || ',' ||
            (SELECT status FROM order_credit.orders WHERE order_ref = 'sweep-order')" "expired,0,0,expired" 10 ||
    { OC_FAILURES=$((OC_FAILURES + 1)); oc_log "FAIL: the due rows were not swept on the promoted server"; }
oc_log "sweeper running and the due hold, reservation and order expired $(since "$t_prom") s after the check began"
oc_check "verify() after the sweep" 0 "$(sval "SELECT count(*) FROM order_credit.verify()")"
oc_check "a new order on the promoted server" pending \
    "$(sval "SELECT status FROM order_credit.place_order('after-failover', '[{\"sku\": \"sku-0\", \"quantity\": 1, \"unit_price\": 1}]', 'acct-0', '1 hour')")"

oc_log "total $(since "$START") s"
[ "$OC_FAILURES" -eq 0 ] || { oc_log "$OC_FAILURES check(s) failed"; exit 1; }
oc_log "all checks passed"
