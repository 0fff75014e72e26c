#!/usr/bin/env bash
# Stock alerts as a listener receives them: a psql session LISTENs on
# order_credit_stock while a concurrent pgbench workload (6 clients:
# reservations on the direct and the statement path, releases, adjustments
# of a one-bucket and a striped item, a quarter of the transactions rolled
# back) runs, then single-session phases expire reservations (direct and
# statement sweep) and re-stripe the striped item. The notifications
# received must be exactly the crossings of the committed history, bucket
# by bucket and in order (test/monitoring/notify/workload.sql), and none of
# the crossings made in rolled-back transactions may arrive.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/monitoring/lib/common.sh

PORT=$((${OC_MONITORING_PORT:-55616} + 5))
SECONDS_RUN=${OC_NOTIFY_SECONDS:-20}
OC_TMP=$(mktemp -d /tmp/oc_notify.XXXXXX)
chmod 755 "$OC_TMP"
mon_cluster "$OC_TMP/c" "$PORT" "order_credit.database = 'postgres'"
export PGHOST="$OC_TMP/c" PGPORT=$PORT PGUSER=postgres
DB=oc_notify
oc_fresh_db $DB || oc_die "database"

oc_psql -d $DB <<'SQL' || oc_die "setup"
SELECT order_credit.set_stock('h1', 60);
SELECT order_credit.set_stock('h2', 40);
SELECT order_credit.set_stock('s4', 80, 4);
SELECT order_credit.set_stock('quiet', 100);   -- no threshold: never notifies
SELECT order_credit.set_stock_alert('h1', 20);
SELECT order_credit.set_stock_alert('h2', 12);
SELECT order_credit.set_stock_alert('s4', 30);
CREATE TABLE levels0 AS
    SELECT sku, bucket, on_hand - reserved AS avail, alert_below AS share
      FROM order_credit.stock_buckets;
SQL
oc_psql -d $DB -f test/monitoring/notify/workload.sql >/dev/null || oc_die "workload functions"

# The listener: a psql reading commands from a pipe; it prints the
# notifications it received after each command.
mkfifo "$OC_TMP/listen.in"
psql -X -d $DB <"$OC_TMP/listen.in" >"$OC_TMP/listen.out" 2>&1 &
LISTENER=$!
OC_PIDS+=("$LISTENER")
exec 7>"$OC_TMP/listen.in"
echo "LISTEN order_credit_stock;" >&7
echo "SELECT 'listening';" >&7
for _ in $(seq 50); do grep -q listening "$OC_TMP/listen.out" && break; sleep 0.1; done

oc_log "workload: ${SECONDS_RUN}s, 6 clients"
"$(pg_config --bindir)/pgbench" -n -c 6 -j 2 -T "$SECONDS_RUN" -f test/monitoring/notify/step.sql $DB >"$OC_TMP/pgbench.out" 2>&1 ||
    { cat "$OC_TMP/pgbench.out"; oc_die "pgbench"; }
grep -E "^number of (transactions|failed)" "$OC_TMP/pgbench.out"
workload_end=$(oc_value $DB "SELECT coalesce(max(seq), 0) FROM hist")

# Single-session phases: each transaction, then every bucket recorded.
oc_psql -d $DB >/dev/null <<'SQL' || oc_die "expiry phases"
-- h1 and h2 two units above a new threshold; reservations of 3 units that
-- expire in a second take them below it, the sweeps (direct for h1, the
-- statement for h2) bring them back.
SELECT order_credit.adjust_stock(sku, 20, 'phase') FROM (VALUES ('h1'), ('h2')) v(sku);
SELECT wl_record_all();
SELECT order_credit.set_stock_alert(sku, (SELECT on_hand - reserved FROM order_credit.stock_buckets b
                                            WHERE b.sku = v.sku AND bucket = 0) - 2)
  FROM (VALUES ('h1'), ('h2')) v(sku);
SELECT wl_record_all(true);
SQL
# Where h1 and h2 stood when the workload ended is random: the receipt above
# may have raised one of them (checked with every other crossing below);
# from here on both are two units above their threshold.
phase_start=$(oc_value $DB "SELECT coalesce(max(seq), 0) FROM hist")
oc_psql -d $DB >/dev/null <<'SQL' || oc_die "expiry phases"
SELECT order_credit.reserve_stock(sku, 3, 'x-' || sku, '1 second') FROM (VALUES ('h1'), ('h2')) v(sku);
SELECT wl_record_all();
SELECT pg_sleep(1.2);
SELECT order_credit.expire_due(1);         -- the direct sweep: the earlier claim (h1)
SELECT wl_record_all();
SET order_credit.direct_access = off;
SELECT order_credit.expire_due();          -- the statement sweep: h2
RESET order_credit.direct_access;
SELECT wl_record_all();
-- The striped item re-striped to 3 buckets (new shares), then a receipt.
SELECT order_credit.set_stock('s4', (SELECT on_hand FROM order_credit.stock_status('s4')), 3);
SELECT wl_record_all();
SELECT order_credit.adjust_stock('s4', 40, 'receipt');
SELECT wl_record_all();
-- Every bucket of s4 low (each share at least the whole item's available),
-- then re-striped to 2: bucket 2 is removed while low, 0 and 1 stay low.
SELECT order_credit.set_stock_alert('s4', 3 * (SELECT available FROM order_credit.stock_status('s4')));
SELECT wl_record_all(true);
SELECT order_credit.set_stock('s4', (SELECT on_hand FROM order_credit.stock_status('s4')), 2);
SELECT wl_record_all();
SQL

echo "SELECT 'done';" >&7
exec 7>&-
wait $LISTENER

# What arrived, per bucket in arrival order; what must have, from hist.
sed -n 's/^Asynchronous notification "order_credit_stock" with payload "\(.*\)" received from server process.*/\1/p' \
    "$OC_TMP/listen.out" >"$OC_TMP/received.json"
received=$(wc -l <"$OC_TMP/received.json")
oc_psql -d $DB -c "CREATE TABLE received (n serial, p jsonb)" \
    -c "\\copy received (p) FROM '$OC_TMP/received.json' WITH (FORMAT text)" >/dev/null ||
    oc_die "load received"
got=$(oc_value $DB "SELECT string_agg(format('%s#%s %s %s', p->>'sku', p->>'bucket', p->>'event', p->>'available'), E'\n' ORDER BY p->>'sku', (p->>'bucket')::int, n) FROM received")
want=$(oc_value $DB "SELECT string_agg(format('%s#%s %s %s', sku, bucket, event, avail), E'\n' ORDER BY sku, bucket, seq) FROM expected WHERE event IS NOT NULL")
committed=$(oc_value $DB "SELECT count(*) FROM expected WHERE event IS NOT NULL")
# Crossings of reservations and releases: every one tried (crossings_tried,
# rolled back or not) against those committed; the difference were made in
# rolled-back transactions and must not have arrived (the exact match below).
tried=$(oc_value $DB "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM crossings_tried")
committed_counted=$(oc_value $DB "SELECT count(*) FROM expected WHERE event IS NOT NULL AND counted AND seq <= $workload_end")
phases=$(oc_value $DB "SELECT count(*) FROM expected WHERE event IS NOT NULL AND seq > $workload_end")
oc_log "crossings committed: $committed ($phases in the expiry and re-stripe phases); received: $received; reservation/release crossings tried: $tried, committed: $committed_counted, rolled back: $((tried - committed_counted))"
if [ "$want" == "$got" ]; then
    oc_log "ok:   notifications received = crossings of the committed history"
else
    oc_log "FAIL: notifications received differ from the crossings of the committed history (< expected, > received):"
    diff <(echo "$want") <(echo "$got") | head -40
    OC_FAILURES=$((OC_FAILURES + 1))
fi
oc_check "every crossing was received once" "$committed" "$received"
oc_check "no notification for the item without threshold" "0" \
    "$(oc_value $DB "SELECT count(*) FROM received WHERE p->>'sku' = 'quiet'")"
oc_check "the expiry phases: h1 and h2 fell and rose" "h1 fell,h1 rose,h2 fell,h2 rose" \
    "$(oc_value $DB "SELECT string_agg(sku || ' ' || event, ',' ORDER BY sku, seq) FROM expected WHERE event IS NOT NULL AND seq > $phase_start AND sku IN ('h1', 'h2')")"
oc_check "the last re-stripe: bucket 2 of s4 removed while low" "s4#2 removed 0 0" \
    "$(oc_value $DB "SELECT string_agg(format('%s#%s %s %s %s', p->>'sku', p->>'bucket', p->>'event', p->>'available', p->>'threshold'), ',' ORDER BY n) FROM received WHERE p->>'event' = 'removed' AND n > (SELECT max(n) FROM received) - 1")"
oc_check "verify" "" "$(oc_value $DB "SELECT string_agg(check_name || ' ' || subject, ', ') FROM order_credit.verify()")"
[ "$OC_FAILURES" -eq 0 ]
