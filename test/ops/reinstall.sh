#!/usr/bin/env bash
# DROP EXTENSION and CREATE EXTENSION under the preloaded sweeper, on a
# cluster of its own:
#   - before the extension exists, the sweeper says so once in the log and
#     waits (no error, no crash, no line per interval);
#   - once created, it sweeps a due hold;
#   - DROP EXTENSION leaves nothing behind but the empty schema order_credit
#     (PostgreSQL creates a control file's schema outside the extension):
#     once it is dropped (RESTRICT: it is empty), the catalog (relations,
#     functions, types, schemas, constraints, triggers, dependencies,
#     comments) is what it was before CREATE EXTENSION;
#   - while the extension is absent again the sweeper neither errs nor
#     floods the log, and it sweeps again once the extension is back, also
#     when it is created again into the schema the last one left.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/ops/lib/ops.sh

OC_TMP=$(mktemp -d /tmp/oc_reinstall.XXXXXX)
chmod 755 "$OC_TMP"
PORT=55510
DB=oc_reinstall
C=$OC_TMP/c
# The database exists before the sweeper starts (a sweeper whose database
# does not exist exits at once and is restarted by the postmaster).
scripts/cluster.sh start "$C" $PORT "log_min_messages = log" || oc_die "cluster did not start"
trap 'scripts/cluster.sh stop "$C"; oc_cleanup' EXIT
export PGHOST=$C PGPORT=$PORT PGUSER=postgres
oc_psql -d postgres -c "CREATE DATABASE $DB" >/dev/null || oc_die "create $DB"
printf '%s\n' "shared_preload_libraries = 'order_credit'" "order_credit.database = '$DB'" \
    "order_credit.sweep_interval = 100ms" >>"$C/data/postgresql.conf"
scripts/cluster.sh restart "$C" || oc_die "preloaded cluster did not start"

LOG=$C/server.log
missing_lines() { grep -c "order_credit sweeper: extension not installed" "$LOG"; }
log_errors() { grep -E "\] (ERROR|FATAL|PANIC):" "$LOG"; }
catalog() { # everything in the database's catalog, by name
    oc_value $DB "SET client_min_messages = warning; SELECT kind || ' ' || name FROM (
        SELECT 'class', c.oid::regclass::text FROM pg_class c UNION ALL
        SELECT 'proc', p.oid::regprocedure::text FROM pg_proc p UNION ALL
        SELECT 'type', t.oid::regtype::text FROM pg_type t UNION ALL
        SELECT 'schema', nspname FROM pg_namespace UNION ALL
        SELECT 'constraint', conname FROM pg_constraint UNION ALL
        SELECT 'trigger', tgname FROM pg_trigger UNION ALL
        SELECT 'extension', extname FROM pg_extension UNION ALL
        SELECT 'depend', pg_describe_object(classid, objid, objsubid) || ' -> ' ||
               pg_describe_object(refclassid, refobjid, refobjsubid) || ' ' || deptype::text
          FROM pg_depend WHERE classid <> 0 AND refclassid <> 0 AND objid >= 16384 UNION ALL
        SELECT 'comment', pg_describe_object(classoid, objoid, objsubid) FROM pg_description
         WHERE objoid >= 16384) x(kind, name) ORDER BY 1"
}
due_hold() { # REF: a hold of 200 ms; waits until the sweeper expired it in storage
    oc_psql -d $DB -c "SELECT order_credit.reserve_credit('re-acct', 5, '$1', '200 milliseconds')" >/dev/null &&
        oc_wait_for $DB "SELECT status FROM order_credit.holds WHERE order_ref = '$1'" expired 5
}

oc_wait_for postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'" 1 10 ||
    oc_die "no sweeper"
sleep 1.5
oc_check "extension absent: the sweeper says so once" 1 "$(missing_lines)"
before=$(catalog)

oc_psql -d $DB -c "CREATE EXTENSION order_credit" -c "SELECT order_credit.create_account('re-acct', 1000)" >/dev/null ||
    oc_die "CREATE EXTENSION"
due_hold re-1 && oc_log "ok:   the sweeper expired a due hold" || oc_die "no sweep after CREATE EXTENSION"
pid=$(oc_value $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'")

oc_psql -d $DB -c "DROP EXTENSION order_credit" >/dev/null || oc_die "DROP EXTENSION"
oc_check "after DROP EXTENSION, only the schema is left" "> schema order_credit" \
    "$(diff <(echo "$before") <(catalog) | grep '^[<>]')"
oc_psql -d $DB -c "DROP SCHEMA order_credit RESTRICT" >/dev/null || oc_die "the schema left behind is not empty"
after=$(catalog)
if [ "$before" == "$after" ]; then
    oc_log "ok:   DROP EXTENSION left the catalog as before CREATE EXTENSION ($(echo "$after" | wc -l) entries)"
else
    oc_log "FAIL: DROP EXTENSION left the catalog changed (< before, > after):"
    diff <(echo "$before") <(echo "$after") | head -n 40
    OC_FAILURES=$((OC_FAILURES + 1))
fi
sleep 1.5
oc_check "extension dropped: one more notice, no flood" 2 "$(missing_lines)"
oc_check "the sweeper kept running" "$pid" \
    "$(oc_value $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'order_credit sweeper'")"

oc_psql -d $DB -c "CREATE EXTENSION order_credit" -c "SELECT order_credit.create_account('re-acct', 1000)" >/dev/null ||
    oc_die "CREATE EXTENSION again"
due_hold re-2 && oc_log "ok:   the sweeper expired a due hold after the re-create" || oc_die "no sweep after the re-create"
# The usual way round: DROP EXTENSION, then CREATE EXTENSION into the schema
# the first one left.
oc_psql -d $DB -c "DROP EXTENSION order_credit" -c "CREATE EXTENSION order_credit" \
    -c "SELECT order_credit.create_account('re-acct', 1000)" >/dev/null || oc_die "DROP and CREATE into the old schema"
due_hold re-3 && oc_log "ok:   the sweeper expired a due hold in the re-created schema" || oc_die "no sweep after DROP + CREATE"
oc_check "no ERROR, FATAL or PANIC in the log" "" "$(log_errors)"
oc_check "no crash in the log" 0 "$(grep -cE 'terminated by signal|TRAP:' "$LOG")"

[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
