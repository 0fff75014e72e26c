#!/usr/bin/env bash
# Stress scenario (credit lines): 20 sessions at once each reserve 10,000 on
# a 100,000 credit line, with distinct order_refs. Exactly 10 must succeed
# and 10 get OC001 (insufficient_credit); afterwards verify() returns no
# rows, pending = 100000, available = 0, and the ledger has exactly 10 hold
# entries for the account.
#
# Run twice: once with reserve_credit (codes read from psql's error output
# with VERBOSITY=sqlstate) and once with try_reserve_credit (codes from its
# result), each on its own account. The 20 sessions are released together by
# an advisory-lock barrier once pg_locks shows all 20 of them waiting on it.
#
# Needs PGHOST/PGPORT/PGUSER (test/run_all.sh exports them). Exits non-zero
# on any failure.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

DB=oc_stress_credit
SESSIONS=20
LIMIT=100000
AMOUNT=10000
EXPECT_OK=$((LIMIT / AMOUNT))
BARRIER_KEY=42

OC_TMP=$(mktemp -d /tmp/oc_stress_credit.XXXXXX)
trap oc_cleanup EXIT

oc_fresh_db "$DB" >/dev/null || oc_die "cannot create database $DB"

# run_round MODE ACCOUNT: 20 concurrent reservations; prints nothing, leaves
# one line per session in $OC_TMP/ACCOUNT.codes ("ok" or a SQLSTATE).
run_round() {
    local mode=$1 account=$2 i pids=() sql
    oc_value "$DB" "SELECT available FROM order_credit.create_account('$account', $LIMIT)" >/dev/null ||
        oc_die "create_account $account"
    oc_barrier_hold "$DB" "$BARRIER_KEY"
    for i in $(seq 1 $SESSIONS); do
        if [ "$mode" == reserve ]; then
            sql="SELECT 'RESULT ok ' || hold_id FROM order_credit.reserve_credit(:'acct', $AMOUNT, :'ref');"
        else
            sql="SELECT 'RESULT ' || CASE WHEN ok THEN 'ok ' || hold_id ELSE code END
                   FROM order_credit.try_reserve_credit(:'acct', $AMOUNT, :'ref');"
        fi
        # The lock_timeout is raised so that a slow machine cannot turn queueing on
        # the account row into 55P03; the scenario is about the credit check.
        printf '%s\n' "SET order_credit.lock_timeout = '30s';" \
            "SELECT pg_advisory_lock_shared($BARRIER_KEY);" "$sql" >"$OC_TMP/$account.$i.sql"
        timeout 120 psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$DB" \
            -v acct="$account" -v ref="$account-order-$i" -f "$OC_TMP/$account.$i.sql" \
            >"$OC_TMP/$account.$i.out" 2>"$OC_TMP/$account.$i.err" &
        pids+=($!)
        OC_PIDS+=($!)
    done
    if ! oc_wait_for "$DB" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                              AND classid = 0 AND objid = $BARRIER_KEY AND objsubid = 1
                              AND NOT granted" "$SESSIONS" 60; then
        oc_die "not all $SESSIONS sessions reached the barrier"
    fi
    oc_log "$mode: $(oc_barrier_waiters "$DB" "$BARRIER_KEY") sessions waiting on the barrier; releasing"
    oc_barrier_release
    for i in "${pids[@]}"; do wait "$i"; done
    : >"$OC_TMP/$account.codes"
    for i in $(seq 1 $SESSIONS); do
        local out err code
        out=$(grep -oE '^RESULT .*' "$OC_TMP/$account.$i.out" | head -n 1)
        err=$(grep -oE 'ERROR:  [0-9A-Z]{5}' "$OC_TMP/$account.$i.err" | head -n 1)
        if [ -n "$out" ] && [ -z "$err" ]; then
            code=$(echo "$out" | awk '{print $2}')
            # try_reserve_credit reports code names; map the expected one.
            [ "$code" == insufficient_credit ] && code=OC001
        elif [ -n "$err" ]; then
            code=${err#ERROR:  }
        else
            code="no-result"
            oc_log "session $i: no result; stderr: $(head -c 300 "$OC_TMP/$account.$i.err")"
        fi
        echo "$code" >>"$OC_TMP/$account.codes"
    done
}

# check_round MODE ACCOUNT: the invariants after a round.
check_round() {
    local mode=$1 account=$2 n_ok n_oc001 n_other
    n_ok=$(grep -c '^ok$' "$OC_TMP/$account.codes")
    n_oc001=$(grep -c '^OC001$' "$OC_TMP/$account.codes")
    n_other=$(grep -vcE '^(ok|OC001)$' "$OC_TMP/$account.codes")
    oc_check "$mode: sessions that got a hold" "$EXPECT_OK" "$n_ok"
    oc_check "$mode: sessions refused with OC001" "$((SESSIONS - EXPECT_OK))" "$n_oc001"
    oc_check "$mode: sessions with any other outcome" 0 "$n_other"
    [ "$n_other" -ne 0 ] && oc_log "$mode: outcomes: $(sort "$OC_TMP/$account.codes" | uniq -c | tr '\n' ' ')"
    oc_check "$mode: credit_status (limit|posted|pending|available)" "$LIMIT|0|$LIMIT|0" \
        "$(oc_value "$DB" "SELECT credit_limit::float8 || '|' || posted::float8 || '|' ||
                                  pending::float8 || '|' || available::float8
                             FROM order_credit.credit_status('$account')")"
    oc_check "$mode: ledger hold entries" "$EXPECT_OK" \
        "$(oc_value "$DB" "SELECT count(*) FROM order_credit.ledger
                            WHERE account = '$account' AND kind = 'hold'")"
    oc_check "$mode: ledger sum of hold amounts" "$LIMIT" \
        "$(oc_value "$DB" "SELECT coalesce(sum(amount), 0)::float8 FROM order_credit.ledger
                            WHERE account = '$account' AND kind = 'hold'")"
    oc_check "$mode: pending holds" "$EXPECT_OK" \
        "$(oc_value "$DB" "SELECT count(*) FROM order_credit.holds
                            WHERE account = '$account' AND status = 'pending'")"
    # The sessions that reported success are exactly the ones holding credit.
    local want got
    want=$(for i in $(seq 1 $SESSIONS); do
        [ "$(sed -n "${i}p" "$OC_TMP/$account.codes")" == ok ] && echo "$account-order-$i"
    done | sort | tr '\n' ' ')
    got=$(oc_value "$DB" "SELECT order_ref FROM order_credit.holds WHERE account = '$account'
                           ORDER BY order_ref COLLATE \"C\"" | sort | tr '\n' ' ')
    oc_check "$mode: order_refs holding credit = sessions told ok" "$want" "$got"
}

run_round reserve stress-acct-1
check_round reserve stress-acct-1
run_round try stress-acct-2
check_round try stress-acct-2

violations=$(oc_value "$DB" "SELECT count(*) FROM order_credit.verify()")
oc_check "verify() rows" 0 "$violations"
[ "$violations" != 0 ] && oc_psql -d "$DB" -c "SELECT * FROM order_credit.verify()"

if [ "$OC_FAILURES" -eq 0 ]; then
    oc_log "PASS: $SESSIONS concurrent sessions x 2 rounds (reserve_credit, try_reserve_credit):" \
        "$EXPECT_OK holds and $((SESSIONS - EXPECT_OK)) OC001 each, pending=$LIMIT, verify() clean"
    exit 0
fi
oc_log "FAILED: $OC_FAILURES check(s)"
exit 1
