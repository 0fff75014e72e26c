#!/usr/bin/env bash
# pg_regress test/monitoring/sql/latency.sql on a throwaway cluster with
# order_credit in shared_preload_libraries (the percentiles and buckets of
# order_credit.stats need it; the default regress cluster does not preload).
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/monitoring/lib/common.sh

PORT=$((${OC_MONITORING_PORT:-55616} + 3))
OC_TMP=$(mktemp -d /tmp/oc_latency.XXXXXX)
chmod 755 "$OC_TMP"
mon_cluster "$OC_TMP/c" "$PORT" "order_credit.database = 'postgres'"

REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
"$REGRESS" --inputdir=test/monitoring --outputdir="$OC_TMP/out" --host="$OC_TMP/c" --port="$PORT" \
    --user=postgres --dbname=oc_latency --load-extension=order_credit latency
rc=$?
[ $rc -ne 0 ] && [ -f "$OC_TMP/out/regression.diffs" ] && cat "$OC_TMP/out/regression.diffs"
exit $rc
