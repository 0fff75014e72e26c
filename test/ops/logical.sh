#!/usr/bin/env bash
# Logical decoding and logical replication of order_credit's tables, on two
# clusters of this scenario's own (ports 55530 and 55531 unless
# OC_LOGICAL_PORT is set):
#  - publisher: wal_level = logical, order_credit preloaded (its sweeper
#    serves the database), two logical slots made right after CREATE
#    EXTENSION, before any row exists: wal2json and test_decoding;
#  - a PUBLICATION of every table of schema order_credit except
#    function_access (both sides have its rows from the install script);
#  - subscriber: the extension installed, no sweeper, a SUBSCRIPTION over
#    the publisher's unix socket directory;
#  - workload: 10 pgbench sessions for OC_LOGICAL_SECONDS (15) seconds, 5 on
#    the direct table-access path and 5 with order_credit.direct_access =
#    off, each transaction one random step of test/ops/lib/logical_workload.sql
#    (every write function, short expiries, expire_due), plus the sweeper;
#    meanwhile calls whose path is reported at DEBUG2 (reserve_credit,
#    place_order) prove which path wrote which rows;
# then checks that
#  - the subscriber caught up (bounded wait) and holds exactly the
#    publisher's rows in every published table (every row as text, sorted);
#  - the wal2json stream's ledger INSERTs are the ledger's rows, each once,
#    with every column equal, and it has no UPDATE or DELETE of the ledger;
#    the test_decoding stream shows the same set of entry_ids, each once;
#  - the rows written by the direct-path probes are in both streams;
#  - every published table has rows in the stream and on the subscriber;
#  - verify() is empty on both sides; no crash in either log and no ERROR
#    in the subscriber's.
# To see it fail: OC_LOGICAL_PUB_TABLES="accounts holds" publishes only those
# tables; OC_LOGICAL_NO_WAIT=1 compares without waiting for the subscriber.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/stress/lib/common.sh

OC_TMP=$(mktemp -d /tmp/oc_logical.XXXXXX)
chmod 755 "$OC_TMP"
PUB=$OC_TMP/pub SUB=$OC_TMP/sub
PUB_PORT=${OC_LOGICAL_PORT:-55530}
SUB_PORT=$((PUB_PORT + 1))
DURATION=${OC_LOGICAL_SECONDS:-15}
DB=oc_logical
export PGUSER=postgres
start_time=$SECONDS

# The subscriber first: its apply worker would log the publisher's shutdown.
stop_all() {
    scripts/cluster.sh stop "$SUB" 2>/dev/null
    scripts/cluster.sh stop "$PUB" 2>/dev/null
}
trap 'stop_all; oc_cleanup' EXIT

# pub|sub COMMAND...: runs a helper of common.sh against one cluster.
pub() { PGHOST=$PUB PGPORT=$PUB_PORT "$@"; }
sub() { PGHOST=$SUB PGPORT=$SUB_PORT "$@"; }

# On a failure, the logs' errors before the directory goes.
fail() {
    for c in "$PUB" "$SUB"; do
        [ -f "$c/server.log" ] && grep -E "ERROR|FATAL|PANIC|TRAP" "$c/server.log" | tail -n 20 | sed "s|^|$(basename "$c"): |"
    done
    oc_die "$@"
}

scripts/cluster.sh start "$PUB" "$PUB_PORT" "wal_level = logical" "max_wal_senders = 10" \
    "max_replication_slots = 10" "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'" \
    "fsync = off" "synchronous_commit = off" \
    "shared_preload_libraries = 'order_credit'" "order_credit.database = '$DB'" \
    "order_credit.sweep_interval = 200ms" || fail "publisher did not start"
scripts/cluster.sh start "$SUB" "$SUB_PORT" "fsync = off" "synchronous_commit = off" ||
    fail "subscriber did not start"

pub oc_fresh_db $DB >/dev/null || fail "cannot create $DB on the publisher"
sub oc_fresh_db $DB >/dev/null || fail "cannot create $DB on the subscriber"

# The slots, before the first row of any table.
oc_check "ledger rows when the slots are made" 0 "$(pub oc_value $DB "SELECT count(*) FROM order_credit.ledger")"
pub oc_psql -d $DB -c "SELECT pg_create_logical_replication_slot('oc_w2j', 'wal2json')" \
    -c "SELECT pg_create_logical_replication_slot('oc_td', 'test_decoding')" >/dev/null ||
    fail "cannot create the logical slots"

pub oc_psql -d $DB -f test/ops/lib/logical_workload.sql -c "SELECT wl.setup()" >/dev/null ||
    fail "cannot install the workload"

# Every user table of the extension: all of schema order_credit but
# function_access.
TABLES=$(pub oc_value $DB "SELECT string_agg(format('%I', tablename), ' ' ORDER BY tablename)
                             FROM pg_tables WHERE schemaname = 'order_credit' AND tablename <> 'function_access'")
PUB_TABLES=${OC_LOGICAL_PUB_TABLES:-$TABLES}
qualified=$(for t in $PUB_TABLES; do printf 'order_credit.%s, ' "$t"; done)
pub oc_psql -d $DB -c "CREATE PUBLICATION oc_pub FOR TABLE ${qualified%, }" >/dev/null ||
    fail "cannot create the publication"
oc_log "published: $TABLES"
sub oc_psql -d $DB -c "SET client_min_messages = warning" -c "CREATE SUBSCRIPTION oc_sub
                         CONNECTION 'host=$PUB port=$PUB_PORT user=postgres dbname=$DB'
                         PUBLICATION oc_pub" >/dev/null || fail "cannot create the subscription"
sub oc_wait_for $DB "SELECT count(*) FILTER (WHERE srsubstate = 'r') || '/' || count(*) FROM pg_subscription_rel" \
    "$(echo $PUB_TABLES | wc -w)/$(echo $PUB_TABLES | wc -w)" 30 || fail "the initial table copy did not finish within 30 s"
oc_log "initial copy done ($((SECONDS - start_time)) s since start)"

# The workload: 5 sessions per path.
echo "SELECT wl.step('d');" >"$OC_TMP/direct.sql"
echo "SELECT wl.step('s');" >"$OC_TMP/sql.sql"
PGHOST=$PUB PGPORT=$PUB_PORT PGOPTIONS="-c order_credit.direct_access=on" \
    pgbench -n -c 5 -j 1 -T "$DURATION" -f "$OC_TMP/direct.sql" $DB >"$OC_TMP/pgbench_d.out" 2>&1 &
pid_d=$!
PGHOST=$PUB PGPORT=$PUB_PORT PGOPTIONS="-c order_credit.direct_access=off" \
    pgbench -n -c 5 -j 1 -T "$DURATION" -f "$OC_TMP/sql.sql" $DB >"$OC_TMP/pgbench_s.out" 2>&1 &
pid_s=$!
OC_PIDS+=("$pid_d" "$pid_s")

# Path probes, while the workload runs: which path wrote is reported at
# DEBUG2 ("order_credit: reserve_credit: direct").
sleep 2
probe() { # direct_access statement...
    PGHOST=$PUB PGPORT=$PUB_PORT PGOPTIONS="-c order_credit.direct_access=$1 -c client_min_messages=debug2" \
        oc_psql -d $DB -c "$2" 2>&1 | grep -o "order_credit: [a-z_ ]*: .*" | sort -u | tr '\n' ';'
}
oc_check "reserve_credit probe path" "order_credit: reserve_credit: direct;" \
    "$(probe on "SELECT order_credit.reserve_credit('probe-d1', 1, 'probe-d-hold', NULL)")"
oc_check "place_order probe path" "order_credit: place_order fast path: direct;" \
    "$(probe on "SELECT order_credit.place_order('probe-d-order', '[{\"sku\":\"sku-probe\",\"quantity\":2,\"unit_price\":4}]', 'probe-d2')")"
# (The probes use accounts and an item no workload step touches: a direct
# call that finds a row busy or short finishes on the SQL path.)
path=$(probe off "SELECT order_credit.reserve_credit('probe-s1', 1, 'probe-s-hold', NULL)")
oc_check "reserve_credit probe path with direct_access off" "SQL" "$(grep -o 'reserve_credit: SQL' <<<"$path" | sed 's/.*: //')"

wait "$pid_d"; rc_d=$?
wait "$pid_s"; rc_s=$?
for p in d s; do
    f=$OC_TMP/pgbench_$p.out
    if grep -qiE "aborted|error" "$f"; then grep -iE "aborted|error" "$f" | head -n 5; fi
    oc_log "pgbench ($p): $(grep -E '^number of transactions actually processed' "$f" | sed 's/.*: //'), $(grep -E '^tps' "$f" | sed 's/ (.*//')"
done
oc_check "pgbench exit status (direct path)" 0 "$rc_d"
oc_check "pgbench exit status (SQL path)" 0 "$rc_s"
[ $rc_d -eq 0 ] && [ $rc_s -eq 0 ] || fail "the workload failed"

# Quiesce: the sweeper to an hourly interval (it rereads it between runs),
# the short expiries lapsed and swept; after this nothing writes.
pub oc_psql -d $DB -c "ALTER SYSTEM SET order_credit.sweep_interval = '1h'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
for i in 1 2 3 4 5; do
    [ "$(pub oc_value $DB "SELECT order_credit.expire_due()")" == 0 ] && break
done
oc_check "nothing left to expire on the publisher" 0 "$(pub oc_value $DB "SELECT order_credit.expire_due()")"

# Catch-up: the subscription has applied everything up to now.
lsn=$(pub oc_value $DB "SELECT pg_current_wal_lsn()")
t0=$(date +%s%N)
if [ -z "${OC_LOGICAL_NO_WAIT:-}" ]; then
    pub oc_wait_for $DB "SELECT count(*) FROM pg_stat_replication
                          WHERE application_name = 'oc_sub' AND replay_lsn >= '$lsn'" 1 60 ||
        fail "the subscriber did not catch up with $lsn within 60 s"
    oc_log "subscriber caught up with $lsn in $((($(date +%s%N) - t0) / 1000000)) ms"
else
    oc_log "not waiting for the subscriber (OC_LOGICAL_NO_WAIT)"
fi

# Reads on the subscriber answer as on the publisher (and write nothing:
# the tables are compared after them).
reads="SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (
         SELECT order_credit.credit_status(account)::text AS x FROM order_credit.accounts
         UNION ALL SELECT order_credit.stock_status(sku)::text FROM order_credit.items
         UNION ALL SELECT order_credit.order_status(order_ref)::text FROM order_credit.orders) r"
oc_check "credit_status, stock_status, order_status of every row: subscriber as publisher" \
    "$(PGOPTIONS="-c TimeZone=UTC" pub oc_value $DB "$reads")" "$(PGOPTIONS="-c TimeZone=UTC" sub oc_value $DB "$reads")"

# Every published table, row by row (text of each row, sorted; UTC).
compare() { # side table
    PGOPTIONS="-c TimeZone=UTC" $1 oc_psql -d $DB -c "COPY (SELECT t::text FROM order_credit.$2 t ORDER BY 1) TO STDOUT" \
        >"$OC_TMP/$1.$2"
}
summary=""
for t in $TABLES; do
    compare pub "$t" && compare sub "$t" || fail "cannot read $t"
    n=$(wc -l <"$OC_TMP/pub.$t")
    if cmp -s "$OC_TMP/pub.$t" "$OC_TMP/sub.$t"; then
        oc_check "subscriber's $t equals the publisher's ($n rows)" same same
    else
        diff "$OC_TMP/pub.$t" "$OC_TMP/sub.$t" | head -n 6
        oc_check "subscriber's $t equals the publisher's" "$n rows" \
            "$(wc -l <"$OC_TMP/sub.$t") rows, $(diff "$OC_TMP/pub.$t" "$OC_TMP/sub.$t" | grep -c '^[<>]') lines differ"
    fi
    oc_check "rows in $t" t "$([ "$n" -gt 0 ] && echo t || echo "f ($n)")"
    summary="$summary $t=$n"
done
oc_log "rows compared:$summary"

# The decoded streams, read once (not consumed) into tables of schema wl
# (not published; its own changes come after what was read).
pub oc_psql -d $DB -c "SET client_min_messages = warning" \
    -c "CREATE TABLE wl.w2j AS
          SELECT data::jsonb AS j FROM pg_logical_slot_peek_changes('oc_w2j', NULL, NULL,
                 'format-version', '2', 'include-transaction', 'false', 'add-tables', 'order_credit.*')" \
    -c "CREATE TABLE wl.td AS
          SELECT data FROM pg_logical_slot_peek_changes('oc_td', NULL, NULL, 'skip-empty-xacts', '1')" \
    -c "CREATE TABLE wl.w2j_ledger AS
          SELECT l.* FROM wl.w2j,
                 LATERAL (SELECT jsonb_object_agg(c->>'name', c->'value') AS r
                            FROM jsonb_array_elements(j->'columns') c) o,
                 LATERAL jsonb_populate_record(NULL::order_credit.ledger, o.r) l
           WHERE j->>'table' = 'ledger' AND j->>'action' = 'I'" \
    -c "CREATE TABLE wl.td_ledger AS
          SELECT substring(data FROM '^table order_credit\.ledger: INSERT: entry_id\[bigint\]:(\d+) ')::bigint AS entry_id
            FROM wl.td WHERE data LIKE 'table order_credit.ledger: INSERT:%'" >/dev/null ||
    fail "cannot read the slots"
oc_log "decoded: $(pub oc_value $DB "SELECT (SELECT count(*) FROM wl.w2j) || ' wal2json changes, ' ||
                                            (SELECT count(*) FROM wl.td) || ' test_decoding lines'")"
decoded() { pub oc_value $DB "SET search_path = wl, public; $1"; }
results=$(decoded "SELECT concat_ws(' ',
    (SELECT count(*) FROM order_credit.ledger),
    (SELECT count(*) FROM w2j_ledger),
    (SELECT count(DISTINCT entry_id) FROM w2j_ledger),
    (SELECT count(*) FROM (SELECT * FROM w2j_ledger EXCEPT ALL SELECT * FROM order_credit.ledger) x),
    (SELECT count(*) FROM (SELECT * FROM order_credit.ledger EXCEPT ALL SELECT * FROM w2j_ledger) x),
    (SELECT count(*) FROM w2j WHERE j->>'table' = 'ledger' AND j->>'action' <> 'I'),
    (SELECT count(*) FROM td_ledger),
    (SELECT count(DISTINCT entry_id) FROM td_ledger),
    (SELECT count(*) FROM (SELECT entry_id FROM td_ledger EXCEPT SELECT entry_id FROM order_credit.ledger) x),
    (SELECT count(*) FROM (SELECT entry_id FROM order_credit.ledger EXCEPT SELECT entry_id FROM td_ledger) x),
    (SELECT count(*) FROM td WHERE data ~ '^table order_credit\.ledger: (UPDATE|DELETE|TRUNCATE)'))")
read -r n_ledger n_w2j n_w2j_distinct w2j_extra w2j_missing w2j_other n_td n_td_distinct td_extra td_missing td_other <<<"$results"
oc_log "ledger rows $n_ledger; wal2json ledger INSERTs $n_w2j ($n_w2j_distinct distinct); test_decoding ledger INSERTs $n_td ($n_td_distinct distinct)"
oc_check "wal2json: one INSERT per ledger row" "$n_ledger" "$n_w2j"
oc_check "wal2json: no entry_id twice" "$n_ledger" "$n_w2j_distinct"
oc_check "wal2json: decoded rows not in the ledger (every column compared)" 0 "$w2j_extra"
oc_check "wal2json: ledger rows not decoded (every column compared)" 0 "$w2j_missing"
oc_check "wal2json: ledger UPDATEs/DELETEs" 0 "$w2j_other"
oc_check "test_decoding: one INSERT per ledger row" "$n_ledger" "$n_td"
oc_check "test_decoding: no entry_id twice" "$n_ledger" "$n_td_distinct"
oc_check "test_decoding: decoded entry_ids not in the ledger" 0 "$td_extra"
oc_check "test_decoding: ledger entry_ids not decoded" 0 "$td_missing"
oc_check "test_decoding: ledger UPDATEs/DELETEs/TRUNCATEs" 0 "$td_other"

# The probes' rows in both streams (two calls that took the direct path,
# one on the SQL path), and the ledger entries of both paths' sessions.
oc_check "probe rows INSERTed in the wal2json stream" "holds=3 ledger=3 order_history=1 orders=1 reservations=1" \
    "$(decoded "SELECT string_agg(t || '=' || coalesce(n, 0), ' ' ORDER BY t)
                  FROM unnest(ARRAY['holds', 'ledger', 'order_history', 'orders', 'reservations']) t
                  LEFT JOIN (SELECT j->>'table' AS t, count(*) AS n FROM w2j, jsonb_array_elements(j->'columns') c
                              WHERE j->>'action' = 'I' AND c->>'name' = 'order_ref'
                                AND c->>'value' IN ('probe-d-hold', 'probe-d-order', 'probe-s-hold')
                              GROUP BY 1) x USING (t)")"
oc_check "probe ledger entries in the test_decoding stream" 3 \
    "$(decoded "SELECT count(*) FROM td WHERE data LIKE 'table order_credit.ledger: INSERT:%'
                   AND data ~ 'order_ref\[text\]:''probe-[ds]-(hold|order)'''")"
by_path=$(decoded "SELECT string_agg(p || '=' || n, ' ' ORDER BY p) FROM (
                     SELECT left(order_ref, 2) AS p, count(*) AS n FROM w2j_ledger
                      WHERE order_ref ~ '^[ds]-' GROUP BY 1) x")
oc_log "decoded ledger entries by path of the order_ref: $by_path"
oc_check "decoded ledger entries of both paths" t \
    "$([[ "$by_path" =~ d-=[1-9] && "$by_path" =~ s-=[1-9] ]] && echo t || echo "f ($by_path)")"
per_table=$(decoded "SELECT string_agg(t || ':' || a, ' ' ORDER BY t) FROM (
                       SELECT t, string_agg(act || n, '/' ORDER BY act) AS a FROM (
                         SELECT j->>'table' AS t, j->>'action' AS act, count(*) AS n FROM w2j GROUP BY 1, 2) x
                        GROUP BY t) y")
oc_log "wal2json changes per table (I insert, U update, D delete): $per_table"
for t in $TABLES; do
    oc_check "INSERTs of $t in the stream" t "$([[ " $per_table" =~ " $t:"([A-Z][0-9]+/)*I[0-9] ]] && echo t || echo f)"
done

# What the workload reached (every status of every lifecycle).
oc_log "publisher: $(pub oc_value $DB "SELECT concat_ws('; ',
    (SELECT 'ledger ' || string_agg(kind || '=' || n, ' ' ORDER BY kind) FROM (SELECT kind, count(*) n FROM order_credit.ledger GROUP BY 1) x),
    (SELECT 'holds ' || string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) n FROM order_credit.holds GROUP BY 1) x),
    (SELECT 'reservations ' || string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) n FROM order_credit.reservations GROUP BY 1) x),
    (SELECT 'orders ' || string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) n FROM order_credit.orders GROUP BY 1) x))")"
oc_check "ledger kinds written" "block capture expire hold limit payment reverse unblock void" \
    "$(pub oc_value $DB "SELECT string_agg(DISTINCT kind, ' ' ORDER BY kind) FROM order_credit.ledger")"
oc_check "order statuses reached" "cancelled expired paid pending processing" \
    "$(pub oc_value $DB "SELECT string_agg(DISTINCT status, ' ' ORDER BY status) FROM order_credit.orders")"
oc_check "reservation statuses reached (active, committed, released)" 3 \
    "$(pub oc_value $DB "SELECT count(DISTINCT status) FROM order_credit.reservations
                          WHERE status IN ('active', 'committed', 'released')")"
# An expired reservation keeps its row (status active) and loses its claim.
oc_check "reservations expired (past expiry, claim deleted)" t \
    "$(pub oc_value $DB "SELECT count(*) > 0 FROM order_credit.reservations r
                          WHERE r.status = 'active' AND r.expires_at < now()
                            AND NOT EXISTS (SELECT FROM order_credit.reservation_claims c
                                             WHERE c.reservation_id = r.reservation_id)")"
oc_check "striped items (buckets > 1)" 7 "$(pub oc_value $DB "SELECT count(*) FROM order_credit.items WHERE buckets > 1")"

oc_check "verify() on the publisher" 0 "$(pub oc_value $DB "SELECT count(*) FROM order_credit.verify()")"
oc_check "verify() on the subscriber" 0 "$(sub oc_value $DB "SELECT count(*) FROM order_credit.verify()")"

stop_all
for c in pub sub; do
    log=$OC_TMP/$c/server.log
    oc_check "$c log: crashes" 0 "$(grep -cE 'terminated by signal|PANIC|TRAP:' "$log")"
done
oc_check "sub log: apply errors" 0 "$(grep -cE 'logical replication .* error|ERROR:' "$OC_TMP/sub/server.log")"
grep -E 'logical replication .* error|ERROR:' "$OC_TMP/sub/server.log" | head -n 5

oc_log "done in $((SECONDS - start_time)) s"
[ "$OC_FAILURES" -eq 0 ] || { oc_log "$OC_FAILURES check(s) failed"; exit 1; }
oc_log "all checks passed"
