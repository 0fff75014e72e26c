#!/usr/bin/env bash
# Fuzzing from the catalog: every function of the extension's schema, taken
# from pg_proc, called with hostile values for each argument (chosen by the
# argument's type; the other arguments get valid values for a prepared
# fixture, chosen by name and type). Each call is its own transaction under
# statement_timeout = 5s. The run fails on an XX SQLSTATE, a SQLSTATE outside
# the allowed list, a call over 5 s (57014), a lost connection or a backend
# killed by a signal, and on any call that leaves the extension's tables
# changed (digest before and after) or an advisory lock held.
#
# Value tables, fixture, allowed SQLSTATEs and driver: test/fuzz/lib/catalog_fuzz.sql.
#
#   bash test/fuzz/catalog_fuzz.sh     uses PGHOST/PGPORT/PGUSER when PGHOST is
#                                      set (test/run_all.sh), else starts a
#                                      cluster of its own (OC_FUZZ_PORT, 55541)
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
source test/stress/lib/common.sh

DB=oc_catalog_fuzz
START=$SECONDS
OC_TMP=$(mktemp -d /tmp/oc_fuzz.XXXXXX)
chmod 755 "$OC_TMP"
OWN_CLUSTER=
finish() {
    [ -n "$OWN_CLUSTER" ] && scripts/cluster.sh stop "$OWN_CLUSTER"
    oc_cleanup
}
trap finish EXIT

if [ -z "${PGHOST:-}" ]; then
    OWN_CLUSTER=$OC_TMP/cluster
    export PGHOST=$OWN_CLUSTER PGPORT=${OC_FUZZ_PORT:-55541} PGUSER=postgres
    scripts/cluster.sh start "$OWN_CLUSTER" "$PGPORT" "fsync = off" "synchronous_commit = off" \
        "max_locks_per_transaction = 256" || oc_die "could not start a cluster on port $PGPORT"
fi
# The server log, when it is where test/run_all.sh and scripts/cluster.sh put it.
SERVER_LOG=$PGHOST/server.log
log_lines() { [ -r "$SERVER_LOG" ] && wc -l <"$SERVER_LOG" || echo 0; }
LOG_START=$(log_lines)

oc_fresh_db $DB >/dev/null || oc_die "could not create database $DB"
oc_psql -d postgres -c "SET client_min_messages = warning" \
    -c "DROP ROLE IF EXISTS oc_fuzz_role" -c "CREATE ROLE oc_fuzz_role" \
    -c "DROP ROLE IF EXISTS \"oc fuzz \"\"quoted\"\" role\"" -c "CREATE ROLE \"oc fuzz \"\"quoted\"\" role\"" ||
    oc_die "could not create the fixture roles"
oc_psql -d $DB -f test/fuzz/lib/catalog_fuzz.sql >/dev/null || oc_die "could not load the fuzz library"
oc_psql -d $DB -c "SET client_min_messages = warning" -c "SELECT fuzz.make_fixture()" \
    -c "SELECT fuzz.plan('order_credit')" -c "SELECT fuzz.prepare_digest('order_credit')" \
    -c "UPDATE fuzz.state SET last_digest = fuzz.digest()" >/dev/null ||
    oc_die "could not build the fixture and the plan"
SETUP_S=$((SECONDS - START))

TOTAL=$(oc_value $DB "SELECT count(*) FROM fuzz.calls")
oc_log "$(oc_value $DB "SELECT count(*) FILTER (WHERE skipped IS NULL) || ' functions fuzzed, '
                           || count(*) FILTER (WHERE skipped IS NOT NULL) || ' skipped; '
                        FROM fuzz.functions")$TOTAL calls (setup ${SETUP_S}s)"
oc_value $DB "SELECT '  skipped ' || func || ': ' || skipped FROM fuzz.functions
               WHERE skipped IS NOT NULL ORDER BY 1" | while read -r line; do oc_log "$line"; done

# Runs the calls after id $1, one top-level statement each (\gexec), until
# the end or the first lost connection. A call that does not come back within
# 5 s is cancelled by statement_timeout and recorded as 57014; the outer
# timeout only guards against a backend that ignores the cancel.
run_calls() {
    timeout 600 psql -X -q -v ON_ERROR_STOP=1 -d $DB >"$OC_TMP/run.out" 2>"$OC_TMP/run.err" <<EOF
SET client_min_messages = error;
SET application_name = 'oc_catalog_fuzz';
SET statement_timeout = '5s';
SELECT format('SELECT fuzz.try(%s)', id) FROM fuzz.calls WHERE id > $1 AND sql <> '' ORDER BY id \gexec
EOF
}

LOST=0
last=0
while :; do
    run_calls $last
    rc=$?
    [ $rc -eq 0 ] && break
    # After a crash the postmaster restarts every backend (crash recovery):
    # wait until it accepts connections again.
    for _ in $(seq 1 60); do oc_value $DB "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
    # The call that was running: the first one after $last without a result.
    cur=$(oc_value $DB "SELECT min(id) FROM fuzz.calls c WHERE id > $last AND sql <> ''
                          AND NOT EXISTS (SELECT 1 FROM fuzz.results r WHERE r.id = c.id)" 2>/dev/null)
    if [ $rc -eq 124 ]; then
        what="no answer within 600 s (backend ignores the cancel)"
        oc_value postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE application_name = 'oc_catalog_fuzz'" >/dev/null
    else
        what="connection lost: $(grep -m1 -E 'server closed|connection|FATAL|ERROR' "$OC_TMP/run.err")"
    fi
    oc_log "FAIL: call ${cur:-?}: $what"
    [ -n "$cur" ] && oc_value $DB "SELECT '  ' || func || ' ' || coalesce(arg, '') || '=' || label || ': ' || left(sql, 300)
                                     FROM fuzz.calls WHERE id = $cur" | while read -r line; do oc_log "$line"; done
    LOST=$((LOST + 1))
    [ -z "$cur" ] && break
    [ $LOST -ge 3 ] && { oc_log "FAIL: giving up after 3 lost connections"; break; }
    # Go on after the call that was running.
    oc_value $DB "INSERT INTO fuzz.results VALUES ($cur, 'LOST', NULL, NULL, 'connection lost')
                  ON CONFLICT DO NOTHING; UPDATE fuzz.state SET last_digest = fuzz.digest(), last_id = $cur" >/dev/null
    last=$cur
done
ELAPSED=$((SECONDS - START))

# Verdict.
report() { oc_value $DB "$1" | while IFS= read -r line; do oc_log "$line"; done; }
oc_log "SQLSTATE histogram (00000 = accepted, then rolled back):"
report "SELECT '  ' || sqlstate || ' ' || n FROM (SELECT sqlstate, count(*) n FROM fuzz.results GROUP BY 1) s ORDER BY 1"
FAILS=$(oc_value $DB "SELECT count(*) FROM fuzz.failures")
if [ "$FAILS" != 0 ]; then
    oc_log "failing calls:"
    report "SELECT '  #' || id || ' ' || func || ' ' || coalesce(arg, '') || '=' || label || ': '
                   || coalesce(sqlstate, 'not run') || ' ' || coalesce(message, '')
                   || coalesce(' [' || problem || ']', '')
              FROM fuzz.failures ORDER BY id LIMIT 50"
fi
oc_log "base calls that fail (hostile values in their other positions may be masked):"
report "SELECT '  ' || c.func || ': ' || r.sqlstate || ' ' || r.message
          FROM fuzz.calls c JOIN fuzz.results r USING (id) WHERE c.pos = 0 AND r.sqlstate <> '00000' ORDER BY 1"
oc_log "hostile values accepted (not failures; listed for review):"
report "SELECT '  ' || c.func || ' ' || c.arg || ': ' || string_agg(c.label, ' ' ORDER BY c.id)
          FROM fuzz.calls c JOIN fuzz.results r USING (id)
         WHERE c.pos > 0 AND r.sqlstate = '00000' AND c.label <> 'null'
           AND NOT (c.func::text LIKE 'order_credit._row_valid(%')
         GROUP BY c.func, c.arg ORDER BY 1"
report "SELECT '  slowest call: ' || c.func || ' ' || coalesce(c.arg, '') || '=' || c.label || ' ' || r.ms || ' ms'
          FROM fuzz.calls c JOIN fuzz.results r USING (id) WHERE r.ms IS NOT NULL ORDER BY r.ms DESC LIMIT 3"

if [ -r "$SERVER_LOG" ] && tail -n +$((LOG_START + 1)) "$SERVER_LOG" | grep -E "terminated by signal|PANIC|TRAP:"; then
    oc_log "FAIL: the server log shows a backend killed by a signal"
    FAILS=$((FAILS + 1))
fi

RAN=$(oc_value $DB "SELECT count(*) FROM fuzz.results")
oc_log "$RAN of $TOTAL calls ran in ${ELAPSED}s; $FAILS failing"
if [ "$FAILS" = 0 ] && [ $LOST -eq 0 ]; then
    oc_psql -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE oc_fuzz_role" \
        -c "DROP ROLE \"oc fuzz \"\"quoted\"\" role\"" >/dev/null
    oc_log "ok"
    exit 0
fi
oc_log "FAIL (database $DB kept for inspection: fuzz.calls, fuzz.results)"
exit 1
