#!/usr/bin/env bash
# docs/operations.md cannot rot: on a throwaway cluster with the extension
# preloaded (its sweeper serving another database), the shop of
# operations_fixture.sql, then every recipe of the doc in order, each
# compared with the output the doc shows (column names and row count).
#
#   test/monitoring/operations_doc.sh            check
#   test/monitoring/operations_doc.sh --update   write the real output into the doc
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/monitoring/lib/common.sh

PORT=$((${OC_MONITORING_PORT:-55616} + 2))
DB=shop
OC_TMP=$(mktemp -d /tmp/oc_opsdoc.XXXXXX)
chmod 755 "$OC_TMP"
mon_cluster "$OC_TMP/c" "$PORT" "order_credit.database = 'postgres'"
export PGHOST=$OC_TMP/c PGPORT=$PORT PGUSER=postgres

oc_fresh_db $DB || oc_die "cannot create $DB"
psql -X -q -d $DB -f test/monitoring/operations_fixture.sql >"$OC_TMP/fixture.log" 2>&1
oc_check "fixture: the refusals it makes (and no other error)" 5 \
    "$(grep -c "ERROR: " "$OC_TMP/fixture.log")"
if [ "${1:-}" = --update ]; then
    /usr/bin/python3 test/monitoring/operations_doc.py --update docs/operations.md $DB
else
    /usr/bin/python3 test/monitoring/operations_doc.py docs/operations.md $DB
fi
rc=$?
[ "$OC_FAILURES" -eq 0 ] && [ $rc -eq 0 ]
