#!/usr/bin/env bash
# monitoring/prometheus end to end: a throwaway cluster on 127.0.0.1 with the
# extension preloaded, a role with exactly monitor_role.sql's privileges,
# Debian's prometheus-postgres-exporter with queries.yaml, a small workload
# of known calls, then /metrics scraped with curl:
#  - every metric family of queries.yaml is there;
#  - call, rejection and error counters equal the calls made, per operation
#    and outcome; the latency histogram's count and +Inf bucket equal the
#    calls, its buckets never decrease and its sum is the calls' total time;
#  - the low-stock gauges list exactly the SKUs at or below the threshold
#    set for the exporter's role, with their available units;
#  - live, falling-due and overdue holds, reservations and orders, and the
#    sweeper's lag, before and after expire_due() sweeps the overdue hold;
#  - verify() reports no violation;
# and promtool checks and unit-tests the alert rules.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/monitoring/lib/common.sh

PORT=${OC_MONITORING_PORT:-55616}
HTTP_PORT=$((PORT + 1))
DB=shop
P=monitoring/prometheus
OC_TMP=$(mktemp -d /tmp/oc_monitoring.XXXXXX)
chmod 755 "$OC_TMP"
EXPORTER=$(command -v prometheus-postgres-exporter) || oc_die "prometheus-postgres-exporter is not installed (scripts/install-deps.sh)"
command -v promtool >/dev/null || oc_die "promtool is not installed (scripts/install-deps.sh)"

# The sweeper serves database postgres, not shop: rows past their expiry in
# shop stay unswept until this script calls expire_due().
mon_cluster "$OC_TMP/c" "$PORT" "listen_addresses = '127.0.0.1'" "order_credit.database = 'postgres'"
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres

oc_fresh_db $DB || oc_die "cannot create $DB"
oc_psql -d $DB -c "CREATE ROLE oc_monitor LOGIN" \
    -c "ALTER ROLE oc_monitor SET order_credit.low_stock_threshold = 2" >/dev/null || oc_die "role"
oc_psql -d $DB -v role=oc_monitor -f $P/monitor_role.sql >/dev/null || oc_die "monitor_role.sql"

# The workload, each call in its own transaction (errors expected and ignored).
sql() { psql -X -q -d $DB -c "$1" >/dev/null 2>&1; }
oc_psql -d $DB -c "SELECT order_credit.create_account('m-acct', 1000)" \
    -c "SELECT order_credit.set_stock('m-low', 5)" -c "SELECT order_credit.set_stock('m-out', 1)" \
    -c "SELECT order_credit.set_stock('m-big', 100)" -c "SELECT order_credit.stats_reset()" >/dev/null ||
    oc_die "setup"
for i in 1 2 3 4 5 6; do sql "SELECT order_credit.reserve_credit('m-acct', 10, 'm-h$i', '1 hour')"; done
sql "SELECT order_credit.reserve_credit('m-acct', 10, 'm-soon', '30 seconds')"
sql "SELECT order_credit.reserve_credit('m-acct', 10, 'm-short', '1 second')"
for i in 1 2 3; do sql "SELECT * FROM order_credit.try_reserve_credit('m-acct', 100000, 'm-big$i')"; done
for i in 1 2; do sql "SELECT order_credit.reserve_credit('m-nobody', 10, 'm-x$i')"; done
sql "SELECT order_credit.reserve_credit('m-acct', -5, 'm-neg')"
for i in 1 2 3 4; do sql "SELECT order_credit.reserve_stock('m-low', 1, 'm-r$i', '1 hour')"; done
sql "SELECT order_credit.reserve_stock('m-out', 1, 'm-r5', '1 hour')"
sql "SELECT order_credit.reserve_stock('m-out', 1, 'm-r6', '1 hour')"
sleep 1.2  # m-short falls due

DATA_SOURCE_NAME="postgresql://oc_monitor@127.0.0.1:$PORT/$DB?sslmode=disable" \
    "$EXPORTER" --web.listen-address="127.0.0.1:$HTTP_PORT" --extend.query-path=$P/queries.yaml \
    >"$OC_TMP/exporter.log" 2>&1 &
OC_PIDS+=($!)
scrape() { # FILE: /metrics into FILE, waiting up to 10 s for the exporter
    local i
    for i in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" >"$1" && grep -q '^order_credit_' "$1" && return 0
        sleep 0.1
    done
    cat "$OC_TMP/exporter.log"
    return 1
}

# value FILE NAME [label="value"...]: the value of the one sample of NAME
# carrying those labels (MISSING or MULTIPLE otherwise).
value() {
    local f=$1 name=$2 m l
    shift 2
    m=$(grep -E "^$name(\{| )" "$f")
    for l in "$@"; do m=$(grep -F -- "$l" <<<"$m"); done
    if [ -z "$m" ]; then echo MISSING; elif [ "$(wc -l <<<"$m")" -gt 1 ]; then echo MULTIPLE; else echo "${m##* }"; fi
}
M=$OC_TMP/metrics.txt
scrape "$M" || oc_die "no order_credit metrics at http://127.0.0.1:$HTTP_PORT/metrics"
grep -q "error" "$OC_TMP/exporter.log" && { oc_log "exporter log:"; cat "$OC_TMP/exporter.log"; }

for fam in calls rejections errors time_seconds lock_wait_seconds max_seconds latency_seconds \
           stock_low_available stock_skus stock_skus_low stock_low_threshold stock_available_units \
           stock_reserved_units expiry_active expiry_due_next_minute expiry_overdue expiry_lag_seconds \
           verify_violations; do
    oc_check "metric order_credit_$fam exported" 1 "$(grep -c "^# TYPE order_credit_$fam " "$M")"
done
oc_check "order_credit_latency_seconds is a histogram" "# TYPE order_credit_latency_seconds histogram" \
    "$(grep "^# TYPE order_credit_latency_seconds " "$M")"

rc='operation="reserve_credit"'
oc_check "calls reserve_credit ok" 8 "$(value "$M" order_credit_calls "$rc" 'outcome="ok"' 'class="ok"')"
oc_check "calls try_reserve_credit insufficient_credit" 3 \
    "$(value "$M" order_credit_calls 'operation="try_reserve_credit"' 'outcome="insufficient_credit"' 'class="rejected"')"
oc_check "rejections try_reserve_credit insufficient_credit" 3 \
    "$(value "$M" order_credit_rejections 'operation="try_reserve_credit"' 'outcome="insufficient_credit"')"
oc_check "rejections reserve_credit account_not_found" 2 \
    "$(value "$M" order_credit_rejections "$rc" 'outcome="account_not_found"' 'class="rejected"')"
oc_check "errors reserve_credit invalid_parameter_value" 1 \
    "$(value "$M" order_credit_errors "$rc" 'outcome="invalid_parameter_value"' 'class="error"')"
oc_check "errors of an ok series" 0 "$(value "$M" order_credit_errors "$rc" 'outcome="ok"')"
oc_check "calls reserve_stock ok" 5 "$(value "$M" order_credit_calls 'operation="reserve_stock"' 'outcome="ok"')"
oc_check "rejections reserve_stock insufficient_stock" 1 \
    "$(value "$M" order_credit_rejections 'operation="reserve_stock"' 'outcome="insufficient_stock"')"

# The histogram of reserve_credit ok: count, +Inf and 10 s buckets = calls,
# buckets never decrease, sum = the calls' total time in order_credit.stats.
oc_check "latency count reserve_credit ok" 8 "$(value "$M" order_credit_latency_seconds_count "$rc" 'outcome="ok"')"
oc_check "latency bucket +Inf" 8 "$(value "$M" order_credit_latency_seconds_bucket "$rc" 'outcome="ok"' 'le="+Inf"')"
oc_check "latency bucket 10 s" 8 "$(value "$M" order_credit_latency_seconds_bucket "$rc" 'outcome="ok"' 'le="10"')"
oc_check "latency buckets per series (22 bounds and +Inf)" 23 \
    "$(grep "^order_credit_latency_seconds_bucket{" "$M" | grep -F "$rc" | grep -cF 'outcome="ok"')"
oc_check "latency buckets never decrease" ok "$(grep "^order_credit_latency_seconds_bucket{" "$M" |
    grep -F "$rc" | grep -F 'outcome="ok"' | sed 's/.*le="\([^"]*\)".* \(.*\)/\1 \2/' |
    sed 's/^+Inf/1e99/' | sort -g | awk '$2 < prev {bad = 1} {prev = $2} END {print bad ? "decreasing" : "ok"}')"
want_sum=$(oc_value $DB "SELECT total_ms / 1000 FROM order_credit.stats WHERE operation = 'reserve_credit' AND outcome = 'ok'")
oc_check "latency sum = total_ms / 1000" ok "$(awk -v a="$want_sum" -v b="$(value "$M" order_credit_latency_seconds_sum "$rc" 'outcome="ok"')" \
    'BEGIN {d = a - b; if (d < 0) d = -d; print (d <= 1e-9 + 1e-6 * a) ? "ok" : a " vs " b}')"

# Stock, threshold 2 for the exporter's role: m-low (1 left) and m-out (0).
oc_check "low stock threshold" 2 "$(value "$M" order_credit_stock_low_threshold)"
oc_check "low stock m-low" 1 "$(value "$M" order_credit_stock_low_available 'sku="m-low"')"
oc_check "low stock m-out" 0 "$(value "$M" order_credit_stock_low_available 'sku="m-out"')"
oc_check "low stock series" 2 "$(grep -c "^order_credit_stock_low_available{" "$M")"
oc_check "skus" 3 "$(value "$M" order_credit_stock_skus)"
oc_check "skus low" 2 "$(value "$M" order_credit_stock_skus_low)"
oc_check "available units" 101 "$(value "$M" order_credit_stock_available_units)"
oc_check "reserved units" 5 "$(value "$M" order_credit_stock_reserved_units)"

# Expiry: 7 live holds (m-soon due within the minute), m-short overdue.
oc_check "active holds" 7 "$(value "$M" order_credit_expiry_active 'kind="hold"')"
oc_check "holds due in the next minute" 1 "$(value "$M" order_credit_expiry_due_next_minute 'kind="hold"')"
oc_check "overdue holds" 1 "$(value "$M" order_credit_expiry_overdue 'kind="hold"')"
# The lag scraped is m-short's age past its expiry at the scrape: above 0,
# at most its age now (read after the scrape), and not by much less.
now_lag=$(oc_value $DB "SELECT extract(epoch FROM now() - expires_at) FROM order_credit.holds WHERE order_ref = 'm-short'")
oc_check "sweeper lag of holds = m-short's age past expiry" ok \
    "$(awk -v v="$(value "$M" order_credit_expiry_lag_seconds 'kind="hold"')" -v now="$now_lag" \
        'BEGIN {print (v > 0 && v <= now && v > now - 10) ? "ok" : v " (now " now ")"}')"
oc_check "active reservations" 5 "$(value "$M" order_credit_expiry_active 'kind="reservation"')"
oc_check "overdue reservations" 0 "$(value "$M" order_credit_expiry_overdue 'kind="reservation"')"
oc_check "lag of reservations" 0 "$(value "$M" order_credit_expiry_lag_seconds 'kind="reservation"')"
oc_check "active orders" 0 "$(value "$M" order_credit_expiry_active 'kind="order"')"
oc_check "verify violations" 0 "$(value "$M" order_credit_verify_violations)"

# expire_due() sweeps m-short: no lag any more.
oc_check "expire_due swept the overdue hold" 1 "$(oc_value $DB "SELECT order_credit.expire_due()")"
scrape "$M" || oc_die "second scrape"
oc_check "overdue holds after expire_due" 0 "$(value "$M" order_credit_expiry_overdue 'kind="hold"')"
oc_check "sweeper lag after expire_due" 0 "$(value "$M" order_credit_expiry_lag_seconds 'kind="hold"')"
oc_check "calls expire_due ok" 1 "$(value "$M" order_credit_calls 'operation="expire_due"' 'outcome="ok"')"

# The alert rules.
oc_check "promtool check rules" 0 "$(promtool check rules $P/order_credit.rules.yml >"$OC_TMP/check.log" 2>&1; echo $?)"
oc_check "promtool test rules" 0 "$(cd $P && promtool test rules order_credit.rules.test.yml >"$OC_TMP/test.log" 2>&1; echo $?)"
[ "$OC_FAILURES" -eq 0 ] || { cat "$OC_TMP/check.log" "$OC_TMP/test.log"; grep "^order_credit" "$M" | head -n 80; }
[ "$OC_FAILURES" -eq 0 ]
