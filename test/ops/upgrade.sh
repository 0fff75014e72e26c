#!/usr/bin/env bash
# Upgrades. For every released version older than the default one (each
# frozen install script in sql/): install it, run the mixed workload on it,
# ALTER EXTENSION order_credit UPDATE, then
#   - every user table holds exactly the rows it held before the update;
#   - the catalog (test/ops/lib/catalog.sql: functions with signatures,
#     volatility, security, proconfig, bodies, grants and comments; tables,
#     columns, constraints, indexes, triggers, views, sequences, types, what
#     pg_dump dumps) equals a fresh install of the default version;
#   - verify() is empty, and credit, stock and order operations work on the
#     upgraded rows (verify() empty again afterwards);
#   - pg_dump of the upgraded database carries every user table's rows.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/ops/lib/ops.sh

OC_TMP=$(mktemp -d /tmp/oc_upgrade.XXXXXX)
chmod 755 "$OC_TMP"
trap oc_cleanup EXIT

oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS oc_up_fresh" \
    -c "CREATE DATABASE oc_up_fresh" >/dev/null || oc_die "create oc_up_fresh"
oc_psql -d oc_up_fresh -c "CREATE EXTENSION order_credit" || oc_die "fresh install"
newest=$(oc_value oc_up_fresh "SELECT extversion FROM pg_extension WHERE extname = 'order_credit'")
oc_psql -d oc_up_fresh -At -f test/ops/lib/catalog.sql >"$OC_TMP/fresh.txt" || oc_die "catalog of the fresh install"
old_versions=$(oc_value postgres "SELECT version FROM pg_available_extension_versions
                                   WHERE name = 'order_credit' AND version <> '$newest' ORDER BY version")
[ -n "$old_versions" ] || oc_die "no released version older than $newest to upgrade from"

digests() { # DB [COLUMNS_FILE]: one line per user table with the md5 of its rows
    # (with COLUMNS_FILE, of the columns listed there per table: those it had
    # before the update; the update may add columns, NULL in the old rows)
    local t c
    for t in $(ops_user_tables oc_up_fresh); do
        c=""
        [ -n "${2:-}" ] && c=$(awk -v t="$t" '$1 == t {print $2}' "$2")
        echo "$t $(ops_table_digest "$1" "$t" "$c")"
    done
}
columns() { # DB: one line per user table with its columns
    local t
    for t in $(ops_user_tables oc_up_fresh); do echo "$t $(ops_table_columns "$1" "$t")"; done
}

for v in $old_versions; do
    db=oc_up_${v//./_}
    oc_log "--- from $v to $newest"
    oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
        -c "CREATE DATABASE $db" >/dev/null || oc_die "create $db"
    oc_psql -d "$db" -c "CREATE EXTENSION order_credit VERSION '$v'" || oc_die "install $v"
    ops_workload "$db" 2 || oc_die "workload on $v"
    digests "$db" >"$OC_TMP/before_$v.txt"
    columns "$db" >"$OC_TMP/columns_$v.txt"
    oc_psql -d "$db" -c "ALTER EXTENSION order_credit UPDATE" || oc_die "ALTER EXTENSION UPDATE from $v"
    oc_check "$v: version after the update" "$newest" \
        "$(oc_value "$db" "SELECT extversion FROM pg_extension WHERE extname = 'order_credit'")"
    digests "$db" "$OC_TMP/columns_$v.txt" >"$OC_TMP/after_$v.txt"
    oc_check "$v: user tables unchanged by the update ($(wc -l <"$OC_TMP/before_$v.txt") tables)" "" \
        "$(diff "$OC_TMP/before_$v.txt" "$OC_TMP/after_$v.txt")"
    oc_psql -d "$db" -At -f test/ops/lib/catalog.sql >"$OC_TMP/upgraded_$v.txt" || oc_die "catalog of $db"
    if diff -u "$OC_TMP/fresh.txt" "$OC_TMP/upgraded_$v.txt" >"$OC_TMP/catalog_$v.diff"; then
        oc_log "ok:   $v: catalog equals a fresh $newest ($(wc -l <"$OC_TMP/fresh.txt") lines)"
    else
        oc_log "FAIL: $v: catalog differs from a fresh $newest (- fresh, + upgraded):"
        head -n 80 "$OC_TMP/catalog_$v.diff"
        OC_FAILURES=$((OC_FAILURES + 1))
    fi
    oc_check "$v: verify() after the update" "" "$(oc_value "$db" "SELECT * FROM order_credit.verify()")"
    # Operations on the upgraded rows, old and new handles alike.
    oc_check "$v: capture an old hold" "captured" \
        "$(oc_value "$db" "SELECT status FROM order_credit.capture_credit('wl-h-pending')")"
    oc_check "$v: reserve credit" "pending" \
        "$(oc_value "$db" "SELECT status FROM order_credit.reserve_credit('wl-a2', 10, 'up-h')")"
    oc_check "$v: reserve a striped item" "active" \
        "$(oc_value "$db" "SELECT status FROM order_credit.reserve_stock('wl-eight', 3, 'up-r')")"
    oc_check "$v: an alert threshold on an old striped item" "10 8" \
        "$(oc_value "$db" "SELECT threshold || ' ' || buckets FROM order_credit.set_stock_alert('wl-eight', 10)")"
    oc_check "$v: commit an old reservation" "committed" \
        "$(oc_value "$db" "SELECT string_agg(DISTINCT status, ',') FROM order_credit.commit_stock('wl-r-multi')")"
    oc_check "$v: confirm an old order" "paid" \
        "$(oc_value "$db" "SELECT status FROM order_credit.confirm_order('wl-o-pending', 'up-pay')")"
    oc_check "$v: ship an old paid order" "processing" \
        "$(oc_value "$db" "SELECT status FROM order_credit.set_order_status('wl-o-paid', 'processing')")"
    oc_check "$v: place and cancel a new order" "cancelled" \
        "$(oc_value "$db" "SELECT order_credit.place_order('up-o', '[{\"sku\":\"wl-four\",\"quantity\":2,\"unit_price\":3}]', 'wl-a3')" >/dev/null &&
           oc_value "$db" "SELECT status FROM order_credit.cancel_order('up-o')")"
    oc_check "$v: an old idempotency key replays" "replay" \
        "$(oc_value "$db" "SELECT state FROM order_credit.idempotency_begin('wl-k-done', 'fp-1')")"
    oc_value "$db" "SELECT order_credit.expire_due()" >/dev/null || oc_die "$v: expire_due"
    oc_check "$v: the due order expired" "expired" \
        "$(oc_value "$db" "SELECT status FROM order_credit.orders WHERE order_ref = 'wl-o-due'")"
    oc_check "$v: verify() after the operations" "" "$(oc_value "$db" "SELECT * FROM order_credit.verify()")"
    oc_check "$v: pg_dump of the upgraded database carries every user table" \
        "$(ops_user_tables oc_up_fresh | wc -l)" "$(pg_dump -d "$db" --data-only | grep -c '^COPY order_credit\.')"
    oc_psql -d postgres -c "DROP DATABASE $db" >/dev/null
done

oc_psql -d postgres -c "DROP DATABASE oc_up_fresh" >/dev/null
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
