#!/usr/bin/env bash
# Lock order under a database collation that is not byte order. Every
# stock writer takes the buckets of several SKUs in byte order (COLLATE "C",
# as core sorts them); a statement that sorted them by the database's
# collation would take them in another order when the two differ, and two
# calls could deadlock. In an ICU en-US database 'a1' sorts before 'B1'; in
# byte order 'B1' comes first.
#
#   Z  holds a1 (an open reservation)
#   Y  commit_stock of an order of a1 and B1: waits (for a1, or for B1 and
#      then a1: byte order takes B1 first)
#   X  reserve_stock of a1 and B1 in one call: byte order, B1 first
#   Z  commits
# Sorted by the collation, Y would wait for a1 holding nothing, X would take
# B1 and wait for a1, and once Z ends Y would get a1 and wait for B1: a
# deadlock (40P01). In byte order both calls succeed.
cd "$(dirname "$0")" && source lib/common.sh
DB=oc_stress_icu_order
OC_TMP=$(mktemp -d)
chmod 777 "$OC_TMP"
trap oc_cleanup EXIT

oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
    -c "CREATE DATABASE $DB TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'
          LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" || oc_die "cannot create an ICU database"
oc_psql -d $DB -c "CREATE EXTENSION order_credit" || oc_die "CREATE EXTENSION"
# The premise: the database's order and byte order disagree on these SKUs.
oc_check "'a1' < 'B1' in the database's collation" t "$(oc_value $DB "SELECT 'a1' < 'B1'")"
oc_check "'a1' < 'B1' in byte order" f "$(oc_value $DB "SELECT 'a1' < 'B1' COLLATE \"C\"")"
oc_psql -d $DB -c "SELECT order_credit.set_stock('a1', 10), order_credit.set_stock('B1', 10)" \
    -c "SELECT count(*) FROM order_credit.reserve_stock(
          '[{\"sku\": \"a1\", \"quantity\": 1}, {\"sku\": \"B1\", \"quantity\": 1}]', 'o1', interval '1 hour')" \
    >/dev/null || oc_die "setup"

# session NAME: a psql reading its commands from a FIFO held open on a new
# file descriptor (stored in FD_NAME); its output goes to $OC_TMP/NAME.out.
session() {
    mkfifo "$OC_TMP/$1.fifo"
    psql -X -q -d $DB -f "$OC_TMP/$1.fifo" >"$OC_TMP/$1.out" 2>&1 &
    OC_PIDS+=($!)
    eval "exec {FD_$1}>\"\$OC_TMP/\$1.fifo\""
}
send() { local fd="FD_$1"; echo "$2" >&"${!fd}"; }
waiting() { # application_name -> waits until that session waits for a lock
    oc_wait_for $DB "SELECT count(*) FROM pg_stat_activity
                      WHERE application_name = '$1' AND wait_event_type = 'Lock'" 1 20 ||
        oc_die "session $1 is not waiting for a lock"
}
for s in Z Y X; do session $s; send $s "SET application_name = '$s';"; done

send Z "BEGIN; SELECT order_credit.reserve_stock('a1', 1, 'z') IS NOT NULL AS z_reserved;"
oc_wait_for $DB "SELECT count(*) FROM pg_stat_activity
                  WHERE application_name = 'Z' AND state = 'idle in transaction'" 1 20 ||
    oc_die "session Z did not reserve"
send Y "SELECT count(*) AS y_committed FROM order_credit.commit_stock('o1');"
waiting Y
send X "SELECT count(*) AS x_reserved FROM order_credit.reserve_stock(
          '[{\"sku\": \"a1\", \"quantity\": 1}, {\"sku\": \"B1\", \"quantity\": 1}]', 'x');"
waiting X
send Z "COMMIT;"
for s in Z Y X; do send $s '\q'; eval "exec {FD_$s}>&-"; done
wait
for s in Z Y X; do oc_log "session $s: $(tr '\n' ' ' <"$OC_TMP/$s.out")"; done

oc_check "errors (40P01 deadlock or 55P03 lock timeout)" 0 "$(cat "$OC_TMP"/*.out | grep -c ERROR)"
oc_check "o1 committed" "committed,committed" \
    "$(oc_value $DB "SELECT string_agg(status, ',') FROM order_credit.reservations WHERE order_ref = 'o1'")"
oc_check "x reserved both" 2 \
    "$(oc_value $DB "SELECT count(*) FROM order_credit.active_reservations WHERE order_ref = 'x'")"
oc_check "stock a1, B1 (on_hand/reserved)" "9/2 9/1" \
    "$(oc_value $DB "SELECT (SELECT on_hand || '/' || reserved FROM order_credit.stock_status('a1'))
                      || ' ' || (SELECT on_hand || '/' || reserved FROM order_credit.stock_status('B1'))")"
oc_check "verify() rows" 0 "$(oc_value $DB "SELECT count(*) FROM order_credit.verify()")"
oc_psql -d postgres -c "DROP DATABASE $DB"
[ "$OC_FAILURES" -eq 0 ]
