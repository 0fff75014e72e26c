# Shared helpers of the operations scenarios (test/ops/*.sh), on top of the
# stress helpers. Sourced, never run.
source test/stress/lib/common.sh

# ops_workload DB [SECONDS]: the deterministic mixed workload, then SECONDS
# (default 3) of 8 concurrent clients placing, paying and reserving.
ops_workload() {
    local db=$1 secs=${2:-3}
    oc_psql -d "$db" -f test/ops/lib/mixed_workload.sql >/dev/null || return 1
    oc_psql -d "$db" -c "SELECT order_credit.set_stock('wl-pb', 1000000, 4)" \
        -c "SELECT order_credit.set_stock('wl-pb8', 1000000, 8)" >/dev/null || return 1
    pgbench -n -c 8 -j 2 -T "$secs" -f test/ops/lib/concurrent.pgbench "$db" >"${OC_TMP:-/tmp}/pgbench_$db.log" 2>&1 ||
        { cat "${OC_TMP:-/tmp}/pgbench_$db.log"; return 1; }
}

# The user tables, as the extension registers them for pg_dump.
ops_user_tables() {
    oc_value "$1" "SELECT c.relname FROM pg_extension e, unnest(e.extconfig) r(oid)
                     JOIN pg_class c ON c.oid = r.oid
                    WHERE e.extname = 'order_credit' AND c.relkind = 'r' ORDER BY 1"
}

# ops_table_digest DB TABLE [COLUMNS]: md5 of the table's rows, in a
# canonical order; with COLUMNS (as ops_table_columns gives them) only those,
# in that order (the columns a table had before an update added some).
ops_table_digest() {
    local row="t::text"
    [ -n "${3:-}" ] && row="row(t.${3//,/, t.})::text"
    oc_value "$1" "SELECT md5(coalesce(string_agg($row, E'\n' ORDER BY $row), ''))
                     FROM order_credit.$2 t"
}

# ops_table_columns DB TABLE: its columns, comma-separated, in order.
ops_table_columns() {
    oc_value "$1" "SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute
                    WHERE attrelid = 'order_credit.$2'::regclass AND attnum > 0 AND NOT attisdropped"
}

# ops_compare_tables DB1 DB2: every user table of DB1 has the same rows in
# DB2 (contents, not counts). Records a failure per table that differs.
ops_compare_tables() {
    local t n
    for t in $(ops_user_tables "$1"); do
        n=$(oc_value "$1" "SELECT count(*) FROM order_credit.$t")
        oc_check "$t ($n rows) equal in $2" "$(ops_table_digest "$1" "$t")" "$(ops_table_digest "$2" "$t")"
    done
}

# ops_sequences DB: every registered sequence with its position.
ops_sequences() {
    oc_value "$1" "SELECT string_agg(c.relname || '=' || s.last_value, ',' ORDER BY c.relname)
                     FROM pg_extension e, unnest(e.extconfig) r(oid)
                     JOIN pg_class c ON c.oid = r.oid
                     JOIN pg_sequences s ON s.schemaname = 'order_credit' AND s.sequencename = c.relname
                    WHERE e.extname = 'order_credit'"
}
