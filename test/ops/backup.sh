#!/usr/bin/env bash
# Backups keep every row. A database that went through the mixed workload
# (test/ops/lib) is dumped four ways and restored into new databases:
#   plain       pg_dump | psql                    into an empty database
#   custom      pg_dump -Fc | pg_restore          into an empty database
#   data-plain  pg_dump --data-only | psql        into a database with the extension
#   data-custom pg_dump -Fc --data-only | pg_restore --data-only, likewise
# After each restore: every user table's rows equal the original's, every
# sequence stands where it stood, verify() is empty; replays of an old
# order_ref, payment_ref, idempotency key, event and order return the first
# result and write nothing; new calls get ids past the restored ones; a hold
# that was live at dump time expires on schedule in the restored database.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/ops/lib/ops.sh

OC_TMP=$(mktemp -d /tmp/oc_backup.XXXXXX)
chmod 755 "$OC_TMP"
trap oc_cleanup EXIT
SRC=oc_bk_src

oc_fresh_db $SRC || oc_die "cannot create $SRC"
ops_workload $SRC || oc_die "workload failed"
# A hold live at dump time, due 2 s later.
oc_psql -d $SRC -c "SELECT order_credit.reserve_credit('wl-a9', 900, 'bk-soon', '2 seconds')" >/dev/null ||
    oc_die "reserve bk-soon"
# An application role with its grants (pg_dump carries grants on the
# extension's objects as changes from the install script's).
oc_psql -d postgres -c "DO \$\$BEGIN CREATE ROLE oc_bk_app; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" &&
    oc_psql -d $SRC -c "SELECT order_credit.grant_app('oc_bk_app')" >/dev/null || oc_die "grant_app"
oc_check "verify() on the original" "" "$(oc_value $SRC "SELECT * FROM order_credit.verify()")"

pg_dump -d $SRC -f "$OC_TMP/plain.sql" || oc_die "pg_dump plain"
pg_dump -d $SRC -Fc -f "$OC_TMP/custom.dump" || oc_die "pg_dump -Fc"
pg_dump -d $SRC --data-only -f "$OC_TMP/data.sql" || oc_die "pg_dump --data-only"
pg_dump -d $SRC -Fc --data-only -f "$OC_TMP/data.dump" || oc_die "pg_dump -Fc --data-only"

# What the original answers, before any restored database is touched.
seqs=$(ops_sequences $SRC)
hold=$(oc_value $SRC "SELECT hold_id FROM order_credit.holds WHERE order_ref = 'wl-h-pending'")
max_hold=$(oc_value $SRC "SELECT max(hold_id) FROM order_credit.holds")
max_res=$(oc_value $SRC "SELECT max(reservation_id) FROM order_credit.reservations")
max_entry=$(oc_value $SRC "SELECT max(entry_id) FROM order_credit.ledger")
order=$(oc_value $SRC "SELECT (order_credit.order_status('wl-o-pending')).amount")

restored_db() { # NAME WITH_EXTENSION
    oc_psql -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" || return 1
    [ "$2" = yes ] && { oc_psql -d "$1" -c "CREATE EXTENSION order_credit" || return 1; }
    return 0
}

check_restored() { # DB [whole]
    local db=$1
    oc_log "--- $db"
    [ "${2:-}" = whole ] && oc_check "$db: the app role's grant came back" "t" \
        "$(oc_value "$db" "SELECT has_function_privilege('oc_bk_app', 'order_credit.reserve_credit(text,numeric,text,interval)', 'EXECUTE')")"
    ops_compare_tables $SRC "$db"
    oc_check "$db: sequences" "$seqs" "$(ops_sequences "$db")"
    oc_check "$db: verify()" "" "$(oc_value "$db" "SELECT * FROM order_credit.verify()")"
    local ledger
    ledger=$(oc_value "$db" "SELECT count(*) FROM order_credit.ledger")
    # Replays: the first result, nothing written.
    oc_check "$db: reserve_credit replay" "$hold" \
        "$(oc_value "$db" "SELECT hold_id FROM order_credit.reserve_credit('wl-a2', 100, 'wl-h-pending')")"
    oc_check "$db: record_payment replay" "$(oc_value "$db" "SELECT posted FROM order_credit.credit_status('wl-a2')")" \
        "$(oc_value "$db" "SELECT posted FROM order_credit.record_payment('wl-a2', 200, 'wl-pay-1')")"
    oc_check "$db: idempotency key replay" "replay 201 {\"order\": \"wl-o-paid\"}" \
        "$(oc_value "$db" "SELECT state || ' ' || response_code || ' ' || response FROM order_credit.idempotency_begin('wl-k-done', 'fp-1')")"
    oc_check "$db: event already processed" "f" \
        "$(oc_value "$db" "SELECT order_credit.process_once('wl-psp', 'evt-3')")"
    oc_check "$db: place_order replay" "$order" \
        "$(oc_value "$db" "SELECT amount FROM order_credit.place_order('wl-o-pending',
             '[{\"sku\":\"wl-one\",\"quantity\":2,\"unit_price\":10},{\"sku\":\"wl-eight\",\"quantity\":1,\"unit_price\":25.25}]', 'wl-a5')")"
    oc_check "$db: replays wrote no ledger entry" "$ledger" "$(oc_value "$db" "SELECT count(*) FROM order_credit.ledger")"
    # New calls continue past the restored ids.
    oc_check "$db: new hold id past the restored ones" "t" \
        "$(oc_value "$db" "SELECT hold_id > $max_hold FROM order_credit.reserve_credit('wl-a3', 10, 'bk-new')")"
    oc_check "$db: new reservation id past the restored ones" "t" \
        "$(oc_value "$db" "SELECT bool_and(reservation_id > $max_res) FROM order_credit.reserve_stock('[{\"sku\":\"wl-four\",\"quantity\":1},{\"sku\":\"wl-eight\",\"quantity\":1}]', 'bk-new-r')")"
    oc_check "$db: new order placed" "pending" \
        "$(oc_value "$db" "SELECT status FROM order_credit.place_order('bk-new-o', '[{\"sku\":\"wl-eight\",\"quantity\":1,\"unit_price\":5}]', 'wl-a3')")"
    oc_check "$db: and paid" "paid" "$(oc_value "$db" "SELECT status FROM order_credit.confirm_order('bk-new-o', 'bk-pay')")"
    oc_check "$db: new ledger entries after the restored ones" "t" \
        "$(oc_value "$db" "SELECT min(entry_id) > $max_entry FROM order_credit.ledger WHERE order_ref LIKE 'bk-new%'")"
    oc_check "$db: verify() after new calls" "" "$(oc_value "$db" "SELECT * FROM order_credit.verify()")"
    oc_log "$db checked at ${SECONDS}s"
}

restored_db oc_bk_plain no && oc_psql -d oc_bk_plain -f "$OC_TMP/plain.sql" >/dev/null || oc_die "restore plain"
check_restored oc_bk_plain whole
restored_db oc_bk_custom no && pg_restore --exit-on-error -d oc_bk_custom "$OC_TMP/custom.dump" || oc_die "restore custom"
check_restored oc_bk_custom whole
restored_db oc_bk_data_plain yes && oc_psql -d oc_bk_data_plain -f "$OC_TMP/data.sql" >/dev/null || oc_die "restore data-only plain"
check_restored oc_bk_data_plain
restored_db oc_bk_data_custom yes && pg_restore --exit-on-error --data-only -d oc_bk_data_custom "$OC_TMP/data.dump" ||
    oc_die "restore data-only custom"
check_restored oc_bk_data_custom

# Expiry on restored holds: bk-soon was pending at dump time.
oc_wait_for oc_bk_custom "SELECT (expires_at < now())::text FROM order_credit.holds WHERE order_ref = 'bk-soon'" true 10 ||
    oc_die "bk-soon never fell due"
for db in oc_bk_plain oc_bk_custom oc_bk_data_plain oc_bk_data_custom; do
    oc_check "$db: a restored hold past its expiry reads expired" "0" \
        "$(oc_value $db "SELECT count(*) FROM order_credit.active_holds WHERE order_ref = 'bk-soon'")"
    oc_value $db "SELECT order_credit.expire_due()" >/dev/null
    oc_check "$db: expire_due() expires it" "expired" \
        "$(oc_value $db "SELECT status FROM order_credit.holds WHERE order_ref = 'bk-soon'")"
    oc_check "$db: verify() after expiry" "" "$(oc_value $db "SELECT * FROM order_credit.verify()")"
done

# The extension's schema alone is data without CREATE EXTENSION: it restores
# only into a database that already has the extension (README, "Backups").
pg_dump -d $SRC -n order_credit -f "$OC_TMP/schema.sql" || oc_die "pg_dump -n"
oc_check "pg_dump -n order_credit holds no CREATE EXTENSION" "0" "$(grep -c 'CREATE EXTENSION' "$OC_TMP/schema.sql")"

for db in $SRC oc_bk_plain oc_bk_custom oc_bk_data_plain oc_bk_data_custom; do
    oc_psql -d postgres -c "DROP DATABASE $db" >/dev/null
done
oc_psql -d postgres -c "DROP ROLE oc_bk_app" >/dev/null
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
